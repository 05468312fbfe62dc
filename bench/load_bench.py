"""Benchmark: loading one 200k-row dealer workbook into the warehouse (target ~1-2 s).

Builds parsed files in memory (polars frames as the checks hand them over, no xlsx): 40k customer rows,
80k service visits, 60k calls, 10k letters, 10k complaints; 1% of rows rejected, 2% warned. First loads
`--history` other dealers' workbooks so the tables are not empty, then times, for one dealer:
a first load, a corrected resend (5% of rows changed, customers among them with a new phone; 5% new rows),
and the identical file again. Prints the wall time of each load_file (commit and any automatic
checkpoint included), the time inside the transaction, and rows per second.

    .venv/bin/python bench/load_bench.py [--rows 200000] [--history 4] [--threads 2] [--file /tmp/bench.duckdb]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl

from dealersync.parsed import PARSED, ParsedFile, ParsedSheet
from dealersync.schemas.contract import SHEETS
from dealersync.warehouse.db import open_warehouse
from dealersync.warehouse.load import load_file

POLARS_TYPES = {
    "str": pl.Utf8,
    "enum": pl.Utf8,
    "int": pl.Int64,
    "dec": pl.Decimal(18, 2),
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "bool": pl.Boolean,
}
SHARES = {
    "customers": 0.2,
    "service_visits": 0.4,
    "follow_up_calls": 0.3,
    "letters": 0.05,
    "complaints": 0.05,
}


def column_values(kind: str, name: str, row: pl.Expr, version: pl.Expr, dealer: str) -> pl.Expr:
    """A plausible typed value of one column for row number `row` (`version` changes the row's values)."""
    column = SHEETS[kind].column(name)
    customers = 40_000
    if name == "dealer_code":
        return pl.lit(dealer)
    if name == "customer_id":
        return pl.format("C{}", (row % customers).cast(pl.Utf8).str.zfill(6))
    if name == "vin":
        return pl.format("LSVAB4BR5E{}", (row % customers).cast(pl.Utf8).str.zfill(7))
    if name == "phone":
        return pl.format("13{}", ((row % customers) * 7 + version * 1_000_003).cast(pl.Utf8).str.zfill(9))
    if name in SHEETS[kind].key:
        return pl.format(name[:2].upper() + "{}", row.cast(pl.Utf8).str.zfill(8))
    if column.enum is not None:
        codes = column.enum.codes
        return pl.lit(pl.Series(codes)).get(row % len(codes))
    if column.type == "str":
        return pl.format("{} {}", pl.lit(column.zh), row % 997)
    if column.type == "int":
        return (row % 900 + 1 + version).cast(pl.Int64)
    if column.type == "dec":
        return ((row % 1000) * 3 + version).cast(pl.Decimal(18, 2))
    if column.type == "date":
        return pl.lit(date(2024, 1, 1)) + pl.duration(days=row % 300)
    if column.type == "datetime":
        return pl.lit(datetime(2024, 1, 1, 9)) + pl.duration(minutes=row % 100_000)
    return row % 2 == 0


def sheet(kind: str, rows: int, *, dealer: str, changed: float = 0.0, new: float = 0.0) -> ParsedSheet:
    """A checked sheet of `rows` rows; `changed` of them with other values, `new` of them new keys."""
    spec = SHEETS[kind]
    index = pl.int_range(0, rows, eager=True).alias("i")
    frame = pl.DataFrame(index).with_columns(
        row=pl.when(pl.col("i") < rows * (1 - new)).then(pl.col("i")).otherwise(pl.col("i") + 10_000_000),
        version=(pl.col("i") % 100 < changed * 100).cast(pl.Int64),
    )
    clean = frame.select(
        excel_row=pl.col("i") + 2,
        **{
            c.name: column_values(kind, c.name, pl.col("row"), pl.col("version"), dealer)
            for c in spec.columns
        },
    ).with_columns(pl.col(c.name).cast(POLARS_TYPES[c.type]) for c in spec.columns)
    if kind == "customers":
        clean = clean.with_columns(pl.col("warranty_end").dt.offset_by("2y"))
    raw = clean.with_columns(pl.col(name).cast(pl.Utf8) for name in spec.names).with_columns(
        _extra=pl.lit(None, pl.Utf8)
    )
    key = pl.concat_str([pl.col(k) for k in spec.key], separator="|")

    def problems(rows_: pl.DataFrame, severity: str, rule: str) -> pl.DataFrame:
        return rows_.select(
            sheet=pl.lit(kind),
            kind=pl.lit(kind),
            excel_row="excel_row",
            field=pl.lit(spec.names[-1]),
            column_name=pl.lit(spec.column(spec.names[-1]).zh),
            cell_value=pl.lit("?"),
            rule=pl.lit(rule),
            message=pl.lit("bench"),
            message_zh=pl.lit("bench"),
            severity=pl.lit(severity),
            dealer_code=pl.lit(dealer),
            business_key=key,
        )

    rejected = pl.col("excel_row") % 100 == 0
    warned = pl.col("excel_row") % 50 == 1
    found = pl.concat(
        [
            problems(clean.filter(rejected), "rejected", "required"),
            problems(clean.filter(warned), "warning", "w"),
        ]
    )
    headers = {name: spec.column(name).zh for name in spec.names}
    return ParsedSheet(kind, kind, 1, headers, [], raw, clean.filter(~rejected), found)


def workbook(rows: int, *, dealer: str, name: str, changed: float = 0.0, new: float = 0.0) -> ParsedFile:
    sheets = [
        sheet(kind, int(rows * share), dealer=dealer, changed=changed, new=new)
        for kind, share in SHARES.items()
    ]
    return ParsedFile(Path(name), name, f"sha-{name}", 0, PARSED, "dealer", sheets=sheets)


def timed_load(con, parsed: ParsedFile, run_id: int, as_of: date) -> tuple[float, float, int]:
    started = time.perf_counter()
    loaded = load_file(con, parsed, run_id=run_id, as_of=as_of)
    return time.perf_counter() - started, loaded.seconds, loaded.rows_read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=4, help="other dealers' workbooks loaded first")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--file", type=Path, default=Path("/tmp/dealersync-load-bench.duckdb"))
    args = parser.parse_args()
    args.file.unlink(missing_ok=True)
    con = open_warehouse(args.file)
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    for n in range(args.history):
        load_file(
            con, workbook(args.rows, dealer=f"H{n:03d}", name=f"h{n}.xlsx"), run_id=1, as_of=date(2024, 11, 1)
        )
    con.execute("CHECKPOINT")
    cases = [
        ("first load", workbook(args.rows, dealer="D0001", name="d1.xlsx")),
        ("corrected resend", workbook(args.rows, dealer="D0001", name="d1-v2.xlsx", changed=0.05, new=0.05)),
        ("same file again", workbook(args.rows, dealer="D0001", name="d1-v2.xlsx", changed=0.05, new=0.05)),
    ]
    for run_id, (label, parsed) in enumerate(cases, start=2):
        wall, inside, rows = timed_load(con, parsed, run_id, date(2024, 11, run_id))
        print(
            f"{label:18} {rows:>8,} rows  {wall:5.2f} s wall  {inside:5.2f} s in transaction  {rows / wall:>9,.0f} rows/s"
        )
    started = time.perf_counter()
    con.execute("CHECKPOINT")
    print(f"checkpoint         {time.perf_counter() - started:5.2f} s")
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"warehouse {args.file.stat().st_size / 2**20:,.0f} MB, peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
