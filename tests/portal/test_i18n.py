"""One catalogue, two languages: every label the pages use exists in Chinese and English."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from dealersync.portal import i18n
from dealersync.transforms.due_list import CONTACT_PROBLEM, KIND, PRIORITY, STATUS
from dealersync.transforms.quality_summary import FIGURES

PORTAL = Path(i18n.__file__).parent
SOURCES = [*sorted((PORTAL / "templates").glob("*.html")), PORTAL / "app.py"]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_entry_has_both_languages_with_the_same_placeholders():
    for key, (zh, en) in i18n.CATALOGUE.items():
        assert zh.strip() and en.strip(), key
        assert placeholders(zh) == placeholders(en), key


def test_every_literal_key_the_pages_use_is_in_the_catalogue():
    used = set()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        # t('key') and t('key', ...), not t('prefix.' ~ code): those are checked per code below
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z_]+)['"]\s*[,)]""", text))
        used |= set(re.findall(r"""PageError\(\s*\d+,\s*"([a-z_.]+)\"""", text))
        used |= set(re.findall(r"""message_key="([a-z_.]+)\"""", text))
        used |= set(re.findall(r'"(error\.[a-z_]+)"', text)) - {"error.html"}  # the page's own name
    assert used, "the pattern should find the keys"
    assert sorted(used - set(i18n.CATALOGUE)) == []


@pytest.mark.parametrize(
    ("prefix", "codes"),
    [
        ("kind", KIND.codes),
        ("status", STATUS.codes),
        ("priority", PRIORITY.codes),
        ("contact", CONTACT_PROBLEM.codes),
        ("figure", tuple(FIGURES)),
        ("file_status", ("loaded", "refused", "skipped", "failed")),
        ("run_status", ("running", "succeeded", "failed", "crashed")),
        ("source", ("dealer", "warehouse", "reference")),
        ("severity", ("rejected", "warning")),
        ("alert", ("red", "amber", "test_batch_exposure", "test_batch_share", "test_component")),
        ("scope", ("all", "dealer", "region", "company")),
    ],
)
def test_every_code_the_pages_label_has_a_label(prefix, codes):
    assert [c for c in codes if f"{prefix}.{c}" not in i18n.CATALOGUE] == []


def test_the_chinese_labels_of_the_due_list_match_the_exported_files():
    zh = i18n.Translator(i18n.ZH)
    assert [zh(f"kind.{code}") for code in KIND.codes] == [label for _, label in KIND.labels]
    assert [zh(f"status.{code}") for code in STATUS.codes] == [label for _, label in STATUS.labels]


def test_translator_fills_placeholders_and_falls_back_to_chinese():
    assert i18n.Translator("en")("due.items_shown", shown=2, total=5) == "2 of 5 items shown"
    assert i18n.Translator("fr")("nav.runs") == "运行记录"
