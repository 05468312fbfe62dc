"""The command line as a user meets it: exit codes, messages, and no tracebacks for their mistakes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from cli_main import run_main
from typer.testing import CliRunner

from dealersync.flows.cli import app
from dealersync.samples import generate_inbox

TODAY = date(2026, 11, 20)
runner = CliRunner()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> tuple[Path, object]:
    """A small generated inbox: clean dealer files, one dealer file with bad cells, one bad file."""
    folder = tmp_path_factory.mktemp("cli") / "inbox"
    manifest = generate_inbox(
        folder, today=TODAY, dealers=2, visits_per_dealer=40, seed=3, bad_cell_rate=0.05, with_bad_file=True
    )
    return folder, manifest


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_validate_a_clean_reference_workbook_exits_0(inbox):
    _, manifest = inbox
    result = invoke("validate", str(manifest.reference_file), "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    assert "dealers" in result.output and "rejected" in result.output


def test_validate_with_bad_cells_lists_them_and_exits_1(inbox):
    _, manifest = inbox
    dealer_file = next(iter(manifest.dealer_files.values()))
    bad_here = [b for b in manifest.bad_cells if b.file == dealer_file.name]
    assert bad_here
    result = invoke(
        "validate",
        str(dealer_file),
        str(manifest.reference_file),
        "--today",
        TODAY.isoformat(),
        "--show",
        "0",
    )
    assert result.exit_code == 1, result.output
    assert f"dealers, parts, campaigns from {manifest.reference_file.name}" in result.output
    for bad in bad_here:
        assert f"{bad.sheet}!{bad.column_name} row {bad.excel_row}" in result.output


def test_validate_without_references_says_the_checks_were_skipped(inbox):
    _, manifest = inbox
    dealer_file = next(iter(manifest.dealer_files.values()))
    result = invoke("validate", str(dealer_file), "--today", TODAY.isoformat())
    assert "skipped (no warehouse and no reference workbook given)" in result.output


def test_validate_a_refused_file_exits_2_with_its_reason(inbox):
    folder, manifest = inbox
    (refused,) = manifest.refused_files
    result = invoke("validate", str(folder / refused))
    assert result.exit_code == 2
    assert "refused" in result.output and "not an Excel workbook" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["validate", "no-such-file.xlsx"], "no such file: no-such-file.xlsx"),  # a typo in the file name
        (
            ["sql", "select 1", "--warehouse", "nowhere.duckdb"],
            "no warehouse at nowhere.duckdb",
        ),  # wrong path
        (["validate", "x.xlsx", "--today", "26/11/2026"], "is not a date"),  # a date in the wrong form
    ],
)
def test_user_mistakes_end_in_one_line_and_exit_2(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.xlsx").write_bytes(b"")
    code, out, err = run_main(args, capsys, monkeypatch)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("TIMEZONE", "Asia/Shangai", "DEALERSYNC_TIMEZONE: unknown time zone 'Asia/Shangai'"),
        ("WORKERS", "two", "DEALERSYNC_WORKERS: Input should be a valid integer"),
        # was a run failing after its Prefect server started: "ValueError: max_workers must be greater than 0"
        ("WORKERS", "0", "DEALERSYNC_WORKERS: Input should be greater than or equal to 1"),
        (
            "TASK_RUNNER",
            "threads",
            "DEALERSYNC_TASK_RUNNER: Input should be 'auto', 'thread', 'process' or 'dask'",
        ),
        ("PORTAL_TOKENS", "{not json", 'error parsing value for field "portal_tokens"'),
        # a token is a key of the setting: named by the setting alone, never by the token
        (
            "PORTAL_TOKENS",
            '{"a-long-enough-portal-token-0123": 5}',
            "DEALERSYNC_PORTAL_TOKENS: Input should be",
        ),
    ],
)
@pytest.mark.parametrize("command", [["summary"], ["due-list"], ["validate", "x.xlsx"]])
def test_a_mistyped_setting_is_one_line_naming_it(
    setting, value, message, command, capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"DEALERSYNC_{setting}", value)
    (tmp_path / "x.xlsx").write_bytes(b"")
    code, out, err = run_main(command, capsys, monkeypatch)
    assert code == 2
    assert f"error: invalid settings: {message}" in " ".join(err.split())
    assert "Traceback" not in err + out
    assert "portal-token" not in err.lower()


def test_a_setting_is_read_in_any_case(monkeypatch):
    from dealersync.settings import get_settings

    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", " Dask ")
    assert get_settings().task_runner == "dask"


def empty_warehouse(tmp_path: Path) -> Path:
    """A migrated warehouse file with nothing loaded."""
    from dealersync.warehouse.db import open_warehouse

    warehouse = tmp_path / "w.duckdb"
    open_warehouse(warehouse).close()
    return warehouse


def test_sql_prints_a_query_and_refuses_a_write(tmp_path):
    warehouse = empty_warehouse(tmp_path)
    result = invoke("sql", "select count(*) as migrations from etl.schema_migrations", "-w", str(warehouse))
    assert result.exit_code == 0 and "migrations" in result.output
    csv = invoke("sql", "select 42 as answer", "-w", str(warehouse), "--csv")
    assert csv.output.splitlines() == ["answer", "42"]
    nested = invoke("sql", "select [1, 2] as parts, {'k': '值'} as s", "-w", str(warehouse), "--csv")
    assert nested.exit_code == 0 and nested.output.splitlines() == ["parts,s", '"[1, 2]","{""k"": ""值""}"']
    write = runner.invoke(app, ["sql", "delete from etl.runs", "-w", str(warehouse)])
    assert write.exit_code != 0
    assert "read-only" in str(write.exception) or "read-only" in write.output


@pytest.mark.parametrize(
    "statement",
    [
        "copy (select 1 as a) to '{out}'",
        "export database '{folder}'",
        "attach '{folder}.duckdb' as other",
        "select 1; copy (select 1 as a) to '{out}'",
    ],
)
def test_sql_writes_no_file_and_says_why(tmp_path, statement):
    warehouse = empty_warehouse(tmp_path)
    out, folder = tmp_path / "out.csv", tmp_path / "exported"
    result = runner.invoke(app, ["sql", statement.format(out=out, folder=folder), "-w", str(warehouse)])
    assert result.exit_code != 0
    assert "only queries" in str(result.exception) or "one query at a time" in str(result.exception)
    assert not out.exists() and not folder.exists() and not (tmp_path / "exported.duckdb").exists()


def test_sql_explains_a_query(tmp_path):
    warehouse = empty_warehouse(tmp_path)
    result = invoke("sql", "explain select count(*) from etl.runs", "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    assert "physical_plan" in result.output


@pytest.mark.slow
@pytest.mark.xdist_group("prefect")
def test_run_loads_the_inbox_prints_the_table_and_exits_1_for_rejections(
    inbox, tmp_path, prefect_harness, monkeypatch
):
    folder, manifest = inbox
    work = tmp_path / "inbox"
    shutil.copytree(folder, work)
    monkeypatch.setenv("DEALERSYNC_TASK_RUNNER", "thread")
    result = invoke(
        "run", "--inbox", str(work), "--warehouse", str(tmp_path / "w.duckdb"), "--today", TODAY.isoformat()
    )
    assert result.exit_code == 1, result.output  # bad cells were rejected and one file refused
    for path in manifest.files:
        assert path.name in result.output
    assert "refused" in result.output and "loaded" in result.output


def test_validate_reports_a_missing_column_once_per_sheet(tmp_path):
    from workbooks import write_xlsx

    rows = [
        ("经销商代码", "记录编号", "通话时间", "通话类型", "客户编号", "结果")
    ]  # no 业务员 (staff) column
    rows += [("D0001", f"C{i}", "2026-11-01 10:00", "首次回访", "K1", "接通") for i in range(30)]
    path = write_xlsx(tmp_path / "calls.xlsx", {"电话记录": rows})
    result = invoke("validate", str(path), "--today", TODAY.isoformat(), "--show", "0")
    assert result.exit_code == 1
    missing_lines = [line for line in result.output.splitlines() if "业务员" in line]
    assert len(missing_lines) == 1 and "(all 30 rows)" in missing_lines[0]


def test_validate_prints_cells_and_names_as_written_on_one_line_each(tmp_path):
    """What a steward typed is printed as it is: brackets are not styling, a wrapped header is one line."""
    from workbooks import write_xlsx

    rows = [("经销商代码", "客户编号", "客户名称", "联系\n电话", "车架号", "车型")]
    rows += [("D0001", "C1", "张三", "[/]", "LJ1DL26C2TB295811", "M1")]
    rows += [("D0001", "C2", "李四", "13812345678", "[bold]x", "M1")]
    path = write_xlsx(tmp_path / "[red]客户.xlsx", {"客户信息": rows})
    result = invoke("validate", str(path), "--today", TODAY.isoformat(), "--show", "0")
    assert result.exit_code == 1, result.output
    assert "[red]客户.xlsx" in result.output
    phone = [line for line in result.output.splitlines() if '"[/]"' in line]
    assert len(phone) == 1 and "客户信息!联系 电话 row 2: 联系 电话" in phone[0]
    assert any('"[bold]x" is not a VIN' in line for line in result.output.splitlines())


def test_sql_prints_values_as_they_are(tmp_path):
    warehouse = empty_warehouse(tmp_path)
    result = invoke("sql", "select '[/]' as a, '[bold]x' as b", "-w", str(warehouse))
    assert result.exit_code == 0 and "[/]" in result.output and "[bold]x" in result.output


def test_sql_shows_intervals_and_unions_as_duckdb_writes_them(tmp_path):
    """How long an entry has been open (now() - first_seen_at) is an interval, which polars cannot hold:
    the query ended in a traceback and exit code 1. DuckDB's own text of the value is shown instead."""
    warehouse = empty_warehouse(tmp_path)
    query = "select interval 3 day + interval 2 hour as open_for, [interval 1 hour] as tries, union_value(n := 7) as u, 5 as k"
    table = invoke("sql", query, "-w", str(warehouse))
    assert table.exit_code == 0, table.output
    assert "3 days 02:00:00" in table.output and "01:00:00" in table.output
    csv = invoke("sql", query, "-w", str(warehouse), "--csv")
    assert csv.exit_code == 0, csv.output
    assert csv.output.splitlines() == ["open_for,tries,u,k", "3 days 02:00:00,['01:00:00'],7,5"]


def test_sql_shows_lists_of_days_and_times_as_written_not_as_python(tmp_path):
    """mart.due_campaign_pairs.attempt_times is a list of call times: the table showed each one as
    `datetime.datetime(2024, 3, 8, 8, 6)`. It is shown as --csv writes it."""
    warehouse = empty_warehouse(tmp_path)
    query = "select [timestamp '2024-03-08 08:06:00'] as attempt_times, [date '2024-03-01'] as days"
    table = invoke("sql", query, "-w", str(warehouse))
    assert table.exit_code == 0, table.output
    assert "2024-03-08 08:06:00" in table.output and "2024-03-01" in table.output
    assert "datetime" not in table.output


def test_sql_shows_days_and_times_python_cannot_hold_as_duckdb_writes_them(tmp_path):
    """DuckDB allows an 'infinity' date (an open end of validity written by hand); the query ended in a
    traceback. Every day and time is shown as DuckDB writes it."""
    warehouse = empty_warehouse(tmp_path)
    query = (
        "select 'infinity'::date as valid_to, '-infinity'::timestamp as since, date '2024-03-01' as d, "
        "timestamp '2024-03-08 08:06:00' as t"
    )
    table = invoke("sql", query, "-w", str(warehouse))
    assert table.exit_code == 0, table.output
    assert (
        "infinity" in table.output and "-infinity" in table.output and "2024-03-08 08:06:00" in table.output
    )
    csv = invoke("sql", query, "-w", str(warehouse), "--csv")
    assert csv.output.splitlines() == [
        "valid_to,since,d,t",
        "infinity,-infinity,2024-03-01,2024-03-08 08:06:00",
    ]


def test_validate_a_folder_checks_every_file_in_it(inbox, tmp_path):
    folder, manifest = inbox
    result = invoke("validate", str(folder), "--today", TODAY.isoformat())
    assert result.exit_code == 2  # the inbox holds one bad file
    for path in manifest.files:
        assert path.name in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["validate", str(empty)])
    assert nothing.exit_code != 0 and "no file to check" in str(nothing.exception)


@pytest.mark.parametrize("command", [["sql", "select 1"], ["quarantine"]])
def test_reading_while_the_night_writes_is_one_line_not_a_traceback(command, tmp_path, capsys, monkeypatch):
    from holders import warehouse_held

    warehouse = empty_warehouse(tmp_path)
    with warehouse_held(warehouse):
        code, _, err = run_main([*command, "-w", warehouse], capsys, monkeypatch)
    assert code == 3, err  # busy: nothing was done, try again later
    assert "is being written by another process" in err and "Traceback" not in err


def test_quarantine_of_a_dealer_code_nobody_has_says_so(tmp_path):
    """A mistyped code (D00O1) must not read as "nothing left to fix"."""
    from dealersync.warehouse.db import open_warehouse

    warehouse = tmp_path / "w.duckdb"
    con = open_warehouse(warehouse)
    con.execute("""
    INSERT INTO core.dealers (dealer_code, name, region, valid_from, run_id, file_sha256, sheet, excel_row, loaded_at)
    VALUES ('D0001', '一号店', '华北', DATE '2020-01-01', 1, 'seed', 'test', 2, now())
    """)
    con.close()
    typo = CliRunner().invoke(app, ["quarantine", "-w", str(warehouse), "--dealer", "d00o1"])
    assert typo.exit_code == 0 and "There is no dealer D00O1 in the warehouse: check the code." in typo.output
    known = CliRunner().invoke(app, ["quarantine", "-w", str(warehouse), "--dealer", "D0001"])
    assert (
        "No open quarantine entries for dealer D0001." in known.output
        and "check the code" not in known.output
    )
