"""Tokens, scopes and the exports files a scope may download: the portal's safety rules without HTTP."""

from __future__ import annotations

import os
from pathlib import PurePosixPath

import pytest

from dealersync.portal.access import (
    Access,
    PortalConfigError,
    Scope,
    exports_file,
    may_download,
    safe_next,
    session_value,
)

TOKEN = "0123456789abcdef-token"


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("all", Scope("all")),
        (" ALL ", Scope("all")),
        ("dealer:d0012 ", Scope("dealer", "D0012")),  # codes are trimmed and upper-cased, as in the warehouse
        ("region: 华北", Scope("region", "华北")),
    ],
)
def test_scopes_as_written_in_the_settings(text, scope):
    assert Scope.parse(text) == scope


@pytest.mark.parametrize("text", ["", "dealer", "dealer:", "region:", "everyone", "all:x", "city:北京"])
def test_a_scope_that_says_nothing_clear_is_refused(text):
    with pytest.raises(ValueError, match="not a scope"):
        Scope.parse(text)


def test_token_settings_errors_never_show_the_token():
    with pytest.raises(PortalConfigError) as short:
        Access({"short-secret": "dealer:D1"})
    assert "short-secret" not in str(short.value) and "dealer:D1" in str(short.value)
    with pytest.raises(PortalConfigError) as bad:
        Access({TOKEN: "dealers:D1"})
    assert TOKEN not in str(bad.value)


def test_bearer_token_or_session_cookie_finds_the_scope():
    access = Access({TOKEN: "region:华北"})
    assert access.for_request(f"Bearer {TOKEN}", None) == Scope("region", "华北")
    assert access.for_request(f"bearer  {TOKEN} ", None) == Scope("region", "华北")
    assert access.for_request(None, session_value(TOKEN)) == Scope("region", "华北")
    assert access.for_request(None, TOKEN) is None  # the cookie holds a digest, never the token itself
    assert access.for_request("Bearer wrong-token-0000000000", session_value(TOKEN)) is None
    assert access.for_request(None, None) is None
    assert Access({}).for_request(None, None) == Scope("all")  # no token configured: open (loopback only)


@pytest.fixture
def exports(tmp_path):
    root = tmp_path / "exports"
    (root / "due_lists" / "2026-11-20").mkdir(parents=True)
    (root / "due_lists" / "2026-11-20" / "dealer_D1.xlsx").write_bytes(b"x")
    (root / "due_lists" / "2026-11-20" / "notes.txt").write_bytes(b"x")
    (root / ".secret.csv").write_bytes(b"x")
    outside = tmp_path / "outside.csv"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "due_lists" / "2026-11-20" / "dealer_D2.csv")
    os.symlink(root / "due_lists" / "2026-11-20" / "dealer_D1.xlsx", root / "link_to_d1.xlsx")
    return root


@pytest.mark.parametrize(
    "relative",
    [
        "../outside.csv",  # up and out
        "due_lists/../../outside.csv",
        "due_lists/2026-11-20/../../../outside.csv",
        "/etc/passwd",  # absolute
        "due_lists/2026-11-20/dealer_D2.csv",  # a symlink that leads out of the folder
        "due_lists\\..\\..\\outside.csv",  # Windows separators
        "due_lists/2026-11-20/dealer_D1.xlsx\x00.csv",  # NUL byte
        ".secret.csv",  # hidden file
        "due_lists/2026-11-20/notes.txt",  # not a spreadsheet or csv
        "due_lists/2026-11-20",  # a folder
        "due_lists/2026-11-20/missing.xlsx",
        "",
    ],
)
def test_nothing_outside_the_exports_folder_can_be_named(exports, relative):
    assert exports_file(exports, relative) is None


def test_a_file_inside_is_found_with_its_resolved_place(exports):
    assert exports_file(exports, "due_lists/./2026-11-20/dealer_D1.xlsx")[1] == PurePosixPath(
        "due_lists/2026-11-20/dealer_D1.xlsx"
    )
    # a link inside the folder is judged by where it leads, not by its own name
    assert exports_file(exports, "link_to_d1.xlsx")[1] == PurePosixPath("due_lists/2026-11-20/dealer_D1.xlsx")


D1, NORTH = Scope("dealer", "D1"), Scope("region", "华北")


@pytest.mark.parametrize(
    ("path", "scope", "dealers", "allowed"),
    [
        ("due_lists/2026-11-20/dealer_D1.xlsx", D1, ["D1"], True),
        ("due_lists/2026-11-20/dealer_D2.csv", D1, ["D1"], False),  # another dealer's list
        ("due_lists/2026-11-20/region_华北.xlsx", D1, ["D1"], False),  # a dealer never gets its region's file
        ("due_lists/2026-11-20/region_华北.xlsx", NORTH, ["D1", "D2"], True),
        ("due_lists/2026-11-20/region_华东.xlsx", NORTH, ["D1", "D2"], False),
        ("due_lists/2026-11-20/dealer_D2.xlsx", NORTH, ["D1", "D2"], True),  # a dealer of the region
        ("due_lists/2026-11-20/dealer_D3.xlsx", NORTH, ["D1", "D2"], False),
        ("quality/quality_2026-W47.xlsx", D1, ["D1"], False),  # company report: all scopes only
        ("quality/quality_2026-W47.xlsx", NORTH, ["D1", "D2"], False),
        ("steward/2026-11-20/D1/D1.annotated.xlsx", D1, ["D1"], True),
        ("steward/2026-11-20/D2/D2.annotated.xlsx", D1, ["D1"], False),
        ("steward/2026-11-20/warehouse/parts.annotated.xlsx", NORTH, ["D1", "D2"], False),
        ("anything/else.csv", NORTH, ["D1", "D2"], False),
        ("quality/quality_2026-W47.xlsx", Scope("all"), None, True),
    ],
)
def test_what_each_scope_may_download(path, scope, dealers, allowed):
    assert may_download(PurePosixPath(path), scope, dealers) is allowed


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/due-lists?date=2026-11-20", "/due-lists?date=2026-11-20"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_redirects_stay_inside_the_portal(target, safe):
    assert safe_next(target) == safe
