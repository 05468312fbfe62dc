"""The command line run as a shell runs it: main(), with its exit code and what it printed."""

from __future__ import annotations

import pytest

from dealersync.flows.cli import main


def run_main(args, capsys, monkeypatch) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `dealersync ARGS`."""
    monkeypatch.setattr("sys.argv", ["dealersync", *map(str, args)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code or 0, captured.out, captured.err
