"""Every page and download of the portal over HTTP (TestClient), with each kind of token.

The warehouse is the literal one of portal_seed.py: D1 and D2 in 华北, D3 in 华东; on 2026-11-20 D1 has
two first follow-ups (W1 overdue, W4 due), D2 and D3 one overdue each; D1's customer C1 is named like a
spreadsheet formula.
"""

from __future__ import annotations

import io
import shutil
from urllib.parse import quote

import duckdb
import openpyxl
import pytest
from fastapi.testclient import TestClient
from holders import warehouse_held
from portal_seed import (
    ALL_TOKEN,
    D1_TOKEN,
    DAY,
    FORMULA_NAME,
    LINEAGE,
    NORTH_TOKEN,
    PHONES,
    SHA_D1,
    SHA_D3,
    SHA_REFUSED,
    TOKENS,
    UNSTORED_DAY,
    html_table,
    links,
    portal_settings,
)

from dealersync.exports.due_list import due_list_folder
from dealersync.portal.app import LOOPBACK_HOSTS, create_app

PAGES = [
    "/due-lists",
    f"/due-lists?date={DAY}",
    f"/due-lists/{DAY}/dealer/D1",
    f"/due-lists/{DAY}/dealer/D1/download?format=csv",
    "/files/quality/quality_2026-W47.xlsx",
    "/summary?period=2026-W47",
    "/summary/kpi.csv?period=2026-W47",
    "/steward",
    f"/steward/files/{SHA_D1}",
    "/runs",
]


def error_message(page: str) -> str:
    return html_table_free_text(page, 'id="error-message">')


def html_table_free_text(page: str, marker: str) -> str:
    start = page.index(marker) + len(marker)
    return page[start : page.index("<", start)]


def xlsx_rows(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_every_page_and_download_needs_a_token(portal, url):
    api = portal(None).get(url)
    assert api.status_code == 401
    assert api.headers["www-authenticate"] == "Bearer"
    browser = portal(None).get(url, headers={"accept": "text/html"})
    assert browser.status_code == 303
    assert browser.headers["location"] == f"/login?next={quote(url, safe='')}"
    assert portal("not-a-token-0123456789").get(url).status_code == 401


@pytest.mark.parametrize("url", PAGES)
def test_every_page_answers_the_all_token(portal, url):
    response = portal().get(url)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


def test_login_form_gives_a_session_cookie_not_the_token(portal):
    browser = portal(None)
    assert "login" in browser.get("/login?next=/runs").text
    refused = browser.post("/login", data={"token": "wrong-token-0123456789", "next": "/runs"})
    assert refused.status_code == 401 and 'id="login-failed"' in refused.text
    assert "dealersync_portal" not in refused.cookies
    response = browser.post("/login", data={"token": D1_TOKEN, "next": "/runs"})
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and D1_TOKEN not in cookie
    page = browser.get(f"/due-lists?date={DAY}")
    assert page.status_code == 200 and 'data-scope="dealer:D1"' in page.text
    assert browser.post("/logout").headers["location"] == "/login"
    browser.cookies.clear()
    assert browser.get("/runs").status_code == 401


def test_login_never_redirects_to_another_site(portal):
    response = portal(None).post("/login", data={"token": ALL_TOKEN, "next": "//evil.example/"})
    assert response.headers["location"] == "/"


def test_without_tokens_configured_everything_is_open(portal_data):
    client = TestClient(create_app(portal_settings(*portal_data)))
    assert client.get(f"/due-lists?date={DAY}").status_code == 200
    assert "logout" not in client.get("/runs").text


def test_the_language_is_chosen_once_and_kept(portal):
    client = portal()
    assert "到期清单" in client.get(f"/due-lists?date={DAY}").text
    switched = client.get("/lang/en?next=/steward")
    assert switched.status_code == 303 and switched.headers["location"] == "/steward"
    assert "Files with problems" in client.get("/steward").text
    assert client.get("/lang/en?next=https://evil.example").headers["location"] == "/"
    assert client.get("/lang/fr").status_code == 404
    fresh = portal()
    assert "Due list" in fresh.get(f"/due-lists?date={DAY}", headers={"accept-language": "en-GB"}).text


def test_safe_headers_on_every_page(portal):
    response = portal().get(f"/due-lists?date={DAY}")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert portal(None).get("/static/portal.css").status_code == 200  # assets need no token


def test_loopback_portal_refuses_other_host_names(portal_data):
    """Bound to loopback, a page elsewhere cannot reach the portal by pointing its own name at 127.0.0.1."""
    app = create_app(portal_settings(*portal_data), allowed_hosts=LOOPBACK_HOSTS)
    assert TestClient(app, base_url="http://evil.example").get("/runs").status_code == 400
    assert TestClient(app, base_url="http://127.0.0.1:8000").get("/runs").status_code == 200
    assert TestClient(app, base_url="http://localhost:8000").get("/runs").status_code == 200


def test_no_phone_number_ever_appears_in_a_link(portal):
    """Access logs record URLs: the pages must never put a customer's phone in one."""
    client = portal()
    pages = [
        client.get(url).text
        for url in (
            f"/due-lists?date={DAY}",
            f"/due-lists?date={DAY}&region=华北",
            f"/due-lists/{DAY}/dealer/D1",
            f"/due-lists/{DAY}/region/华北",
            "/steward",
            f"/steward/files/{SHA_D1}",
        )
    ]
    assert PHONES[0] in pages[2], "the desk does see the phone on the page"
    for page in pages:
        for link in links(page):
            assert not any(phone in link for phone in PHONES), link


# --- due lists ---------------------------------------------------------------------------------------


def test_overview_by_region_then_by_dealer(portal):
    client = portal()
    regions = html_table(client.get(f"/due-lists?date={DAY}").text, "regions")
    by_region = {row[0]: row for row in regions[1:-1]}
    # region, list, dealers, items, overdue, high, unreachable, then one count per kind
    assert [by_region["华北"][i] for i in (2, 3, 4)] == ["2", "3", "2"]
    assert [by_region["华东"][i] for i in (2, 3, 4)] == ["1", "1", "1"]
    assert regions[-1][3:5] == ["4", "3"]  # the company total
    dealers = html_table(client.get(f"/due-lists?date={DAY}&region=华北").text, "dealers")
    assert [(row[0], row[4], row[5]) for row in dealers[1:-1]] == [("D1", "2", "1"), ("D2", "1", "1")]


@pytest.mark.parametrize(
    ("token", "asked", "dealers"),
    [
        (NORTH_TOKEN, "", ["D1", "D2"]),
        (NORTH_TOKEN, "&region=华东", ["D1", "D2"]),  # a region token cannot look at another region
        (D1_TOKEN, "&region=华北", ["D1"]),
    ],
)
def test_scoped_overview_shows_only_its_dealers(portal, token, asked, dealers):
    page = portal(token).get(f"/due-lists?date={DAY}{asked}").text
    assert 'id="regions"' not in page
    shown = [row[0] for row in html_table(page, "dealers")[1:] if row[0] in ("D1", "D2", "D3")]
    assert shown == dealers


def test_table_of_a_dealer_filtered_by_kind_and_status(portal):
    client = portal()
    items = html_table(client.get(f"/due-lists/{DAY}/dealer/D1").text, "items")
    assert [row[9] for row in items[1:]] == ["W1", "W4"]  # overdue first
    overdue = html_table(client.get(f"/due-lists/{DAY}/dealer/D1?status=overdue").text, "items")
    assert [row[9] for row in overdue[1:]] == ["W1"]
    none = client.get(f"/due-lists/{DAY}/dealer/D1?kind=campaign_call").text
    assert html_table(none, "items")[1][0] in ("没有待办事项。", "Nothing is due.")
    region = html_table(client.get(f"/due-lists/{DAY}/region/华北?status=overdue").text, "items")
    assert sorted((row[5], row[10]) for row in region[1:]) == [("D1", "W1"), ("D2", "W2")]


def test_data_is_shown_as_stored_and_escaped(portal):
    page = portal().get(f"/due-lists/{DAY}/dealer/D1").text
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;点我&#34;)" in page
    assert FORMULA_NAME not in page


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/due-lists?date=2026-13-01", 400, "2026-13-01"),
        ("/due-lists?date=yesterday", 400, "yesterday"),
        ("/due-lists/26.11.2026/dealer/D1", 400, "26.11.2026"),
        ("/due-lists?date=2099-01-01", 400, "2099-01-01"),  # a day not yet come, never stored
        (f"/due-lists/{DAY}/dealer/D1?kind=visit", 400, "visit"),
        (f"/due-lists/{DAY}/dealer/D1?status=late", 400, "late"),
        (f"/due-lists/{DAY}/dealer/D1/download?format=pdf", 400, "pdf"),
        (f"/due-lists/{DAY}/dealer/D404", 404, "D404"),
        (f"/due-lists/{DAY}/branch/D1", 404, ""),
        ("/due-lists?date=2026-11-20&region=火星", 404, "火星"),
        ("/summary?period=2026-W60", 400, "2026-W60"),
        ("/summary?period=next week", 400, "next week"),
        ("/summary?period=9999-W52", 400, "9999-W52"),  # the calendar's last week, then no following one
        ("/summary?period=0001-W01", 400, "0001-W01"),  # the charts reach back before the calendar's start
        ("/summary?period=0001", 400, "0001"),
        ("/summary/kpi.csv?period=9999-12", 400, "9999-12"),
        ("/summary?view=dealers:D1", 400, "dealers:D1"),
        ("/steward/files/not-a-hash", 404, ""),
        (f"/steward/files/{'0' * 64}", 404, ""),
        ("/no/such/page", 404, ""),
    ],
)
def test_mistakes_get_a_clear_page_not_a_traceback(portal, url, status, says):
    response = portal().get(url)
    assert response.status_code == status
    message = error_message(response.text)
    assert says in message and "Traceback" not in response.text


def test_a_past_day_never_stored_is_computed_on_the_spot(portal):
    page = portal().get(f"/due-lists/{UNSTORED_DAY}/dealer/D1").text
    assert 'id="computed-now"' in page
    # on 11-19 W1 is overdue and W4 (due from 11-18) is due: the same rules, one day earlier
    assert [(row[0], row[9]) for row in html_table(page, "items")[1:]] == [("逾期", "W1"), ("待办", "W4")]


def test_download_serves_the_nights_file(portal_data, portal):
    _, exports = portal_data
    stored = due_list_folder(exports, DAY) / "dealer_D1.xlsx"
    response = portal().get(f"/due-lists/{DAY}/dealer/D1/download?format=xlsx")
    assert response.content == stored.read_bytes()
    assert 'filename="due_list_2026-11-20_dealer_D1.xlsx"' in response.headers["content-disposition"]


def test_download_on_demand_is_formula_safe(portal):
    """A day without files is exported on the spot with the same code: a formula-like cell stays text."""
    response = portal(D1_TOKEN).get(f"/due-lists/{UNSTORED_DAY}/dealer/D1/download?format=xlsx")
    assert response.status_code == 200
    sheets = xlsx_rows(response.content)
    first_calls = sheets["首次回访"]
    header = first_calls[0]
    rows = [dict(zip(header, row, strict=True)) for row in first_calls[1:]]
    assert [r["单号"] for r in rows] == ["W1", "W4"]
    assert rows[0]["客户名称"] == FORMULA_NAME  # as written, in a string cell
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert all(c.data_type != "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row)
    csv = portal(D1_TOKEN).get(f"/due-lists/{UNSTORED_DAY}/dealer/D1/download?format=csv")
    text = csv.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text


def test_a_stale_file_is_not_served(portal_data, tmp_path):
    """A file older than the day's stored list (the list was recomputed since) gives way to a fresh export."""
    warehouse, exports = portal_data
    shutil.copy(warehouse, tmp_path / "warehouse.duckdb")
    shutil.copytree(exports, tmp_path / "exports", symlinks=True)
    stale = due_list_folder(tmp_path / "exports", DAY) / "dealer_D2.csv"
    stale.write_text("stale\n", encoding="utf-8")
    import os

    os.utime(stale, (0, 0))
    client = TestClient(create_app(portal_settings(tmp_path / "warehouse.duckdb", tmp_path / "exports")))
    text = client.get(f"/due-lists/{DAY}/dealer/D2/download?format=csv").content.decode("utf-8-sig")
    assert "stale" not in text and "W2" in text


@pytest.mark.parametrize(
    ("token", "url", "allowed"),
    [
        (D1_TOKEN, f"/due-lists/{DAY}/dealer/D1/download?format=csv", True),
        (D1_TOKEN, f"/due-lists/{DAY}/dealer/D2/download?format=csv", False),
        (D1_TOKEN, f"/due-lists/{DAY}/region/华北/download?format=xlsx", False),
        (D1_TOKEN, f"/due-lists/{DAY}/dealer/D2", False),
        (D1_TOKEN, f"/due-lists/{DAY}/region/华北", False),
        (NORTH_TOKEN, f"/due-lists/{DAY}/region/华北/download?format=xlsx", True),
        (NORTH_TOKEN, f"/due-lists/{DAY}/dealer/D2/download?format=xlsx", True),
        (NORTH_TOKEN, f"/due-lists/{DAY}/dealer/D3/download?format=xlsx", False),
        (NORTH_TOKEN, f"/due-lists/{DAY}/region/华东/download?format=csv", False),
        (NORTH_TOKEN, f"/due-lists/{UNSTORED_DAY}/dealer/D3/download?format=csv", False),
        (NORTH_TOKEN, f"/due-lists/{DAY}/region/华东", False),
    ],
)
def test_scoped_tokens_get_only_their_lists(portal, token, url, allowed):
    response = portal(token).get(url)
    assert response.status_code == (200 if allowed else 404)


def test_region_download_holds_only_the_region(portal):
    sheets = xlsx_rows(portal(NORTH_TOKEN).get(f"/due-lists/{UNSTORED_DAY}/region/华北/download").content)
    header, *rows = sheets["首次回访"]
    dealers = {dict(zip(header, row, strict=True))["经销商代码"] for row in rows}
    assert dealers == {"D1", "D2"}


def test_region_download_lists_every_dealer_of_the_region_even_with_nothing_due(portal):
    """11-12: nothing is due yet (the first pickups were on 11-10); the overview still names both dealers."""
    sheets = xlsx_rows(portal(NORTH_TOKEN).get("/due-lists/2026-11-12/region/华北/download").content)
    assert [row[:3] for row in sheets["概览"] if row[0] in ("D1", "D2", "D3")] == [
        ("D1", "一号店", 0),
        ("D2", "二号店", 0),
    ]


# --- files of the exports folder ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "..%2Fsecret.csv",
        "%2e%2e/%2e%2e/secret.csv",
        "due_lists/..%2F..%2Fsecret.csv",
        "%2Fetc%2Fpasswd",
        "due_lists%5C..%5C..%5Csecret.csv",
        f"due_lists/{DAY}/dealer_D9.csv",  # a symlink out of the folder
        f"steward/{DAY}/D1/escape.csv",
        ".hidden.csv",
        "notes.txt",
        "due_lists",
        "secret.csv%00.xlsx",
        "a" * 300 + ".xlsx",  # a name longer than the file system allows
        "due_lists/" + "a" * 5000,
    ],
)
def test_no_download_outside_the_exports_folder(portal, path):
    response = portal().get(f"/files/{path}")
    assert response.status_code == 404
    assert "没有这个文件" in error_message(response.text)  # the download route itself said no
    assert b"customer,phone" not in response.content


def test_raw_traversal_request_is_refused(portal_data):
    """The same attempts sent as raw bytes, without the HTTP client tidying the path first."""
    warehouse, exports = portal_data
    app = create_app(portal_settings(warehouse, exports))
    for raw in (b"/files/../secret.csv", b"/files/due_lists/../../secret.csv", b"/files//etc/passwd"):
        scope = {
            "type": "http",
            "method": "GET",
            "path": raw.decode(),
            "raw_path": raw,
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
        }
        sent = []

        async def receive():
            return {"type": "http.request", "body": b""}

        async def send(message, sent=sent):
            sent.append(message)

        import anyio

        anyio.run(app, scope, receive, send)
        assert sent[0]["status"] == 404, raw


@pytest.mark.parametrize(
    ("token", "path", "allowed"),
    [
        (ALL_TOKEN, "quality/quality_2026-W47.xlsx", True),
        (NORTH_TOKEN, "quality/quality_2026-W47.xlsx", False),
        (D1_TOKEN, "quality/quality_2026-W47.xlsx", False),
        (D1_TOKEN, f"due_lists/{DAY}/dealer_D1.xlsx", True),
        (D1_TOKEN, f"due_lists/{DAY}/dealer_D2.xlsx", False),
        (D1_TOKEN, f"due_lists/{DAY}/region_华北.csv", False),
        (NORTH_TOKEN, f"due_lists/{DAY}/region_华北.csv", True),
        (NORTH_TOKEN, f"due_lists/{DAY}/region_华东.csv", False),
        (D1_TOKEN, f"steward/{DAY}/D1/D1_客服台账.annotated.xlsx", True),
        (D1_TOKEN, f"steward/{DAY}/D3/D3_台账.annotated.xlsx", False),
        (NORTH_TOKEN, f"steward/{DAY}/D3/D3_台账.problems.csv", False),
    ],
)
def test_exports_files_by_scope(portal, token, path, allowed):
    assert portal(token).get(f"/files/{quote(path)}").status_code == (200 if allowed else 404)


# --- quality summary ----------------------------------------------------------------------------------


def kpi_row(page: str, label: str) -> list[str]:
    return next(row for row in html_table(page, "kpis") if row[0] == label)


def test_summary_against_targets_with_charts_and_alerts(portal):
    page = portal().get("/summary?period=2026-W47", headers={"accept-language": "en"}).text
    row = kpi_row(page, "Return-visit rate, warranty period")
    assert row[1:4] == ["50.0%", "100.0%", "✗ below target"]
    assert row[6:] == ["1", "2"]
    assert page.count("<svg") == 8 and "stroke-dasharray" in page
    alerts = html_table(page, "alerts")
    assert sorted(a[5] for a in alerts[1:]) == ["B-EAST", "B-NORTH"]
    assert "VINNORTH1" in page  # the whole company sees the evidence
    assert "/files/quality/quality_2026-W47.xlsx" in page


def test_summary_of_a_region_chosen_by_the_all_token(portal):
    page = portal().get("/summary?period=2026-W47&view=region:华东", headers={"accept-language": "en"}).text
    assert kpi_row(page, "Return-visit rate, warranty period")[1] == "100.0%"


@pytest.mark.parametrize(
    ("token", "value", "batches", "reporters"),
    [
        (NORTH_TOKEN, "0.0%", ["B-NORTH"], "D1, D2"),
        (D1_TOKEN, "0.0%", ["B-NORTH"], "D1"),  # D2 reported too, but a dealer sees only itself
    ],
)
def test_scoped_summary_shows_its_own_figures_and_alerts(portal, token, value, batches, reporters):
    page = portal(token).get("/summary?period=2026-W47&view=all", headers={"accept-language": "en"}).text
    assert kpi_row(page, "Return-visit rate, warranty period")[1] == value
    alerts = html_table(page, "alerts")
    assert [a[5] for a in alerts[1:]] == batches
    assert alerts[1][-1] == reporters
    assert "VINNORTH1" not in page and "/files/quality/" not in page


def test_kpi_csv_of_the_scope(portal):
    text = portal(D1_TOKEN).get("/summary/kpi.csv?period=2026-W47").content.decode("utf-8-sig")
    header, *rows = [line.split(",") for line in text.strip().splitlines()]
    scope = header.index("scope")
    assert {row[scope] for row in rows} == {"dealer:D1"}
    figures = {row[header.index("figure")] for row in rows}
    assert "return_visit_rate" in figures


def test_a_period_without_figures_says_so(portal):
    page = portal().get("/summary?period=2020-W01").text
    assert 'id="no-figures"' in page and 'id="no-alerts"' in page


# --- steward and runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "files"),
    [
        (ALL_TOKEN, {"D1_客服台账.xlsx", "D3_台账.xlsx", "mystery.xlsx"}),
        (NORTH_TOKEN, {"D1_客服台账.xlsx"}),
        (D1_TOKEN, {"D1_客服台账.xlsx"}),
    ],
)
def test_steward_files_by_scope(portal, token, files):
    page = portal(token).get("/steward").text
    shown = {row[1].split(" ")[0] for row in html_table(page, "files")[1:]}
    assert shown == files


def test_steward_file_with_its_problems_and_annotated_copy(portal):
    page = portal(D1_TOKEN).get(f"/steward/files/{SHA_D1}").text
    problems = html_table(page, "problems")
    assert problems[1][1:7] == [
        "客户档案",
        "5",
        "联系电话",
        "=1+1",
        "not_a_phone",
        "联系电话 =1+1 不是电话号码",
    ]
    (sheet,) = html_table(page, "sheets")[1:]
    assert sheet[:3] == ["客户档案", "customers", "3"] and sheet[-2] == "2 / 1 / 1"  # blank / total / title
    annotated = f"/files/{quote(f'steward/{DAY}/D1/D1_客服台账.annotated.xlsx')}"
    assert annotated in page
    assert portal(D1_TOKEN).get(annotated).content == b"annotated D1"
    assert portal(D1_TOKEN).get(f"/steward/files/{SHA_D3}").status_code == 404
    assert portal().get(f"/steward/files/{SHA_REFUSED}").status_code == 200


def test_a_dealer_sees_its_files_among_many_newer_files_of_other_dealers(portal_data, tmp_path):
    """The page lists the newest 200 files with problems; a dealer's are the newest 200 of its own."""
    warehouse, exports = portal_data
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("""
    INSERT INTO etl.files (run_id, file_name, sha256, size_bytes, source, status, reason, rows_read, rows_loaded,
                           rows_warned, rows_rejected, seconds, processed_at)
    SELECT 1, 'D3_' || i || '.xlsx', sha256(i::VARCHAR), 1000, 'dealer', 'loaded', NULL, 1, 1, 1, 0, 0.1,
           TIMESTAMPTZ '2026-11-20 03:00:00+00' + to_seconds(i)
    FROM range(250) AS t(i);
    INSERT INTO raw.customers (run_id, file_sha256, sheet, excel_row, loaded_at, dealer_code, customer_id)
    SELECT 1, sha256(i::VARCHAR), '客户档案', 2, TIMESTAMPTZ '2026-11-20 03:00:00+00', 'D3', 'C3'
    FROM range(250) AS t(i);
    """)
    con.close()
    client = TestClient(create_app(portal_settings(copy, exports, TOKENS)))
    for token, name in (
        (D1_TOKEN, "D1_客服台账.xlsx"),
        (NORTH_TOKEN, "D1_客服台账.xlsx"),
        (ALL_TOKEN, "D3_249.xlsx"),
    ):
        page = client.get("/steward", headers={"authorization": f"Bearer {token}"}).text
        shown = {row[1].split(" ")[0] for row in html_table(page, "files")[1:] if len(row) > 1}
        assert name in shown, token


def test_a_file_with_more_problems_than_the_page_shows_says_where_the_rest_are(portal_data, tmp_path):
    warehouse, exports = portal_data
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute(f"""
    INSERT INTO quarantine.warnings (run_id, file_sha256, file_name, sheet, kind, excel_row, column_name, field,
        cell_value, rule, message, message_zh, dealer_code, business_key, first_seen_at, last_seen_at)
    SELECT 1, '{SHA_D1}', 'D1_客服台账.xlsx', '客户档案', 'customers', 10 + i, '车架号', 'vin', 'VIN', 'vin_check_digit',
           'vin check digit', '车架号校验位不对', 'D1', 'D1|W' || i, now(), now()
    FROM range(2000) AS t(i);
    """)
    con.close()
    client = TestClient(create_app(portal_settings(copy, exports)))
    page = client.get(f"/steward/files/{SHA_D1}", headers={"accept-language": "en"}).text
    assert len(html_table(page, "problems")) == 1 + 2000
    assert (
        "The first 2000 problems are shown; the annotated workbook and the problem list CSV have them all"
        in page
    )
    assert 'id="problems-cut"' not in client.get(f"/steward/files/{SHA_D3}").text


def test_runs_with_their_files(portal):
    page = portal().get("/runs", headers={"accept-language": "en"}).text
    assert "3 files: 2 loaded, 1 refused" in page and "mystery.xlsx" in page
    scoped = portal(D1_TOKEN).get("/runs").text
    assert "D1_客服台账.xlsx" in scoped and "D3_台账.xlsx" not in scoped and "mystery.xlsx" not in scoped
    assert "3 files" not in scoped


# --- the warehouse as it may be ------------------------------------------------------------------------


def test_while_the_night_holds_the_warehouse_the_page_says_so(portal_data, tmp_path):
    warehouse, exports = portal_data
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    with warehouse_held(copy):
        client = TestClient(create_app(portal_settings(copy, exports, portal_wait_seconds=0.3)))
        response = client.get(f"/due-lists?date={DAY}", headers={"accept-language": "en"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "60"
        assert "nightly run is loading, try again in a minute" in error_message(response.text)
        assert '<meta http-equiv="refresh" content="60">' in response.text


def test_a_page_leaves_the_warehouse_free_for_the_night(portal_data, tmp_path):
    warehouse, exports = portal_data
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    client = TestClient(create_app(portal_settings(copy, exports)))
    assert client.get(f"/due-lists/{DAY}/dealer/D1").status_code == 200
    writer = duckdb.connect(str(copy))  # would fail while a read-only connection were still open
    writer.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: None, "no warehouse yet"),
        (lambda path: duckdb.connect(str(path)).close(), "older than this program"),
        (lambda path: path.write_bytes(b"not a database" * 100), "cannot be opened"),
    ],
)
def test_a_missing_or_unusable_warehouse_gets_a_clear_page(tmp_path, make, says):
    path = tmp_path / "warehouse.duckdb"
    make(path)
    client = TestClient(create_app(portal_settings(path, tmp_path / "exports")))
    response = client.get("/runs", headers={"accept-language": "en"})
    assert response.status_code == 503 and says in error_message(response.text)


def test_a_warehouse_of_the_previous_release_gets_the_outdated_page_until_the_night_migrates_it(
    tmp_path, monkeypatch
):
    """Ops upgrade the code by day: the page must say the night will update the warehouse, not fail on a
    table or column the new code reads (mart.due_customer_vehicles, core.vehicles.first_seen)."""
    from dealersync.warehouse import db

    path = tmp_path / "warehouse.duckdb"
    shipped = db.migrations()
    monkeypatch.setattr(db, "migrations", lambda: shipped[:-1])
    db.open_warehouse(path).close()
    monkeypatch.undo()
    client = TestClient(create_app(portal_settings(path, tmp_path / "exports")))
    for page in (f"/due-lists?date={DAY}", f"/due-lists/{DAY}/dealer/D1/download?format=csv", "/runs"):
        response = client.get(page, headers={"accept-language": "en"})
        assert response.status_code == 503, page
        assert "older than this program" in error_message(response.text)
    db.open_warehouse(path).close()  # the night migrates it
    assert client.get(f"/due-lists?date={DAY}").status_code == 200


def test_an_unexpected_error_is_a_page_and_a_log_line(portal_data, monkeypatch, caplog):
    from dealersync.warehouse import portal_queries

    def broken(*args, **kwargs):
        detail = f"customer {PHONES[0]} broke it"
        raise RuntimeError(detail)

    monkeypatch.setattr(portal_queries, "recent_runs", broken)
    client = TestClient(create_app(portal_settings(*portal_data)), raise_server_exceptions=False)
    response = client.get("/runs", headers={"accept-language": "en"})
    assert response.status_code == 500
    assert PHONES[0] not in response.text and "Traceback" not in response.text
    assert "Something unexpected" in error_message(response.text)
    assert "RuntimeError" in caplog.text and PHONES[0] not in caplog.text


def test_tokens_in_the_settings_are_checked_before_serving(portal_data):
    from dealersync.portal.access import PortalConfigError

    with pytest.raises(PortalConfigError):
        create_app(portal_settings(*portal_data, {"short": "all"}))
    assert set(TOKENS.values()) == {"all", "dealer:D1", "region:华北"}


def test_a_past_day_shows_the_dealers_in_their_region_of_that_day(tmp_path):
    """D1 moved from 华北 to 华东 on 11-15: the page and the download of 11-12 show it in 华北, as that day."""
    from dealersync.warehouse.db import open_warehouse

    warehouse = tmp_path / "warehouse.duckdb"
    con = open_warehouse(warehouse)
    con.execute(f"""
    INSERT INTO core.dealers (dealer_code, name, region, valid_from, valid_to, run_id, file_sha256, sheet,
                              excel_row, loaded_at)
    VALUES ('D1', '一号店', '华北', DATE '2020-01-01', DATE '2026-11-15', {LINEAGE}),
           ('D1', '一号店', '华东', DATE '2026-11-15', NULL, {LINEAGE}),
           ('D2', '二号店', '华北', DATE '2020-01-01', NULL, {LINEAGE})
    """)
    con.close()
    client = TestClient(create_app(portal_settings(warehouse, tmp_path / "exports")))

    def dealers_shown(region: str) -> list[str]:
        page = client.get(f"/due-lists?date=2026-11-12&region={region}").text
        return [row[0] for row in html_table(page, "dealers") if row[0] in ("D1", "D2")]

    shown = {region: dealers_shown(region) for region in ("华北", "华东")}
    assert shown == {"华北": ["D1", "D2"], "华东": []}
    sheets = xlsx_rows(client.get("/due-lists/2026-11-12/region/华北/download").content)
    assert [row[0] for row in sheets["概览"] if row[0] in ("D1", "D2")] == ["D1", "D2"]
