"""Load parsed workbooks into the warehouse, each in one transaction (or a group that cannot interact in
one): raw rows, core upserts, history, quarantine."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from dealersync.inbox import printable_name
from dealersync.parsed import PARSED, ParsedFile, ParsedSheet
from dealersync.schemas.contract import (
    CUSTOMER_ATTRIBUTES,
    CUSTOMER_KEY,
    DEALER,
    PROBLEM_COLUMNS,
    REJECTED,
    SHEETS,
    VEHICLE_ATTRIBUTES,
    VEHICLE_KEY,
    WARNING,
)
from dealersync.schemas.messages import message_sql
from dealersync.transforms.normalise import INVISIBLE
from dealersync.warehouse.db import transaction

LOADED, REFUSED, SKIPPED, FAILED = "loaded", "refused", "skipped", "failed"

# Lineage columns of every raw and core row.
LINEAGE = ("run_id", "file_sha256", "sheet", "excel_row", "loaded_at")

# Within a file, reference kinds load first, then customers before the visits that look them up.
LOAD_ORDER = (
    "dealers",
    "parts",
    "campaigns",
    "customers",
    "service_visits",
    "follow_up_calls",
    "letters",
    "complaints",
    "part_batches",
    "part_shipments",
    "part_failures",
)

DEALER_KEY = ("dealer_code",)
DEALER_ATTRIBUTES = tuple(name for name in SHEETS["dealers"].names if name not in DEALER_KEY)

SQL_TYPES = {
    "str": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "dec": "DECIMAL(18,2)",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "bool": "BOOLEAN",
}

# Rules checked against what the warehouse already holds (the others come with the parsed file); their
# texts are in the message catalogue (schemas.messages) like every other rule's.
MILEAGE_BACKWARDS, NO_CUSTOMER_FILE = "mileage_backwards", "no_customer_file"
# A visit sent after a later visit of the same vehicle was loaded, with more kilometres than it showed.
MILEAGE_ABOVE_LATER = "mileage_above_later"
VEHICLE_CHANGED_OWNER = "vehicle_changed_owner"
LOADER_RULES = (MILEAGE_BACKWARDS, MILEAGE_ABOVE_LATER, NO_CUSTOMER_FILE, VEHICLE_CHANGED_OWNER)

# A raw cell the normaliser reads as blank (normalise.folded): spaces of any kind and its invisible characters.
BLANK_CELL = rf"[\s\p{{Z}}{INVISIBLE.removeprefix('[').removesuffix(']')}]*"

QUARANTINE_TABLES = {REJECTED: "quarantine.rejected_rows", WARNING: "quarantine.warnings"}

# Dealer workbooks that cannot touch each other's rows load in one transaction (`load_groups`): each of
# the loader's statements then scans the core table it writes once for the group, not once per file.
# A group's rows are in memory together: at most this many rows read.
GROUP_ROWS = 250_000


@dataclass
class KindLoad:
    """What loading the sheets of one kind did."""

    rows_read: int = 0
    rows_loaded: int = 0
    rows_warned: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0


@dataclass
class FileLoad:
    """What loading one file did: its counts, in total and per sheet kind."""

    file_name: str
    sha256: str
    seconds: float = 0.0
    kinds: dict[str, KindLoad] = field(default_factory=dict)

    @property
    def rows_read(self) -> int:
        return sum(k.rows_read for k in self.kinds.values())

    @property
    def rows_loaded(self) -> int:
        return sum(k.rows_loaded for k in self.kinds.values())

    @property
    def rows_warned(self) -> int:
        return sum(k.rows_warned for k in self.kinds.values())

    @property
    def rows_rejected(self) -> int:
        return sum(k.rows_rejected for k in self.kinds.values())


def load_file(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedFile,
    *,
    run_id: int,
    as_of: date,
    stored_as: str | None = None,
) -> FileLoad:
    """Write one parsed file in one transaction; on any error roll back, leaving the warehouse as before.

    "A corrected file sent again replaces what its rows said before (same business keys), and the
    quarantine entries it fixes are marked resolved. The same file sent twice changes nothing."
    """
    (load,) = load_files(con, [parsed], run_id=run_id, as_of=as_of, stored_as=[stored_as])
    return load


def load_files(
    con: duckdb.DuckDBPyConnection,
    files: list[ParsedFile],
    *,
    run_id: int,
    as_of: date,
    stored_as: list[str | None] | None = None,
) -> list[FileLoad]:
    """Write parsed files in one transaction, as loading them one after the other would; on any error
    roll back, leaving the warehouse as before all of them.

    Files that cannot touch each other's rows (`load_together`) load together: each statement runs once
    for all of them, rather than once per file (each scans the core table it writes).
    """
    for parsed in files:
        if parsed.status != PARSED:
            raise ValueError(
                f"{parsed.file_name} was not parsed ({parsed.status}); record it with record_file"
            )
    if len(files) > 1 and not load_together(con, files, as_of=as_of):
        raise ValueError(
            "these files touch the same dealers or keys, or were loaded before: load them one by one"
        )
    started = time.perf_counter()
    loader = _FileLoader(con, files, run_id=run_id, as_of=as_of)
    try:
        with transaction(con):
            loads = loader.load()
            elapsed, rows = time.perf_counter() - started, sum(load.rows_read for load in loads)
            for parsed, load, stored in zip(files, loads, stored_as or [None] * len(files), strict=True):
                load.seconds = elapsed * (load.rows_read / rows if rows else 1 / len(loads))
                _insert_file_row(con, parsed, run_id=run_id, status=LOADED, load=load, stored_as=stored)
    finally:
        loader.unregister()
    return loads


def load_together(con: duckdb.DuckDBPyConnection, files: list[ParsedFile], *, as_of: date) -> bool:
    """Whether `files` can load in one go as they would one after the other (`load_groups`)."""
    return [len(group) for group in load_groups(con, files, as_of=as_of)] == [len(files)]


def load_groups(
    con: duckdb.DuckDBPyConnection, files: Iterable[ParsedFile], *, as_of: date, max_rows: int = GROUP_ROWS
) -> Iterator[list[ParsedFile]]:
    """`files` in their order, consecutive ones grouped when loading them together (`load_files`) gives
    what loading them one after the other would.

    Files load together when none can touch another's rows: dealer workbooks (every key, reference and
    warning of theirs is within one dealer) with no dealer in common, one sheet of each kind (a second
    sheet of a kind loads after the first), different names, content never loaded before, for a day no
    later run was made for; at most `max_rows` rows read in a group. Any other file is a group of its
    own. Consumed lazily, each group is judged after the one before it was loaded.
    """
    later_runs = con.execute("SELECT count(*) FROM etl.runs WHERE as_of > ?", [as_of]).fetchall()[0][0]
    group: list[ParsedFile] = []
    dealers: set[str] = set()
    group_joins = False  # the group's first file may have others join it
    for parsed in files:
        kinds = [sheet.kind for sheet in parsed.sheets]
        joins = (
            not later_runs
            and parsed.source == DEALER
            and len(set(kinds)) == len(kinds)
            and not con.execute(
                "SELECT count(*) FROM etl.files WHERE status = 'loaded' AND sha256 = ?", [parsed.sha256]
            ).fetchall()[0][0]
        )
        own = _dealers(parsed) if joins else set()
        if (
            joins
            and group_joins
            and not own & dealers
            and parsed.file_name not in {p.file_name for p in group}
            and parsed.sha256 not in {p.sha256 for p in group}
            and sum(p.rows_read for p in group) + parsed.rows_read <= max_rows
        ):
            group.append(parsed)
            dealers |= own
            continue
        if group:
            yield group
        group, dealers, group_joins = [parsed], own, joins
    if group:
        yield group


def _dealers(parsed: ParsedFile) -> set[str]:
    """The dealer codes a parsed file's rows and problems name."""
    columns = [
        frame.get_column("dealer_code").cast(pl.Utf8)
        for sheet in parsed.sheets
        for frame in (sheet.clean, sheet.problems)
        if "dealer_code" in frame.columns
    ]
    return {code for code in pl.concat(columns).unique().to_list() if code} if columns else set()


def record_file(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedFile,
    *,
    run_id: int,
    status: str,
    reason: str | None = None,
    stored_as: str | None = None,
) -> None:
    """Record a file that was refused, skipped or failed to load: its etl.files row, no data."""
    if status not in (REFUSED, SKIPPED, FAILED):
        raise ValueError(f"record_file records refused, skipped or failed files, not {status!r}")
    _insert_file_row(
        con, parsed, run_id=run_id, status=status, reason=reason or parsed.reason, stored_as=stored_as
    )


def loaded_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """SHA-256 of every file already loaded (the same content is not loaded twice)."""
    return {
        sha
        for (sha,) in con.execute("SELECT DISTINCT sha256 FROM etl.files WHERE status = 'loaded'").fetchall()
    }


def _insert_file_row(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedFile,
    *,
    run_id: int,
    status: str,
    load: FileLoad | None = None,
    reason: str | None = None,
    stored_as: str | None = None,
) -> None:
    con.execute(
        """
        INSERT INTO etl.files (run_id, file_name, sha256, size_bytes, source, status, reason, rows_read,
                               rows_loaded, rows_warned, rows_rejected, seconds, processed_at, stored_as)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)
        """,
        [
            run_id,
            printable_name(parsed.file_name),  # a name with odd bytes or escape codes is stored escaped
            parsed.sha256,
            parsed.size_bytes,
            parsed.source,
            status,
            reason,
            load.rows_read if load else parsed.rows_read,
            load.rows_loaded if load else 0,
            load.rows_warned if load else 0,
            load.rows_rejected if load else 0,
            load.seconds if load else None,
            stored_as,
        ],
    )


def business_key_sql(kind: str, alias: str = "") -> str:
    """SQL text of a row's business key as the checks write it: the key's parts joined by `|`."""
    prefix = f"{alias}." if alias else ""
    return f"concat_ws('|', {', '.join(prefix + k for k in SHEETS[kind].key)})"


@dataclass
class _Unit:
    """Sheets of one kind loaded by one pass of the loader's statements: the n-th sheet of that kind of
    each file, stacked, each row with its lineage (file_sha256, file_name, sheet)."""

    kind: str
    sheets: list[tuple[ParsedFile, ParsedSheet]]
    raw: pl.DataFrame
    clean: pl.DataFrame

    @classmethod
    def of(cls, kind: str, sheets: list[tuple[ParsedFile, ParsedSheet]]) -> _Unit:
        lineage = {
            "file_sha256": [parsed.sha256 for parsed, _ in sheets],
            "file_name": [parsed.file_name for parsed, _ in sheets],
            "sheet": [sheet.sheet for _, sheet in sheets],
        }
        return cls(
            kind,
            sheets,
            _stacked([s.raw for _, s in sheets], lineage, how="diagonal_relaxed"),
            _stacked([s.clean for _, s in sheets], lineage, how="diagonal_relaxed"),
        )


def _stacked(
    frames: list[pl.DataFrame], lineage: dict[str, list[str]], how: str = "vertical"
) -> pl.DataFrame:
    """`frames` stacked, each row with its frame's value of every `lineage` column (one value per frame).

    The lineage is repeated once for all the frames: a column of literals added to each frame costs a
    polars call per frame, and a group has hundreds."""
    heights = pl.Series([frame.height for frame in frames], dtype=pl.Int64)
    repeated = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.Utf8) for name, values in lineage.items()}
    ).select(pl.all().repeat_by(heights).explode(empty_as_null=False))  # a frame of no rows: no row
    return pl.concat([pl.concat(frames, how=how), repeated], how="horizontal")


def _units(files: list[ParsedFile]) -> list[_Unit]:
    """The files' sheets in loading order: kinds in LOAD_ORDER; a file's second sheet of a kind after
    its first (as loading each file alone takes them), the same sheet of every file together."""
    places: dict[tuple[int, int], list[tuple[ParsedFile, ParsedSheet]]] = {}
    for parsed in files:
        seen: dict[str, int] = {}
        for sheet in parsed.sheets:
            nth = seen[sheet.kind] = seen.get(sheet.kind, -1) + 1
            places.setdefault((LOAD_ORDER.index(sheet.kind), nth), []).append((parsed, sheet))
    return [_Unit.of(LOAD_ORDER[order], sheets) for (order, _), sheets in sorted(places.items())]


def _repeats_a_key(rows: pl.DataFrame, key: tuple[str, ...]) -> bool:
    """Whether two rows share a key (blank parts equal, as in SQL's PARTITION BY)."""
    if not set(key) <= set(rows.columns):
        return True
    return rows.select(pl.struct(key).is_duplicated().any()).item()


def _same_row(left: str, right: str) -> str:
    """SQL: two aliases' rows are the same row of the same sheet of the same file."""
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in ("file_sha256", "sheet", "excel_row"))


class _FileLoader:
    """The steps of loading files (one, or several that `load_together` allows); the caller holds the
    transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, files: list[ParsedFile], *, run_id: int, as_of: date):
        self.con = con
        self.files = files
        parsed = files[0]  # files loaded together are new content of the latest day: no guards apply
        # The same content loaded before (run --force after an alias was added) says what it said then: it
        # counts from that run's day, and leaves alone what files loaded since then wrote. A file for a day
        # before a run's already made (run --today of a past night) likewise leaves alone what files of
        # later days wrote.
        first_as_of, first_loaded_at, last_day = con.execute(
            "SELECT min(r.as_of), min(f.processed_at), (SELECT max(as_of) FROM etl.runs) "
            "FROM etl.files AS f LEFT JOIN etl.runs AS r USING (run_id) WHERE f.sha256 = ? AND f.status = 'loaded'",
            [parsed.sha256],
        ).fetchone()
        day = as_of if first_as_of is None else min(first_as_of, as_of)
        self.params = {
            "run_id": run_id,
            "as_of": day,
            "sha": parsed.sha256,
            "file_name": parsed.file_name,
            "loaded_at": datetime.now(UTC),
            "first_loaded_at": first_loaded_at,
            "later_days": last_day is not None and last_day > day,  # a run of a later day was made
        }
        self.raw_already_received = first_loaded_at is not None
        self.guards_later_files = first_loaded_at is not None or self.params["later_days"]
        self.registered: list[str] = []

    def run(self, sql: str, **params: object) -> duckdb.DuckDBPyConnection:
        """Execute `sql` with the parameters it names ($run_id, $sheet, ...)."""
        values = {**self.params, **params}
        return self.con.execute(sql, {name: values[name] for name in set(re.findall(r"\$(\w+)", sql))})

    def register(self, name: str, frame: pl.DataFrame) -> str:
        """Name `frame` for the statements. Handed over as Arrow with polars' own string views: DuckDB's
        default conversion copies every text cell into classic Arrow strings first, and scans it slower."""
        self.con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        self.registered.append(name)
        return name

    def load(self) -> list[FileLoad]:
        results = [FileLoad(parsed.file_name, parsed.sha256) for parsed in self.files]
        of_file = {parsed.sha256: result for parsed, result in zip(self.files, results, strict=True)}
        units = _units(self.files)
        cleans = [self.register(f"sheet{index}_clean", unit.clean) for index, unit in enumerate(units)]
        self.note_rows_and_problems(units, cleans)
        self.register_headers(units)
        for index, unit in enumerate(units):
            started = time.perf_counter()
            self.load_sheet(unit, cleans[index], self.register(f"sheet{index}_raw", unit.raw))
            seconds = time.perf_counter() - started
            for parsed, sheet in unit.sheets:
                counts = of_file[parsed.sha256].kinds.setdefault(sheet.kind, KindLoad())
                counts.rows_read += sheet.rows_read
                counts.rows_loaded += sheet.clean.height
                counts.rows_rejected += sheet.rows_rejected
                counts.seconds += seconds * sheet.rows_read / max(1, unit.raw.height)
        warned = self.rows_warned()
        for parsed in self.files:
            for sheet in parsed.sheets:
                of_file[parsed.sha256].kinds[sheet.kind].rows_warned += warned.get(
                    (parsed.sha256, sheet.sheet), 0
                )
        self.forget_keys_written_later(units)
        self.resolve_fixed_entries()
        self.record_problems()
        self.record_sheets(warned)
        self.run("DROP TABLE load_problems")
        self.run("DROP TABLE load_rows")
        return results

    def note_rows_and_problems(self, units: list[_Unit], cleans: list[str]) -> None:
        """Temp tables of the files' loaded rows (file, sheet, Excel row, business key) and of their problems.

        One statement each for all the files (a parsed file has at least one sheet): the warnings found
        in the warehouse join load_problems as the sheets load, and the quarantine is settled from both
        at the end.
        """
        problems = self.register(
            "file_problems",
            _stacked(
                [sheet.problems.select(PROBLEM_COLUMNS) for parsed in self.files for sheet in parsed.sheets],
                {
                    "file_sha256": [parsed.sha256 for parsed in self.files for _ in parsed.sheets],
                    "file_name": [parsed.file_name for parsed in self.files for _ in parsed.sheets],
                },
            ),
        )
        self.run(
            f"""
            CREATE OR REPLACE TEMP TABLE load_problems AS
            SELECT * REPLACE (coalesce(field, '') AS field,
                              coalesce(column_name, '') AS column_name,
                              coalesce(dealer_code, '') AS dealer_code, coalesce(business_key, '') AS business_key)
            FROM {problems}
            """
        )
        rows = [
            f"SELECT '{unit.kind}' AS kind, file_sha256, file_name, sheet, excel_row::BIGINT AS excel_row, "
            f"{business_key_sql(unit.kind)} AS business_key FROM {clean}"
            for unit, clean in zip(units, cleans, strict=True)
        ]
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE load_rows AS {' UNION ALL '.join(rows)}")

    def register_headers(self, units: list[_Unit]) -> None:
        """load_headers: each sheet's header of each field, as its messages name the column."""
        self.register(
            "load_headers",
            pl.DataFrame(
                [
                    (parsed.sha256, sheet.sheet, name, sheet.headers.get(name, name))
                    for unit in units
                    for parsed, sheet in unit.sheets
                    for name in SHEETS[unit.kind].names
                ],
                schema={"file_sha256": pl.Utf8, "sheet": pl.Utf8, "field": pl.Utf8, "header": pl.Utf8},
                orient="row",
            ),
        )

    def unregister(self) -> None:
        """Drop the frames registered with the connection (after the transaction has ended)."""
        for name in self.registered:
            self.con.unregister(name)

    # ---- one sheet -------------------------------------------------------------------------------

    def load_sheet(self, unit: _Unit, clean: str, raw: str) -> None:
        """A unit's raw rows and core rows (`clean` and `raw` name its frames registered with DuckDB)."""
        if not self.raw_already_received or not self.raw_holds(unit):
            self.insert_raw(unit, raw)
        if unit.kind == "dealers":
            self.load_history("dealers", DEALER_KEY, DEALER_ATTRIBUTES, self.source(unit, clean))
        elif unit.kind == "customers":
            self.load_customers(unit, clean, raw)
        elif unit.kind == "service_visits":
            self.load_service_visits(unit, clean, raw)
        elif unit.kind == "parts":
            self.load_parts(unit, clean)
        elif unit.kind == "part_failures":
            self.load_part_failures(unit, clean, raw)
        else:
            spec = SHEETS[unit.kind]
            self.upsert(unit.kind, spec.key, spec.names, self.source(unit, clean))

    def load_parts(self, unit: _Unit, clean: str) -> None:
        """The parts catalogue; failures reported without a component take the part's as it now is."""
        spec = SHEETS["parts"]
        self.upsert("parts", spec.key, spec.names, self.source(unit, clean))
        self.run(
            f"""
            UPDATE core.part_failures AS f SET component = part.component
            FROM core.parts AS part SEMI JOIN {clean} AS c ON c.part_no = part.part_no
            WHERE f.component_derived AND f.part_no = part.part_no AND f.component IS DISTINCT FROM part.component
            """
        )

    def load_part_failures(self, unit: _Unit, clean: str, raw: str) -> None:
        """Failures: "component, when blank, the part's component in `parts`", kept following the part."""
        blank = f"regexp_full_match(coalesce({self.raw_cell(unit, 'component')}, ''), '{BLANK_CELL}')"
        source = self.source(
            unit,
            clean,
            overrides={
                "component": f"CASE WHEN {blank} THEN coalesce(part.component, c.component) ELSE c.component END"
            },
            derived={"component_derived": blank},
            joins=f"""
                JOIN {raw} AS r ON {_same_row("r", "c")}
                LEFT JOIN core.parts AS part ON part.part_no = c.part_no
            """,
        )
        spec = SHEETS["part_failures"]
        self.upsert("part_failures", spec.key, (*spec.names, "component_derived"), source)

    def raw_holds(self, unit: _Unit) -> bool:
        """Whether raw.<kind> holds this sheet of this content already (the file loaded again, --force).

        A sheet an earlier load skipped as unknown (recognised now, after an alias was added) has no raw
        rows yet: they are inserted, so its core rows' lineage leads to them.
        """
        ((_, read),) = unit.sheets  # content loaded before loads alone, one sheet at a time
        found = self.run(
            f"SELECT 1 FROM raw.{unit.kind} WHERE file_sha256 = $sha AND sheet = $sheet LIMIT 1",
            sheet=read.sheet,
        )
        return found.fetchone() is not None

    def insert_raw(self, unit: _Unit, raw: str) -> None:
        """raw.<kind>: every row read, cells as text, unknown columns as JSON in `extra`."""
        known = [c for c in SHEETS[unit.kind].names if c in unit.raw.columns]
        extra = "_extra::JSON" if "_extra" in unit.raw.columns else "NULL::JSON"
        self.run(
            f"""
            INSERT INTO raw.{unit.kind} BY NAME
            SELECT $run_id AS run_id, file_sha256, sheet, excel_row::INTEGER AS excel_row,
                   $loaded_at AS loaded_at, {"".join(f"{c}::VARCHAR AS {c}, " for c in known)}{extra} AS extra
            FROM {raw}
            """
        )

    def source(
        self,
        unit: _Unit,
        clean: str,
        *,
        key: tuple[str, ...] | None = None,
        overrides: dict[str, str] | None = None,
        derived: dict[str, str] | None = None,
        joins: str = "",
    ) -> str:
        """SELECT of a sheet's clean rows, typed as in core, with lineage; the first row of a key wins.

        A column the sheet did not have is NULL. `overrides` replaces a column, `derived` adds one, each
        an SQL expression over the clean rows (alias c) and `joins`.
        """
        spec = SHEETS[unit.kind]
        overrides = overrides or {}
        columns = []
        for column in spec.columns:
            value = f"c.{column.name}" if column.name in unit.clean.columns else "NULL"
            typed = f"CAST({value} AS {SQL_TYPES[column.type]})"
            columns.append(f"{overrides.get(column.name, typed)} AS {column.name}")
        columns += [f"{expression} AS {name}" for name, expression in (derived or {}).items()]
        lineage = "$run_id AS run_id, c.file_sha256, c.sheet, c.excel_row::INTEGER AS excel_row, $loaded_at AS loaded_at"
        key = key or spec.key
        # The checks reject a key's repeats within a file, and files loaded together share no dealer: the
        # first-row rule is written only when a repeat is there (it costs a third of the statement).
        first_rows = (
            f"QUALIFY row_number() OVER (PARTITION BY {_columns(key, 'c')} ORDER BY c.excel_row) = 1"
            if _repeats_a_key(unit.clean, key)
            else ""
        )
        return f"""
            SELECT {", ".join(columns)}, {lineage}
            FROM {clean} AS c {joins}
            {first_rows}
        """

    def raw_cell(self, unit: _Unit, field: str) -> str:
        """SQL of a cell as written (raw rows, alias r), NULL when the sheet has no such column."""
        return f"r.{field}::VARCHAR" if field in unit.raw.columns else "NULL::VARCHAR"

    def upsert(
        self,
        table: str,
        key: tuple[str, ...],
        columns: tuple[str, ...],
        source: str,
        *,
        keep_later_files: bool = True,
    ) -> None:
        """MERGE rows into core.<table> by key; a matched row changes only when one of its values differs.

        Content loaded before and loaded again (run --force) leaves alone, when `keep_later_files`, the
        rows a file loaded since its first load wrote: it would undo their corrections.
        """
        values = [c for c in columns if c not in key]
        changed = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in values)
        assignments = ", ".join(f"{c} = s.{c}" for c in (*values, *LINEAGE))
        later = f"WHERE {self.not_written_later(table, key, 's')}" if keep_later_files else ""
        self.run(
            f"""
            MERGE INTO core.{table} AS t
            USING (SELECT {_columns(columns)}, {_columns(LINEAGE)} FROM ({source}) AS s {later}) AS s
            ON {" AND ".join(f"t.{k} = s.{k}" for k in key)}
            WHEN MATCHED AND ({changed}) THEN UPDATE SET {assignments}
            WHEN NOT MATCHED THEN INSERT BY NAME
            """
        )

    def not_written_later(self, table: str, key: tuple[str, ...], alias: str, *, by_day: bool = True) -> str:
        """SQL condition on rows (`alias`) of content loaded again, or of a file for a past day: no row of
        their key in core.<table> was written by a file loaded since the content's first load, or (when
        `by_day`) by a file of a later day (always true on a first load of the latest day)."""
        if not (self.params["first_loaded_at"] is not None or (by_day and self.params["later_days"])):
            return "true"
        same_key = " AND ".join(f"t.{k} = {alias}.{k}" for k in key)
        return (
            f"NOT EXISTS (SELECT 1 FROM {_written_later(f'core.{table}', 't', by_day=by_day)} AND {same_key})"
        )

    def load_history(
        self, table: str, key: tuple[str, ...], attributes: tuple[str, ...], source: str
    ) -> None:
        """Versions of core.<table> (customers, dealers): a new version on as_of only when an attribute changed.

        The file says what holds from as_of on. For the keys whose version covering as_of differs, the
        versions are recomputed from the existing change points (valid_from) plus this one, which replaces
        a point on the same day; a point equal to the one before it is no change and is dropped; each
        version ends where the next begins (valid_to exclusive, NULL for the current one); then only the
        rows that differ are written. So intervals never overlap, two changes on one day leave one
        version, and a backfill for an earlier day slots in before the later versions, until the next day
        a file said the key again (see seen_again_later).
        """
        keys = _columns(key)
        on_key = " AND ".join(f"h.{k} = i.{k}" for k in key)
        differs = " OR ".join(f"h.{a} IS DISTINCT FROM i.{a}" for a in attributes)
        attribute_row = f"row({_columns(attributes)})"
        self.run(
            f"""
            CREATE OR REPLACE TEMP TABLE history_changed AS
            SELECT i.* FROM (SELECT {keys}, {_columns(attributes)}, {_columns(LINEAGE)} FROM ({source})) AS i
            LEFT JOIN core.{table} AS h
              ON {on_key} AND h.valid_from <= $as_of AND (h.valid_to IS NULL OR h.valid_to > $as_of)
            WHERE (h.{key[0]} IS NULL OR {differs}) AND {self.not_written_later(table, key, "i", by_day=False)}
            """
        )
        self.run(
            f"""
            CREATE OR REPLACE TEMP TABLE history_versions AS
            WITH points AS (
                SELECT {_columns(key, "h")}, {_columns(attributes, "h")}, h.valid_from, {_columns(LINEAGE, "h")}
                FROM core.{table} AS h SEMI JOIN history_changed AS i ON {on_key}
                WHERE h.valid_from <> $as_of
                UNION ALL
                SELECT {keys}, {_columns(attributes)}, $as_of AS valid_from, {_columns(LINEAGE)} FROM history_changed
                {self.seen_again_later(table, key, attributes)}
            ),
            marked AS (
                SELECT *, {attribute_row} IS DISTINCT FROM
                          lag({attribute_row}) OVER (PARTITION BY {keys} ORDER BY valid_from) AS is_change
                FROM points
            )
            SELECT * EXCLUDE (is_change),
                   lead(valid_from) OVER (PARTITION BY {keys} ORDER BY valid_from) AS valid_to
            FROM marked
            WHERE is_change
            """
        )
        self.run(
            f"""
            DELETE FROM core.{table} AS h
            WHERE EXISTS (SELECT 1 FROM history_changed AS i WHERE {on_key})
              AND NOT EXISTS (SELECT 1 FROM history_versions AS i WHERE {on_key} AND i.valid_from = h.valid_from)
            """
        )
        history_key = (*key, "valid_from")
        self.upsert(
            table,
            history_key,
            (*history_key, *attributes, "valid_to"),
            "SELECT * FROM history_versions",
            keep_later_files=False,  # the versions are recomputed whole, from the file's first day
        )
        self.run("DROP TABLE history_versions")
        self.run("DROP TABLE history_changed")

    def seen_again_later(self, table: str, key: tuple[str, ...], attributes: tuple[str, ...]) -> str:
        """SQL (`UNION ALL SELECT ...`) of the change points a file for an earlier day must not run past.

        A file of a later day that repeated a key's values unchanged made no version, but it said them on
        its day: from the first such day after as_of, the key holds again what it held there before this
        file (its version then is copied as a point of that day; one equal to the point before it drops).
        The later files are found in raw.<table> (a row read, its key trimmed and upper-cased as codes
        are), under the run that first loaded their content (this content's own rows are not a later
        file's, though a sheet first skipped as unknown gets them under a later run). Nothing to look for
        on a night later than every run so far.
        """
        if not self.params["later_days"]:
            return ""
        on_key = " AND ".join(f"upper(trim(r.{k})) = i.{k}" for k in key)
        return f"""
            UNION ALL
            SELECT {_columns(key, "h")}, {_columns(attributes, "h")}, seen.seen_on AS valid_from, {_columns(LINEAGE, "h")}
            FROM (
                SELECT {_columns(key, "i")}, min(run.as_of) AS seen_on
                FROM history_changed AS i
                JOIN raw.{table} AS r ON {on_key} AND r.file_sha256 <> $sha
                JOIN etl.runs AS run ON run.run_id = r.run_id AND run.as_of > $as_of
                GROUP BY ALL
            ) AS seen
            JOIN core.{table} AS h ON {" AND ".join(f"h.{k} = seen.{k}" for k in key)}
             AND h.valid_from < seen.seen_on AND (h.valid_to IS NULL OR h.valid_to > seen.seen_on)
        """

    def load_customers(self, unit: _Unit, clean: str, raw: str) -> None:
        """Customers (history) and their vehicles; earlier visits of these customers now have a customer file.

        A customer listed on several rows (one per vehicle) takes each attribute from the first row that
        gives it (validate warns about rows that give another). "region: defaults to the dealer's
        region" is left to the reader of the table (core.customers_current), so that it follows the
        dealer's region as it changes. "under_warranty, when blank: the vehicle's warranty_end >=
        intake_date" is recomputed for the visits of these vehicles.
        """
        customers = self.source(
            unit,
            clean,
            key=CUSTOMER_KEY,
            overrides={
                name: f"first_value(c.{name} IGNORE NULLS) OVER (PARTITION BY {_columns(CUSTOMER_KEY, 'c')} "
                "ORDER BY c.excel_row ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
                for name in CUSTOMER_ATTRIBUTES
                if name in unit.clean.columns
            },
        )
        self.load_history("customers", CUSTOMER_KEY, CUSTOMER_ATTRIBUTES, customers)
        # "never a silent change": a vehicle the warehouse knows as another customer's moves, and says so
        self.add_warnings(
            unit,
            clean,
            raw,
            field="vin",
            rule=VEHICLE_CHANGED_OWNER,
            values={"value": "c.vin", "other_value": "e.customer_id"},
            earlier={
                "en": "concat(' (already loaded, from ', e.sheet, ' row ', e.excel_row, ')')",
                "zh": "concat('（已入库，来自', e.sheet, ' 第 ', e.excel_row, ' 行）')",
            },
            joins="JOIN core.vehicles AS e "
            "ON e.dealer_code = c.dealer_code AND e.vin = c.vin AND e.customer_id <> c.customer_id",
        )
        vehicles = self.source(unit, clean, key=VEHICLE_KEY)
        self.upsert("vehicles", VEHICLE_KEY, (*VEHICLE_KEY, *VEHICLE_ATTRIBUTES), vehicles)
        # the day the warehouse first heard of each vehicle: this file's, unless an earlier day's named it.
        # The row's lineage stays that of the file that last wrote its values: a late file only moves the
        # day back, and a row stamped with its day would lose the guard on what later days wrote. The due
        # lists' state needs no stamp either: it recomputes a customer whose vehicle counts from after the
        # day asked, and an earlier first_seen only narrows that.
        self.run(
            f"""
            UPDATE core.vehicles AS t SET first_seen = $as_of
            FROM ({vehicles}) AS s
            WHERE t.dealer_code = s.dealer_code AND t.vin = s.vin AND (t.first_seen IS NULL OR t.first_seen > $as_of)
            """
        )
        self.run(
            f"""
            UPDATE core.service_visits AS v SET has_customer_file = true
            FROM (SELECT DISTINCT dealer_code, customer_id FROM {clean}) AS c
            WHERE NOT v.has_customer_file AND v.dealer_code = c.dealer_code AND v.customer_id = c.customer_id
            """
        )
        self.run(
            f"""
            UPDATE core.service_visits AS v SET under_warranty = vehicle.warranty_end >= v.intake_date
            FROM core.vehicles AS vehicle
            SEMI JOIN {clean} AS c ON c.dealer_code = vehicle.dealer_code AND c.vin = vehicle.vin
            WHERE v.under_warranty_derived AND v.dealer_code = vehicle.dealer_code AND v.vin = vehicle.vin
              AND v.under_warranty IS DISTINCT FROM (vehicle.warranty_end >= v.intake_date)
            """
        )
        self.run(
            f"""
            UPDATE quarantine.warnings SET resolved_at = $loaded_at, resolved_by_run = $run_id
            WHERE resolved_at IS NULL AND kind = 'service_visits' AND rule = '{NO_CUSTOMER_FILE}'
              AND business_key IN (
                  SELECT {business_key_sql("service_visits", "v")} FROM core.service_visits AS v
                  SEMI JOIN {clean} AS c ON c.dealer_code = v.dealer_code AND c.customer_id = v.customer_id
              )
            """
        )

    def load_service_visits(self, unit: _Unit, clean: str, raw: str) -> None:
        """Visits, with the fields that need other tables, and the warnings that need the warehouse.

        "under_warranty, when blank: the vehicle's warranty_end >= intake_date"; has_customer_file;
        "mileage lower than an earlier visit of the same VIN is a warning" (against visits already
        loaded; the check of visits within one sheet comes with the parsed file), and its mirror for a
        visit sent after later ones were loaded (a late file): more kilometres than a later visit showed;
        "a visit whose customer has no customer file is loaded and flagged".
        """
        for rule, later, keep_first in (
            (MILEAGE_BACKWARDS, False, "e.mileage_km DESC, e.intake_date"),
            (MILEAGE_ABOVE_LATER, True, "e.mileage_km, e.intake_date DESC"),
        ):
            self.add_warnings(
                unit,
                clean,
                raw,
                field="mileage_km",
                rule=rule,
                values={"value": "c.mileage_km", "other_value": "e.mileage_km"},
                earlier={
                    "en": "concat(' (work order ', e.work_order_no, ' of ', e.intake_date, ', already loaded)')",
                    "zh": "concat('（', e.intake_date, ' 工单 ', e.work_order_no, '，已入库）')",
                },
                joins=f"""
                JOIN core.service_visits AS e
                  ON e.dealer_code = c.dealer_code AND e.vin = c.vin
                 AND {
                    "e.intake_date > c.intake_date AND e.mileage_km < c.mileage_km"
                    if later
                    else "e.intake_date < c.intake_date AND e.mileage_km > c.mileage_km"
                }
                ANTI JOIN {
                    clean
                } AS resent ON resent.dealer_code = e.dealer_code AND resent.work_order_no = e.work_order_no
                QUALIFY row_number() OVER (
                    PARTITION BY c.file_sha256, c.sheet, c.excel_row ORDER BY {keep_first}
                ) = 1
                """,
            )
        source = self.source(
            unit,
            clean,
            overrides={"under_warranty": "COALESCE(c.under_warranty, vehicle.warranty_end >= c.intake_date)"},
            derived={
                "has_customer_file": "customer.customer_id IS NOT NULL",
                "under_warranty_derived": "c.under_warranty IS NULL",
            },
            joins="""
                LEFT JOIN core.vehicles AS vehicle ON vehicle.dealer_code = c.dealer_code AND vehicle.vin = c.vin
                LEFT JOIN core.customers_current AS customer
                  ON customer.dealer_code = c.dealer_code AND customer.customer_id = c.customer_id
            """,
        )
        spec = SHEETS["service_visits"]
        self.upsert(
            "service_visits",
            spec.key,
            (*spec.names, "has_customer_file", "under_warranty_derived"),
            source,
        )
        self.add_warnings(
            unit,
            clean,
            raw,
            field="customer_id",
            rule=NO_CUSTOMER_FILE,
            values={"value": "v.customer_id"},
            joins="JOIN core.service_visits AS v "
            "ON v.dealer_code = c.dealer_code AND v.work_order_no = c.work_order_no AND NOT v.has_customer_file",
        )

    def add_warnings(
        self,
        unit: _Unit,
        clean: str,
        raw: str,
        *,
        field: str,
        rule: str,
        values: dict[str, str],
        joins: str,
        earlier: dict[str, str] | None = None,
    ) -> None:
        """Warnings found in the warehouse, added to the file's problems: one on `field` of each clean row
        (alias c) that `joins` keeps. The message's placeholders are SQL over c and the joins; `earlier`
        is given per language."""

        def message(language: str) -> str:
            more = {"earlier": earlier[language]} if earlier else {}
            return message_sql(rule, language, column="h.header", **values, **more)

        self.run(
            f"""
            INSERT INTO load_problems BY NAME
            SELECT c.file_sha256, c.file_name, c.sheet, '{unit.kind}' AS kind, '{WARNING}' AS severity,
                   c.excel_row, '{field}' AS field, h.header AS column_name,
                   {self.raw_cell(unit, field)} AS cell_value, '{rule}' AS rule,
                   {message("en")} AS message, {message("zh")} AS message_zh, c.dealer_code,
                   {business_key_sql(unit.kind, "c")} AS business_key
            FROM {clean} AS c
            JOIN {raw} AS r ON {_same_row("r", "c")}
            JOIN load_headers AS h ON h.file_sha256 = c.file_sha256 AND h.sheet = c.sheet AND h.field = '{field}'
            {joins}
            """
        )

    def rows_warned(self) -> dict[tuple[str, str], int]:
        """Per (file, sheet), the rows that were loaded with at least one warning."""
        counts = self.run(
            f"""
            SELECT p.file_sha256, p.sheet, count(DISTINCT p.excel_row) FROM load_problems AS p
            SEMI JOIN load_rows AS l ON {_same_row("l", "p")}
            WHERE p.severity = '{WARNING}'
            GROUP BY p.file_sha256, p.sheet
            """
        ).fetchall()
        return {(sha, sheet): count for sha, sheet, count in counts}

    # ---- quarantine ------------------------------------------------------------------------------

    def forget_keys_written_later(self, units: list[_Unit]) -> None:
        """Content loaded again (run --force), or a file for a past day: the keys a file loaded since (of a
        later day) wrote settle no entry.

        Their core rows are that file's (upsert leaves them alone), so this file's old problems with them
        are not opened again, and the entries that file opened are not resolved by this one.
        """
        if not self.guards_later_files:
            return
        for kind in dict.fromkeys(unit.kind for unit in units):
            table = "vehicles" if kind == "customers" else kind
            later = f"l.business_key IN (SELECT {business_key_sql(kind, 't')} FROM {_written_later(f'core.{table}', 't')})"
            if kind == "customers":  # a customer's versions: every row of the customer, whatever its vehicle
                later += f""" OR EXISTS (SELECT 1 FROM {_written_later("core.customers", "t")}
                    AND starts_with(l.business_key, concat_ws('|', t.dealer_code, t.customer_id, '')))"""
            for temp in ("load_problems", "load_rows"):
                self.run(f"DELETE FROM {temp} AS l WHERE l.kind = '{kind}' AND ({later})")

    def seen_later(self, table: str, alias: str) -> str:
        """SQL condition on entries (`alias`) of `table`: last seen in a file loaded after this content
        was first, or in a file of a later day (never on a first load of the latest day). Content loaded
        again (run --force), or a file for a past day, leaves them as they are."""
        if not self.guards_later_files:
            return "false"
        return f"{alias}.entry_id IN (SELECT seen.entry_id FROM {_written_later(table, 'seen')})"

    def resolve_fixed_entries(self) -> None:
        """Resolve the open entries this file fixes.

        An open entry is resolved when this file loads a row with the same (kind, business_key) that no
        longer fails the entry's (field, rule). An entry whose key was unreadable (business_key '') is
        matched on (file_name, sheet, excel_row) instead, and so is an entry on a cell of the key itself
        (a mistyped VIN or dealer code): correcting that cell changes the row's key. The key includes the
        dealer where the dealer is part of it; a global key (shipment line, feedback) matches whatever
        dealer code the row now has.
        """
        key_cells = ", ".join(f"('{kind}', '{field}')" for kind, spec in SHEETS.items() for field in spec.key)
        for table in QUARANTINE_TABLES.values():
            self.run(
                f"""
                UPDATE {table} SET resolved_at = $loaded_at, resolved_by_run = $run_id
                WHERE entry_id IN (
                    SELECT q.entry_id FROM {table} AS q
                    SEMI JOIN load_rows AS l ON l.kind = q.kind AND l.business_key = q.business_key
                    ANTI JOIN load_problems AS p
                      ON p.kind = q.kind AND p.business_key = q.business_key
                     AND p.field = q.field AND p.rule = q.rule
                    WHERE q.resolved_at IS NULL AND q.business_key <> '' AND NOT {self.seen_later(table, "q")}
                    UNION ALL
                    SELECT q.entry_id FROM {table} AS q
                    SEMI JOIN load_rows AS l
                      ON l.kind = q.kind AND l.file_name = q.file_name AND l.sheet = q.sheet
                     AND l.excel_row = q.excel_row
                    ANTI JOIN load_problems AS p
                      ON p.kind = q.kind AND p.file_name = q.file_name AND p.sheet = q.sheet
                     AND p.excel_row = q.excel_row AND p.field = q.field AND p.rule = q.rule
                    WHERE q.resolved_at IS NULL
                      AND (q.business_key = '' OR (q.kind, q.field) IN ({key_cells}))
                      AND NOT {self.seen_later(table, "q")}
                )
                """
            )

    def record_problems(self) -> None:
        """Insert this file's problems, or refresh the open entry of a problem seen before.

        "An identical open entry is not duplicated": the same (kind, business_key, field, rule) -- for an
        unreadable key, the same (file_name, sheet, excel_row, field, rule) -- is one entry, pointing at the
        latest file, row and cell; a problem repeated on several rows of one file is recorded once.
        """
        occurrence = (
            "run_id",
            "file_sha256",
            "file_name",
            "sheet",
            "excel_row",
            "column_name",
            "cell_value",
            "message",
            "message_zh",
            "dealer_code",
        )
        for severity, table in QUARANTINE_TABLES.items():
            # content loaded again (run --force): an entry a file loaded since saw open keeps pointing there
            seen_later = f"""AND NOT EXISTS (
                SELECT 1 FROM {table} AS o
                WHERE {self.seen_later(table, "o")} AND o.resolved_at IS NULL AND o.kind = l.kind
                  AND o.business_key = l.business_key AND o.field = l.field AND o.rule = l.rule
                  AND l.business_key <> ''
            )"""
            self.run(
                f"""
                MERGE INTO {table} AS q
                USING (
                    SELECT $run_id AS run_id, file_sha256, file_name, sheet, kind,
                           excel_row, column_name, field, cell_value, rule, message, message_zh, dealer_code,
                           business_key, $loaded_at AS first_seen_at, $loaded_at AS last_seen_at
                    FROM load_problems AS l
                    WHERE severity = '{severity}' {seen_later}
                    QUALIFY row_number() OVER (
                        PARTITION BY kind, business_key, field, rule,
                                     CASE WHEN business_key = '' THEN file_sha256 || '#' || sheet || '#' || excel_row END
                        ORDER BY excel_row) = 1
                ) AS p
                ON q.resolved_at IS NULL AND q.kind = p.kind AND q.business_key = p.business_key
                   AND q.field = p.field AND q.rule = p.rule
                   AND (p.business_key <> '' OR (q.file_name = p.file_name AND q.sheet = p.sheet
                                                 AND q.excel_row = p.excel_row))
                WHEN MATCHED AND q.file_sha256 <> p.file_sha256 THEN
                    UPDATE SET {", ".join(f"{c} = p.{c}" for c in occurrence)}, last_seen_at = p.last_seen_at
                WHEN NOT MATCHED THEN INSERT BY NAME
                """
            )

    def record_sheets(self, warned: dict[tuple[str, str], int]) -> None:
        """etl.file_sheets: the counts of each sheet, and the sheets skipped as unknown."""
        rows = [
            (
                self.params["run_id"],
                parsed.sha256,
                sheet.sheet,
                sheet.kind,
                sheet.header_row,
                sheet.rows_read,
                sheet.clean.height,
                warned.get((parsed.sha256, sheet.sheet), 0),
                sheet.rows_rejected,
                sheet.blank_rows,
                len(sheet.total_rows),
                len(sheet.title_rows),
                None,
            )
            for parsed in self.files
            for sheet in parsed.sheets
        ]
        rows += [
            (self.params["run_id"], parsed.sha256, name, None, None, 0, 0, 0, 0, 0, 0, 0, reason)
            for parsed in self.files
            for name, reason in parsed.skipped_sheets
        ]
        if rows:
            values = ", ".join([f"({', '.join(['?'] * len(FILE_SHEET_COLUMNS))})"] * len(rows))
            self.con.execute(
                f"INSERT INTO etl.file_sheets ({', '.join(FILE_SHEET_COLUMNS)}) VALUES {values}",
                [v for row in rows for v in row],
            )


# The columns record_sheets writes, in its rows' order (by name: title_rows came later, by ALTER TABLE).
FILE_SHEET_COLUMNS = (
    "run_id",
    "file_sha256",
    "sheet",
    "kind",
    "header_row",
    "rows_read",
    "rows_loaded",
    "rows_warned",
    "rows_rejected",
    "blank_rows",
    "total_rows",
    "title_rows",
    "skipped_reason",
)


def _written_later(table: str, alias: str, *, by_day: bool = True) -> str:
    """SQL `FROM` body (ending in a WHERE): the rows of `table` whose lineage names a file loaded since this
    content's first load ($first_loaded_at), or (when `by_day`) a file of a day after $as_of."""
    later_day = "OR day.as_of > $as_of" if by_day else ""
    return f"""{table} AS {alias} JOIN etl.files AS w
        ON w.run_id = {alias}.run_id AND w.sha256 = {alias}.file_sha256 AND w.status = 'loaded'
        LEFT JOIN etl.runs AS day ON day.run_id = w.run_id
        WHERE (w.processed_at > $first_loaded_at {later_day})"""


def _columns(names: tuple[str, ...], alias: str = "") -> str:
    """A column list, each name qualified by `alias` when given."""
    return ", ".join(f"{alias}.{name}" if alias else name for name in names)
