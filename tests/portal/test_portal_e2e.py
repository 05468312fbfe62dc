"""End to end: generated workbooks → the real nightly flow → the portal, over HTTP and in a real browser.

The service desk's story: open the page, log in, pick a region and a dealer, see the overdue calls, and
download the dealer's xlsx; what it holds is exactly the dealer's rows of mart.due_list.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import duckdb
import openpyxl
import pytest
from fastapi.testclient import TestClient
from portal_seed import portal_settings

from dealersync.exports.due_list import UNREACHABLE, due_list_folder
from dealersync.samples import generate_inbox
from dealersync.transforms.due_list import KIND

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("prefect")]

TODAY = date(2026, 11, 26)
CHROMIUM = Path("/usr/bin/chromium")
DESK_TOKEN = "service-desk-token-0123456789"


@pytest.fixture(scope="module")
def night(tmp_path_factory, prefect_harness):
    """(warehouse, exports, dealers): three generated dealers loaded by one nightly run."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from dealersync.flows.nightly import nightly

    tmp = tmp_path_factory.mktemp("portal_night")
    manifest = generate_inbox(
        tmp / "inbox", today=TODAY, dealers=3, visits_per_dealer=120, seed=5, bad_cell_rate=0.01
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEALERSYNC_EXPORTS", str(tmp / "exports"))
        result = nightly.with_options(task_runner=ThreadPoolTaskRunner(max_workers=2))(
            inbox=tmp / "inbox", warehouse=tmp / "warehouse.duckdb", today=TODAY
        )
    assert result.exit_code in (0, 1)
    return tmp / "warehouse.duckdb", tmp / "exports", sorted(manifest.dealer_files)


def mart_items(warehouse: Path, dealer: str, status: str | None = None) -> set[tuple]:
    """(kind, customer_id, ref, due_date, status) of a dealer's stored items on TODAY."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return set(
            con.execute(
                "SELECT kind, customer_id, ref, due_date, status FROM mart.due_list "
                "WHERE as_of = ? AND dealer_code = ? AND (? IS NULL OR status = ?)",
                [TODAY, dealer, status, status],
            ).fetchall()
        )
    finally:
        con.close()


def xlsx_items(content: bytes) -> list[tuple]:
    """The same fields read back from a due-list workbook: its kind sheets and its unreachable sheet."""
    kind_of = {zh: code for code, zh in KIND.labels}
    status_of = {"待办": "due", "逾期": "overdue"}
    book = openpyxl.load_workbook(io.BytesIO(content))
    found = []
    for sheet in book.worksheets[1:]:
        header, *rows = list(sheet.iter_rows(values_only=True))
        for values in rows:
            row = dict(zip(header, values, strict=True))
            kind = kind_of[row["类型"] if sheet.title == UNREACHABLE else sheet.title]
            found.append((kind, row["客户编号"], row["单号"], row["应办日期"].date(), status_of[row["状态"]]))
    return found


def test_each_dealer_downloads_exactly_its_rows(night):
    warehouse, exports, dealers = night
    tokens = {f"{d}-token-0123456789abcdef": f"dealer:{d}" for d in dealers}
    from dealersync.portal.app import create_app

    app = create_app(portal_settings(warehouse, exports, tokens))
    for token, scope in tokens.items():
        dealer = scope.split(":")[1]
        client = TestClient(app, headers={"authorization": f"Bearer {token}"})
        response = client.get(f"/due-lists/{TODAY}/dealer/{dealer}/download?format=xlsx")
        assert response.status_code == 200
        # the night's own file, served as written
        assert response.content == (due_list_folder(exports, TODAY) / f"dealer_{dealer}.xlsx").read_bytes()
        found = xlsx_items(response.content)
        assert len(found) == len(set(found)) and set(found) == mart_items(warehouse, dealer), dealer
        others = [d for d in dealers if d != dealer]
        assert client.get(f"/due-lists/{TODAY}/dealer/{others[0]}/download").status_code == 404


def test_steward_page_offers_the_nights_marked_copies(night):
    from dealersync.portal.app import create_app

    warehouse, exports, dealers = night
    mine, other = dealers[0], dealers[1]
    token = "steward-token-0123456789abcdef"
    client = TestClient(
        create_app(portal_settings(warehouse, exports, {token: f"dealer:{mine}"})),
        headers={"authorization": f"Bearer {token}"},
    )
    page = client.get("/steward").text
    folder = exports / "steward" / TODAY.isoformat()
    marked = sorted((folder / mine).glob("*.annotated.xlsx"))
    assert marked, "the sample's bad cells should give the dealer a marked copy"
    for path in marked:
        link = "/files/" + quote(path.relative_to(exports).as_posix())
        assert link in page
        assert client.get(link).content == path.read_bytes()
    for path in (folder / other).glob("*"):
        assert quote(path.name) not in page
        assert client.get("/files/" + quote(path.relative_to(exports).as_posix())).status_code == 404


def require_browser() -> None:
    """Skip when Debian's chromium is absent, unless DEALERSYNC_REQUIRE_BROWSER=1 (CI), which makes it fail."""
    if CHROMIUM.exists():
        return
    if os.environ.get("DEALERSYNC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"DEALERSYNC_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(
        f"{CHROMIUM} is not installed (apt-get install chromium); CI sets DEALERSYNC_REQUIRE_BROWSER=1"
    )


@pytest.fixture
def served(night):
    """The portal served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    from dealersync.portal.app import LOOPBACK_HOSTS, create_app

    warehouse, exports, _ = night
    app = create_app(portal_settings(warehouse, exports, {DESK_TOKEN: "all"}), allowed_hosts=LOOPBACK_HOSTS)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
def test_service_desk_picks_a_dealer_and_downloads_its_list(night, served, tmp_path):
    require_browser()
    from playwright.sync_api import sync_playwright

    warehouse, _, dealers = night
    dealer = max(dealers, key=lambda d: len(mart_items(warehouse, d, "overdue")))
    overdue = mart_items(warehouse, dealer, "overdue")
    assert overdue, "the sample data should have overdue items"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            page = browser.new_context(locale="zh-CN", accept_downloads=True).new_page()
            page.goto(f"{served}/due-lists?date={TODAY}")
            assert "/login" in page.url  # a token is needed: the login form
            page.fill("input[name=token]", DESK_TOKEN)
            page.click("form.login button[type=submit]")
            page.wait_for_url(f"**/due-lists?date={TODAY}")
            # the overview by region, then the dealer's region, then the dealer
            page.click(f"#regions tbody a:text-is('{_region_of(warehouse, dealer)}')")
            page.wait_for_url("**region=*")
            page.click(f"#dealers tr[data-dealer='{dealer}'] td:first-child a")
            page.wait_for_url(f"**/dealer/{dealer}")
            # filter to the overdue calls: the page reloads itself when the choice changes
            page.select_option("#filter-status", "overdue")
            page.wait_for_url("**status=overdue*")
            assert page.locator("#items tbody tr").count() == len(overdue)
            assert page.locator("#items tbody tr.overdue").count() == len(overdue)
            page.screenshot(path=str(tmp_path / "due_list.png"), full_page=True)
            with page.expect_download() as download_info:
                page.click("#download-xlsx")
            download = download_info.value
            assert download.suggested_filename == f"due_list_{TODAY}_dealer_{dealer}.xlsx"
            saved = tmp_path / download.suggested_filename
            download.save_as(str(saved))
        finally:
            browser.close()
    found = xlsx_items(saved.read_bytes())
    assert len(found) == len(set(found)) and set(found) == mart_items(warehouse, dealer)
    assert (tmp_path / "due_list.png").stat().st_size > 10_000


def _region_of(warehouse: Path, dealer: str) -> str:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            "SELECT region FROM core.dealers_current WHERE dealer_code = ?", [dealer]
        ).fetchall()[0][0]
    finally:
        con.close()
