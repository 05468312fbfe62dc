"""Header, sheet-name and enum-label aliases: a default table shipped as data plus a steward's own file."""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dealersync.schemas.contract import ENUMS, SHEETS

DEFAULT_ALIASES_FILE = Path(__file__).with_name("aliases.toml")

_BRACKETED = re.compile(r"[(\[【〔{][^)\]】〕}]*[)\]】〕}]")
# Spaces and punctuation, including the question and exclamation marks of `是否保修期内？` (NFKC has
# already made full-width marks half-width).
_NOISE = re.compile(r"[\s_\-.:：*#/\\|,，、;；'\"`“”‘’?!。]+")


class AliasError(ValueError):
    """An alias file that cannot be used as it stands (the message says what to change)."""


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def clean_label(text: object) -> str:
    """Fold a header, sheet name or enum label to its comparison form.

    Full-width to half-width (NFKC), traditional to simplified Chinese (OpenCC), units or notes in
    brackets dropped (`里程(km)` → `里程`), case, spaces, line breaks and punctuation removed.
    """
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).strip()
    folded = _t2s().convert(folded)
    unbracketed = _BRACKETED.sub("", folded)
    if _NOISE.sub("", unbracketed):
        folded = unbracketed
    return _NOISE.sub("", folded).casefold()


@dataclass
class Aliases:
    """Lookup tables from cleaned labels to canonical names."""

    sheets: dict[str, str] = field(default_factory=dict)  # cleaned sheet name -> kind
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> cleaned header -> field
    enums: dict[str, dict[str, str]] = field(default_factory=dict)  # enum name -> cleaned label -> code
    booleans: dict[str, bool] = field(default_factory=dict)  # cleaned label -> value
    sources: list[Path] = field(default_factory=list)  # files the tables were read from

    def sheet_kind(self, sheet_name: str) -> str | None:
        """The sheet kind a sheet name stands for, or None."""
        return self.sheets.get(clean_label(sheet_name))

    def field_for(self, kind: str, header: object) -> str | None:
        """The canonical field a header stands for in a sheet of `kind`, or None."""
        return self.headers[kind].get(clean_label(header))

    def enum_code(self, enum_name: str, label: object) -> str | None:
        """The canonical code of an enum label (Chinese, English or a listed synonym), or None."""
        return self.enums[enum_name].get(clean_label(label))

    def boolean(self, label: object) -> bool | None:
        """True/False for a yes/no label, or None when it is not one."""
        return self.booleans.get(clean_label(label))

    def suggest(
        self, kind: str, header: object, cutoff: float = 0.5, among: Collection[str] | None = None
    ) -> str | None:
        """The known field whose aliases a header most resembles (for 'did you mean' messages).

        `among` limits the answer to some fields (e.g. those the sheet does not have yet).
        """
        cleaned = clean_label(header)
        table = self.headers[kind]
        labels = [label for label, name in table.items() if among is None or name in among]
        match = difflib.get_close_matches(cleaned, labels, n=1, cutoff=cutoff)
        return table[match[0]] if match else None


def _add(table: dict[str, str], label: str, target, where: str) -> None:
    cleaned = clean_label(label)
    if not cleaned:
        raise AliasError(f"{where}: the alias {label!r} is empty once spaces and punctuation are removed")
    existing = table.get(cleaned)
    if existing is not None and existing != target:
        raise AliasError(
            f"{where}: the alias {label!r} would mean both {existing!r} and {target!r}; "
            f"remove it from one of them"
        )
    table[cleaned] = target


def _builtin() -> Aliases:
    """The names the contract itself gives: canonical names, Chinese headers and enum labels."""
    aliases = Aliases()
    for kind, sheet in SHEETS.items():
        _add(aliases.sheets, kind, kind, "contract")
        _add(aliases.sheets, sheet.zh, kind, "contract")
        headers: dict[str, str] = {}
        for column in sheet.columns:
            _add(headers, column.name, column.name, f"contract {kind}")
            _add(headers, column.zh, column.name, f"contract {kind}")
        aliases.headers[kind] = headers
    for name, enum in ENUMS.items():
        labels: dict[str, str] = {}
        for code, zh in enum.labels:
            _add(labels, code, code, f"contract enum {name}")
            for label in {zh, *zh.split("/")}:
                _add(labels, label, code, f"contract enum {name}")
        aliases.enums[name] = labels
    return aliases


def _merge(aliases: Aliases, data: dict, where: str) -> None:
    for kind, names in data.get("sheets", {}).items():
        if kind not in SHEETS:
            raise AliasError(f"{where}: [sheets] names an unknown sheet {kind!r}; known: {', '.join(SHEETS)}")
        for name in names:
            _add(aliases.sheets, name, kind, f"{where} [sheets]")
    for scope, fields in data.get("headers", {}).items():
        if scope != "common" and scope not in SHEETS:
            raise AliasError(
                f"{where}: [headers.{scope}] is not a sheet; use one of common, {', '.join(SHEETS)}"
            )
        kinds = [k for k, s in SHEETS.items() if scope == "common" or k == scope]
        for field_name, labels in fields.items():
            targets = [k for k in kinds if field_name in SHEETS[k].column_by_name]
            if not targets:
                raise AliasError(f"{where}: [headers.{scope}] {field_name!r} is not a column of that sheet")
            for kind in targets:
                for label in labels:
                    _add(aliases.headers[kind], label, field_name, f"{where} [headers.{scope}] in {kind}")
    for enum_name, codes in data.get("enums", {}).items():
        if enum_name not in ENUMS:
            raise AliasError(f"{where}: [enums.{enum_name}] is not a vocabulary; known: {', '.join(ENUMS)}")
        for code, labels in codes.items():
            if code not in ENUMS[enum_name].codes:
                raise AliasError(
                    f"{where}: [enums.{enum_name}] {code!r} is not one of {', '.join(ENUMS[enum_name].codes)}"
                )
            for label in labels:
                _add(aliases.enums[enum_name], label, code, f"{where} [enums.{enum_name}]")
    for key, value in (("true", True), ("false", False)):
        for label in data.get("booleans", {}).get(key, []):
            _add(aliases.booleans, label, value, f"{where} [booleans]")  # type: ignore[arg-type]


def read_alias_file(path: Path) -> dict:
    """Parse one alias file, turning syntax errors into a message that names the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AliasError(f"{path}: cannot read the alias file: {error}") from error


def load_aliases(extra: Path | None = None) -> Aliases:
    """The contract's names, the shipped default aliases, then a steward's file when it exists."""
    aliases = _builtin()
    _merge(aliases, read_alias_file(DEFAULT_ALIASES_FILE), DEFAULT_ALIASES_FILE.name)
    aliases.sources.append(DEFAULT_ALIASES_FILE)
    if extra is not None and Path(extra).is_file():
        _merge(aliases, read_alias_file(Path(extra)), str(extra))
        aliases.sources.append(Path(extra))
    return aliases
