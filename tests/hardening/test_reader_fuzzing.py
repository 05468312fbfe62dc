"""Fuzzing the reader: mutated workbooks get a verdict for every row or a refusal, never an unhandled exception.

The suite runs a bounded, repeatable number of mutants. To run longer, with fresh random mutants each time:

    HARDENING_FUZZ_EXAMPLES=5000 HARDENING_FUZZ_KEEP=/tmp/fuzz .venv/bin/python -m pytest -p no:randomly \\
        tests/hardening/test_reader_fuzzing.py -x -s

HARDENING_FUZZ_KEEP keeps the mutant being read as <dir>/current (and every failing one as <dir>/failed-N),
so that one that kills the process outright (an abort in native code) is left behind to reproduce.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reader_fuzz import mutants, seed_workbooks, verdicts

SUITE_EXAMPLES = 40
EXAMPLES = int(os.environ.get("HARDENING_FUZZ_EXAMPLES", SUITE_EXAMPLES))
KEEP = os.environ.get("HARDENING_FUZZ_KEEP")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return seed_workbooks(tmp_path_factory.mktemp("seeds"))


def test_every_seed_workbook_reads_with_a_verdict_for_every_row(seeds, aliases, tmp_path):
    for seed in seeds:
        path = tmp_path / seed.name
        path.write_bytes(seed.data)
        assert verdicts(path, aliases).startswith("read: ")


def test_mutated_workbooks_get_a_verdict_for_every_row_or_a_refusal(seeds, aliases, tmp_path):
    outcomes: Counter[str] = Counter()
    folder = Path(KEEP) if KEEP else tmp_path
    folder.mkdir(parents=True, exist_ok=True)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=EXAMPLES == SUITE_EXAMPLES,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def read_a_mutant(data):
        what, content = data.draw(mutants(seeds))
        path = folder / ("current.xls" if not content.startswith(b"PK") else "current.xlsx")
        path.write_bytes(content)
        try:
            verdict = verdicts(path, aliases)
        except BaseException:
            if KEEP:
                (folder / f"failed-{sum(outcomes.values())}{path.suffix}").write_bytes(content)
            raise
        outcomes[f"{what} -> {verdict.split(':')[0]}"] += 1

    read_a_mutant()
    print("\n".join(f"{count:5} {outcome}" for outcome, count in sorted(outcomes.items())))
    assert sum(outcomes.values()) >= min(EXAMPLES, SUITE_EXAMPLES) // 2
