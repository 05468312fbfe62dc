"""Workbooks written straight from the contract: one sheet per kind, named and headed in Chinese as the contract
writes them, one row per dict (str cells are text cells, dates real Excel dates)."""

from __future__ import annotations

from pathlib import Path

from workbooks import write_xlsx

from dealersync.schemas.contract import SHEETS


def contract_workbook(path: Path, sheets: dict[str, list[dict]], *, extra: str | None = None) -> Path:
    """Write `sheets` (kind -> rows) with the contract's Chinese sheet names and headers.

    `extra` adds a column the contract does not know (kept aside in the raw layer), filled with that text.
    """
    book = {}
    for kind, rows in sheets.items():
        spec = SHEETS[kind]
        fields = [c.name for c in spec.columns if any(c.name in row for row in rows)]
        header = [spec.column(f).zh for f in fields] + (["录入人"] if extra else [])
        book[spec.zh] = [header] + [[row.get(f) for f in fields] + ([extra] if extra else []) for row in rows]
    return write_xlsx(path, book)
