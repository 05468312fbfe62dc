"""What a run shows ops: progress over its files, and Prefect artifacts (files, quarantine summary, exports).

Nothing a customer wrote reaches Prefect: artifacts carry file names, counts, rule ids and file-level
reasons only, never cell values, and any long run of digits (a phone) in a reason is masked. The
warehouse keeps the details (etl.files.reason, quarantine.entries).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

# Seven or more digits, possibly grouped by spaces, dashes or dots (a phone, an id card number), but not
# an ISO date; masked wherever free text goes to Prefect.
_DIGIT_RUN = re.compile(r"(?<![\d-])(?!\d{4}-\d{1,2}-\d{1,2}(?!\d))\+?\d(?:[\s.\-]?\d){6,}(?!\d)")
MASK = "[digits hidden]"
PROGRESS_EVERY_SECONDS = 1.0

# (event, file name, files in the night): "start" once, then "checked" and "loaded" per new file.
ProgressListener = Callable[[str, str, int], None]
_listeners: list[ProgressListener] = []


def redact(text: str | None) -> str | None:
    """The text with every phone-like run of digits masked (dates are kept)."""
    return _DIGIT_RUN.sub(MASK, text) if text else text


@contextmanager
def timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    """Add the wall time of the block to `seconds[step]` (a step may run in several blocks)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - started


@contextmanager
def listening(listener: ProgressListener) -> Iterator[None]:
    """Call `listener` with the progress of runs in this process (the CLI's progress bar)."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class NightProgress:
    """Progress of a night over its new files: each is checked, then loaded (or set aside).

    Shown in the Prefect UI as a progress artifact (updated at most once a second) and passed to the
    listeners of this process.
    """

    def __init__(self, files: int, *, key: str = "nightly-progress"):
        self.files = files
        self.steps = 0
        self._shown_at = 0.0
        self._artifact = (
            create_progress_artifact(0.0, key=key, description=f"{files} new file(s): checked, then loaded")
            if files
            else None
        )
        self._tell("start", "")

    def checked(self, file_name: str) -> None:
        """A file was read and checked (or refused)."""
        self._step("checked", file_name)

    def loaded(self, file_name: str) -> None:
        """A file was loaded, set aside or failed: it is done."""
        self._step("loaded", file_name)

    def finish(self) -> None:
        """Show the final figure."""
        if self._artifact is not None:
            update_progress_artifact(self._artifact, self._percent())

    def _step(self, event: str, file_name: str) -> None:
        self.steps += 1
        self._tell(event, file_name)
        if self._artifact is not None and time.monotonic() - self._shown_at >= PROGRESS_EVERY_SECONDS:
            update_progress_artifact(self._artifact, self._percent())
            self._shown_at = time.monotonic()

    def _percent(self) -> float:
        return min(100.0, 100.0 * self.steps / (2 * self.files)) if self.files else 100.0

    def _tell(self, event: str, file_name: str) -> None:
        for listener in list(_listeners):
            listener(event, file_name, self.files)


def files_table(files) -> list[dict]:
    """One row per file as ops see it (the CLI's table and the Prefect artifact)."""
    return [
        {
            "file": f.file_name,
            "kind": f.source or "",
            "status": f.status,
            "read": f.rows_read,
            "loaded": f.rows_loaded,
            "warned": f.rows_warned,
            "rejected": f.rows_rejected,
            "seconds": round(f.seconds, 1),
            "note": redact(f.reason) or "",
        }
        for f in files
    ]


def quarantine_summary(con: duckdb.DuckDBPyConnection, run_id: int) -> tuple[list[dict], int]:
    """Open problems this run's files raised, per severity, sheet kind and rule; and entries it resolved.

    Counts only: the cells themselves stay in quarantine.entries for the stewards.
    """
    rows = con.execute(
        """
        SELECT severity, kind, rule, count(*) AS entries, count(DISTINCT file_name) AS files
        FROM quarantine.entries WHERE run_id = ? AND resolved_at IS NULL
        GROUP BY ALL ORDER BY severity DESC, entries DESC, kind, rule
        """,
        [run_id],
    ).fetchall()
    resolved = con.execute(
        "SELECT count(*) FROM quarantine.entries WHERE resolved_by_run = ?", [run_id]
    ).fetchall()[0][0]
    summary = [{"severity": s, "kind": k, "rule": r, "open entries": n, "files": f} for s, k, r, n, f in rows]
    return summary, resolved


def publish_night(result, quarantine: list[dict], resolved: int) -> None:
    """The run's artifacts in Prefect: its files, its quarantine summary and links to what it wrote."""
    title = f"Run {result.run_id} as of {result.as_of}"
    create_table_artifact(files_table(result.files), key="nightly-files", description=f"{title}: files")
    create_markdown_artifact(
        _quarantine_markdown(quarantine, resolved),
        key="nightly-quarantine",
        description=f"{title}: quarantine",
    )
    create_markdown_artifact(
        _outputs_markdown(result.warehouse, result.outputs, result.seconds),
        key="nightly-exports",
        description=f"{title}: outputs",
    )


def _quarantine_markdown(quarantine: list[dict], resolved: int) -> str:
    lines = ["# Quarantine", ""]
    if quarantine:
        lines += ["| severity | sheet kind | rule | open entries | files |", "|---|---|---|---:|---:|"]
        lines += [
            f"| {q['severity']} | {q['kind']} | {q['rule']} | {q['open entries']} | {q['files']} |"
            for q in quarantine
        ]
    else:
        lines.append("No open problems from this run's files.")
    lines += ["", f"Entries resolved by this run's files: {resolved}."]
    lines.append("Each problem, with its cell, is in quarantine.entries for the stewards.")
    return "\n".join(lines)


def _outputs_markdown(warehouse: Path, outputs: dict[str, str], seconds: dict[str, float]) -> str:
    lines = ["# Outputs", "", f"- Warehouse: `{warehouse}`"]
    for label, location in outputs.items():
        link = Path(location).resolve().as_uri()
        lines.append(f"- {label}: [{location}]({link})")
    if seconds:
        lines += ["", "# Where the time went", "", "| step | seconds |", "|---|---:|"]
        lines += [f"| {step} | {spent:.1f} |" for step, spent in seconds.items()]
    return "\n".join(lines)
