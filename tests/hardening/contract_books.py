"""Workbooks written straight from the contract: one sheet per kind, named and headed in Chinese as the contract
writes them, one row per dict (str cells are text cells, dates real Excel dates)."""

from __future__ import annotations

from pathlib import Path

from workbooks import write_xlsx

from dealersync.schemas.contract import SHEETS


def contract_workbook(path: Path, sheets: dict[str, list[dict]]) -> Path:
    """Write `sheets` (kind -> rows) with the contract's Chinese sheet names and headers."""
    book = {}
    for kind, rows in sheets.items():
        spec = SHEETS[kind]
        fields = [c.name for c in spec.columns if any(c.name in row for row in rows)]
        book[spec.zh] = [[spec.column(f).zh for f in fields]] + [[row.get(f) for f in fields] for row in rows]
    return write_xlsx(path, book)
