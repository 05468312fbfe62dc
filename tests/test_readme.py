"""The README documents every command of the CLI and every setting, and its guarantees name real tests."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from dealersync.flows.cli import app
from dealersync.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"no section {title!r} in the README"
    return match.group(1)


def test_every_command_has_a_row_with_an_example_in_the_command_table():
    commands = typer.main.get_command(app).commands
    table = section("The command line")
    example = r"\| `(\w+=\S+ )?dealersync "  # an example, perhaps after an environment variable
    missing = [name for name in commands if not re.search(rf"^\| `{name}[` ].*{example}", table, re.M)]
    assert not missing, f"commands without a row and an example in the README: {missing}"


def test_every_setting_is_in_the_configuration_table():
    table = section("Configuration")
    missing = [name for name in Settings.model_fields if f"| `DEALERSYNC_{name.upper()}` |" not in table]
    assert not missing, f"settings missing from the README's configuration table: {missing}"


def test_every_test_a_guarantee_names_exists():
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", section("Guarantees"))
    assert len(named) >= 10
    for path, test in named:
        source = ROOT / path
        assert source.is_file(), path
        if test:
            assert re.search(rf"^def {test}\(", source.read_text(encoding="utf-8"), re.M), f"{path}::{test}"
