"""Tiny ParsedFile/ParsedSheet objects built in code, and a digest of the warehouse tables."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dealersync.parsed import PARSED, ParsedFile, ParsedSheet
from dealersync.schemas.contract import PROBLEM_COLUMNS, REJECTED, SHEETS, WARNING
from dealersync.warehouse.load import load_file
from dealersync.warehouse.runs import start_run

POLARS_TYPES = {
    "str": pl.Utf8,
    "enum": pl.Utf8,
    "int": pl.Int64,
    "dec": pl.Decimal(18, 2),
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "bool": pl.Boolean,
}


def as_text(value: object) -> str | None:
    """A typed value as a cell's text would read."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def business_key(kind: str, row: dict) -> str:
    return "|".join(str(row.get(k) or "") for k in SHEETS[kind].key)


def parsed_sheet(
    kind: str,
    rows: list[dict],
    *,
    sheet: str | None = None,
    rejected: list[dict] = (),
    problems: list[dict] = (),
    headers: dict[str, str] | None = None,
) -> ParsedSheet:
    """A ParsedSheet: `rows` (typed values) load; `rejected` rows (text) only reach raw; `problems` as checks wrote them.

    Excel rows count from 2 in the order rows then rejected, unless a row gives its own `excel_row`.
    A problem names its row by `excel_row`; its business key and dealer default to that row's.
    """
    spec = SHEETS[kind]
    numbered: list[dict] = []
    for index, row in enumerate([*rows, *rejected]):
        numbered.append({"excel_row": row.get("excel_row", index + 2), **row})
    clean_rows = numbered[: len(rows)]
    schema = {"excel_row": pl.Int64, **{c.name: POLARS_TYPES[c.type] for c in spec.columns}}
    clean = pl.DataFrame(
        [{name: row.get(name) for name in schema} for row in clean_rows], schema=schema, orient="row"
    )
    raw_schema = {"excel_row": pl.Int64, **{name: pl.Utf8 for name in spec.names}, "_extra": pl.Utf8}
    raw = pl.DataFrame(
        [
            {
                "excel_row": row["excel_row"],
                **{n: as_text(row.get(n)) for n in spec.names},
                "_extra": row.get("_extra"),
            }
            for row in numbered
        ],
        schema=raw_schema,
        orient="row",
    )
    by_row = {row["excel_row"]: row for row in numbered}
    problem_rows = []
    for problem in problems:
        row = by_row.get(problem["excel_row"], {})
        field = problem.get("field", "")
        problem_rows.append(
            {
                "sheet": sheet or kind,
                "kind": kind,
                "field": field,
                "column_name": field,
                "cell_value": as_text(row.get(field)),
                "message": f"{field} breaks {problem['rule']}",
                "message_zh": f"{field} 违反 {problem['rule']}",
                "severity": REJECTED,
                "dealer_code": row.get("dealer_code") or "",
                "business_key": business_key(kind, row),
                **problem,
            }
        )
    problems_frame = pl.DataFrame(
        [{c: p.get(c) for c in PROBLEM_COLUMNS} for p in problem_rows],
        schema={c: pl.Int64 if c == "excel_row" else pl.Utf8 for c in PROBLEM_COLUMNS},
        orient="row",
    )
    return ParsedSheet(
        sheet=sheet or kind,
        kind=kind,
        header_row=1,
        headers=headers or {name: name for name in spec.names},
        extra_headers=[],
        raw=raw,
        clean=clean,
        problems=problems_frame,
    )


def parsed_file(*sheets: ParsedSheet, name: str = "dealer.xlsx") -> ParsedFile:
    """A ParsedFile whose sha256 follows its content: the same sheets give the same hash."""
    digest = hashlib.sha256()
    for sheet in sheets:
        digest.update(sheet.sheet.encode())
        digest.update(sheet.raw.write_csv().encode())
        digest.update(sheet.problems.write_csv().encode())
    return ParsedFile(
        path=Path(name),
        file_name=name,
        sha256=digest.hexdigest(),
        size_bytes=1000,
        status=PARSED,
        source="dealer",
        sheets=list(sheets),
    )


def warning(excel_row: int, field: str, rule: str, **more) -> dict:
    return {"excel_row": excel_row, "field": field, "rule": rule, "severity": WARNING, **more}


def rejection(excel_row: int, field: str, rule: str, **more) -> dict:
    return {"excel_row": excel_row, "field": field, "rule": rule, "severity": REJECTED, **more}


def table_digests(con: duckdb.DuckDBPyConnection, schemas=("raw", "core", "quarantine")) -> dict[str, tuple]:
    """Row count and an order-independent hash of every table of `schemas`."""
    tables = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN "
        f"({', '.join(repr(s) for s in schemas)}) ORDER BY 1"
    ).fetchall()
    return {
        name: con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {name} AS t").fetchone()
        for (name,) in tables
    }


def load_on(con: duckdb.DuckDBPyConnection, as_of: date, sheet: ParsedSheet) -> None:
    """Load one sheet as a file of its own, in a new run of the day `as_of`."""
    name = f"{sheet.kind}.xlsx"
    load_file(con, parsed_file(sheet, name=name), run_id=start_run(con, as_of=as_of, inbox=None), as_of=as_of)
