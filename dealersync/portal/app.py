"""The service-desk portal: due lists, quality summaries, steward files and runs, read-only, in a browser.

Each page opens the warehouse read-only for the time of one request (so the nightly run can still
take it) and reads through `warehouse.portal_queries`; downloads come from the exports folder, or are
written on demand with the same export code. A token scoped to a dealer or a region sees only that.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, quote

import duckdb
import jinja2
import polars as pl
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from dealersync.exports.cells import safe_frame
from dealersync.exports.due_list import FORMATS, XLSX, due_list_folder, write_due_list_files
from dealersync.exports.quality_report import CHARTED, HEADLINE, change_arrow, report_path
from dealersync.exports.steward import annotated_name, problems_csv_name
from dealersync.portal import i18n
from dealersync.portal.access import (
    ALL,
    DEALER,
    EVERYTHING,
    REGION,
    SESSION_COOKIE,
    Access,
    Scope,
    exports_file,
    file_safe_name,
    may_download,
    safe_next,
    session_value,
)
from dealersync.portal.charts import line_chart
from dealersync.settings import Settings, get_settings
from dealersync.transforms.due_list import KIND, STATUS
from dealersync.transforms.quality_summary import COMPANY, FIGURES, RATE, WEEK, Period, chart_periods
from dealersync.warehouse import portal_queries as queries
from dealersync.warehouse.db import WarehouseError, connect

HERE = Path(__file__).parent
ROWS_SHOWN = 2000  # a table shows this many items; the download has them all
PROBLEMS_SHOWN = 2000  # a file's page lists this many problems; its marked copy and CSV have them all
LOGIN_BODY_LIMIT = 4096
SESSION_HOURS = 12
LANG_COOKIE = "lang"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]

log = logging.getLogger("dealersync.portal")

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


class PageError(Exception):
    """A page that cannot be shown, with a message from the catalogue (and the HTTP status to send)."""

    def __init__(self, status: int, key: str, **params) -> None:
        super().__init__(key)
        self.status, self.key, self.params = status, key, params


class LoginRequired(Exception):
    """The request carries no valid token or session."""


def create_app(settings: Settings | None = None, *, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The portal over the settings' warehouse and exports folder.

    `allowed_hosts` limits the Host header (serve passes the loopback names when bound to loopback,
    so a web page elsewhere cannot reach the portal by DNS rebinding). Raises PortalConfigError for
    unusable token settings.
    """
    settings = settings or get_settings()
    app = FastAPI(title="dealersync portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.access = Access(settings.portal_tokens)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    app.state.templates = Jinja2Templates(env=environment)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("cache-control", "no-store")
        return response

    _add_error_handlers(app)
    _add_routes(app)
    return app


# --- requests, pages and errors --------------------------------------------------------------------


def _lang(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    accepted = request.headers.get("accept-language", "").lower()
    return i18n.EN if accepted.startswith("en") else i18n.ZH


def current_scope(request: Request) -> Scope:
    """The scope of the request's token or session; LoginRequired when there is none."""
    access: Access = request.app.state.access
    scope = access.for_request(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))
    if scope is None:
        raise LoginRequired
    return scope


def _render(request: Request, template: str, status_code: int = 200, headers=None, **context) -> Response:
    t = i18n.Translator(_lang(request))
    access: Access = request.app.state.access
    context = {
        "t": t,
        "lang": t.lang,
        "path": _here(request),
        "login_used": not access.open,
        "scope": context.pop("scope", None),
        **context,
    }
    return request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=headers
    )


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PageError)
    async def page_error(request: Request, error: PageError):
        headers = {"retry-after": "60"} if error.status == 503 else None
        return _render(
            request,
            "error.html",
            error.status,
            headers,
            message_key=error.key,
            params=error.params,
            refresh=error.key == "error.busy",
        )

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _error: LoginRequired):
        wants_page = "text/html" in request.headers.get("accept", "") and not request.headers.get(
            "authorization"
        )
        if wants_page:
            return RedirectResponse(f"/login?next={quote(_here(request), safe='')}", status_code=303)
        return Response(
            "a valid portal token is needed (Authorization: Bearer <token>)\n",
            status_code=401,
            headers={"www-authenticate": "Bearer"},
            media_type="text/plain",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        key = "error.not_found" if error.status_code == 404 else "error.http"
        return _render(request, "error.html", error.status_code, message_key=key, params={}, refresh=False)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _error: RequestValidationError):
        return _render(request, "error.html", 400, message_key="error.bad_request", params={}, refresh=False)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        # Where it failed, not the message: an error's text may quote customer data (logs must not).
        frames = "".join(traceback.format_tb(error.__traceback__))
        log.error("portal error on %s: %s\n%s", request.url.path, type(error).__name__, frames)
        return _render(request, "error.html", 500, message_key="error.internal", params={}, refresh=False)


@contextmanager
def _warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, read-only, for one request; a friendly PageError when it cannot be read now."""
    path = settings.warehouse_path
    if not path.exists():
        raise PageError(503, "error.no_warehouse")
    try:
        con = connect(path, read_only=True, wait_seconds=settings.portal_wait_seconds)
    except WarehouseError as error:
        locked = isinstance(error.__cause__, duckdb.IOException) and "lock" in str(error.__cause__).lower()
        raise PageError(503, "error.busy" if locked else "error.unreadable") from None
    try:
        if queries.outdated(con):
            raise PageError(503, "error.outdated")
        yield con
    finally:
        con.close()


def _day(text: str | None, settings: Settings) -> date:
    if not text:
        return settings.today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(400, "error.bad_date", value=text[:40]) from None


def _choice(value: str | None, allowed: tuple[str, ...], key: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise PageError(400, key, value=value[:40])
    return value


def _scope_dealers(con, scope: Scope) -> list[str] | None:
    """The dealers a scope may see; None = all of them."""
    if scope.kind == DEALER:
        return [scope.value]
    if scope.kind == REGION:
        return queries.dealers_of_region(con, scope.value)
    return None


def _check_list_access(con, scope: Scope, level: str, name: str) -> None:
    """A dealer's or a region's list exists and the scope may see it; 404 otherwise (the same for both)."""
    if level == DEALER:
        allowed = scope.kind == ALL or name in (_scope_dealers(con, scope) or ())
        known = queries.known_dealer(con, name)
    elif level == REGION:
        allowed = scope.kind == ALL or scope == Scope(REGION, name)
        known = queries.known_region(con, name)
    else:
        raise PageError(404, "error.not_found")
    if not (allowed and known):
        raise PageError(404, "error.no_such_list", name=name[:60])


def _list_day(con, day: date, settings: Settings) -> tuple[date, bool]:
    """The day asked for and whether its list is stored; a day never stored must not be in the future."""
    stored = queries.due_list_computed_at(con, day) is not None
    if not stored and day > settings.today():
        raise PageError(400, "error.future_day", day=day.isoformat(), today=settings.today().isoformat())
    return day, stored


# --- routes -----------------------------------------------------------------------------------------


def _add_routes(app: FastAPI) -> None:
    def settings_of(request: Request) -> Settings:
        return request.app.state.settings

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/due-lists", status_code=303)

    @app.get("/login")
    def login_page(request: Request, next: str = "/"):
        return _render(request, "login.html", next=safe_next(next), failed=False)

    @app.post("/login")
    async def login(request: Request):
        form = await _small_form(request)
        token, target = form.get("token", ""), safe_next(form.get("next"))
        access: Access = request.app.state.access
        if access.for_token(token) is None:
            return _render(request, "login.html", 401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_value(token.strip()),
            max_age=SESSION_HOURS * 3600,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout")
    def logout() -> RedirectResponse:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/lang/{code}")
    def choose_language(code: str, next: str = "/"):
        if code not in i18n.LANGUAGES:
            raise PageError(404, "error.not_found")
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
        return response

    @app.get("/due-lists")
    def due_lists(
        request: Request,
        day_text: str | None = Query(None, alias="date"),
        region: str | None = None,
        scope=Depends(current_scope),
    ):
        settings = settings_of(request)
        with _warehouse(settings) as con:
            day, stored = _list_day(con, _day(day_text, settings), settings)
            if scope.kind == REGION:
                region = scope.value
            elif scope.kind == DEALER:
                region = None
            elif region and not queries.known_region(con, region):
                raise PageError(404, "error.no_such_list", name=region[:60])
            counts = queries.due_list_counts(
                con,
                day,
                settings.maintenance_lead_days,
                dealers=_scope_dealers(con, scope) if scope.kind == DEALER else None,
                region=region,
            )
            days = queries.stored_due_list_days(con)
        by_region = _region_totals(counts) if scope.kind == ALL and region is None else None
        return _render(
            request,
            "due_lists.html",
            scope=scope,
            day=day,
            stored=stored,
            days=days,
            region=region,
            counts=counts.to_dicts(),
            by_region=by_region,
            totals=_totals(counts),
            kinds=KIND.codes,
        )

    @app.get("/due-lists/{day}/{level}/{name}")
    def due_list_table(
        request: Request,
        day: str,
        level: str,
        name: str,
        kind: str | None = None,
        status: str | None = None,
        scope=Depends(current_scope),
    ):
        settings = settings_of(request)
        kind = _choice(kind, KIND.codes, "error.bad_kind")
        status = _choice(status, STATUS.codes, "error.bad_status")
        with _warehouse(settings) as con:
            _check_list_access(con, scope, level, name)
            list_day, stored = _list_day(con, _day(day, settings), settings)
            rows = queries.due_list_rows(
                con,
                list_day,
                settings.maintenance_lead_days,
                dealers=[name] if level == DEALER else None,
                region=name if level == REGION else scope.region,
                kind=kind,
                status=status,
            )
        return _render(
            request,
            "due_list.html",
            scope=scope,
            day=list_day,
            stored=stored,
            level=level,
            name=name,
            rows=rows.head(ROWS_SHOWN).to_dicts(),
            total=rows.height,
            shown=min(rows.height, ROWS_SHOWN),
            kind=kind,
            status=status,
            kinds=KIND.codes,
            statuses=STATUS.codes,
        )

    @app.get("/due-lists/{day}/{level}/{name}/download")
    def due_list_download(
        request: Request,
        day: str,
        level: str,
        name: str,
        file_format: str = Query(XLSX, alias="format"),
        scope=Depends(current_scope),
    ):
        settings = settings_of(request)
        file_format = _choice(file_format, FORMATS, "error.bad_format")
        with _warehouse(settings) as con:
            _check_list_access(con, scope, level, name)
            list_day, stored = _list_day(con, _day(day, settings), settings)
            download_name = f"due_list_{list_day.isoformat()}_{level}_{file_safe_name(name)}.{file_format}"
            stored_file = (
                _fresh_stored_file(con, settings, list_day, level, name, file_format) if stored else None
            )
            if stored_file is not None:
                return FileResponse(stored_file, filename=download_name)
            rows = queries.due_list_rows(
                con,
                list_day,
                settings.maintenance_lead_days,
                dealers=[name] if level == DEALER else None,
                region=name if level == REGION else scope.region,
            )
            dealers = queries.active_dealers_of_region(con, name, list_day) if level == REGION else ()
        folder = Path(tempfile.mkdtemp(prefix="dealersync-portal-"))
        (written,) = write_due_list_files(rows, list_day, folder, level, name, [file_format], dealers=dealers)
        return FileResponse(
            written,
            filename=download_name,
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )

    @app.get("/files/{relative:path}")
    def exports_download(request: Request, relative: str, scope=Depends(current_scope)):
        settings = settings_of(request)
        found = exports_file(settings.exports_dir, relative)
        if found is None:
            raise PageError(404, "error.no_such_file")
        target, inside = found
        dealers = None
        if scope.kind != ALL:
            with _warehouse(settings) as con:
                dealers = _scope_dealers(con, scope)
        if not may_download(inside, scope, dealers):
            raise PageError(404, "error.no_such_file")
        return FileResponse(target, filename=target.name)

    @app.get("/summary")
    def summary(
        request: Request, period: str | None = None, view: str | None = None, scope=Depends(current_scope)
    ):
        settings = settings_of(request)
        chosen = _period(period, settings)
        shown = _view_scope(view, scope)
        recent = chart_periods(chosen)
        with _warehouse(settings) as con:
            kpi = queries.kpi_rows(con, chosen.type, [p.label for p in recent], *_kpi_scope(shown))
            dealers = _scope_dealers(con, scope)
            alerts = queries.batch_alerts(con, [w.label for w in chosen.weeks()], dealers)
            report_files = _report_files(con, settings, chosen) if scope.kind == ALL else []
            choices = _view_choices(con, scope)
            periods = queries.quality_periods(con, chosen.type)
        t = i18n.Translator(_lang(request))
        return _render(
            request,
            "summary.html",
            scope=scope,
            period=chosen,
            view=shown,
            view_choices=choices,
            periods=periods,
            headline=_headline(kpi, chosen),
            charts=_charts(kpi, recent, t),
            alerts=_alert_rows(alerts, dealers),
            report_files=report_files,
        )

    @app.get("/summary/kpi.csv")
    def summary_csv(
        request: Request, period: str | None = None, view: str | None = None, scope=Depends(current_scope)
    ):
        settings = settings_of(request)
        chosen = _period(period, settings)
        shown = _view_scope(view, scope)
        with _warehouse(settings) as con:
            kpi = queries.kpi_rows(con, chosen.type, [chosen.label], *_kpi_scope(shown))
        body = safe_frame(kpi.with_columns(pl.lit(str(shown)).alias("scope"))).write_csv(include_bom=True)
        name = f"kpi_{chosen.label}_{file_safe_name(str(shown))}.csv"
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f"attachment; filename*=utf-8''{quote(name)}"},
        )

    @app.get("/steward")
    def steward(request: Request, scope=Depends(current_scope)):
        settings = settings_of(request)
        with _warehouse(settings) as con:
            dealers = _scope_dealers(con, scope)
            files = queries.files_with_problems(con, dealers)
            owners = queries.file_dealers(con, files["sha256"].to_list())
        rows = []
        for row in files.to_dicts():
            row["dealers"] = owners.get(row["sha256"], [])
            if dealers is not None and not set(row["dealers"]) & set(dealers):
                continue
            row["downloads"] = _steward_files(settings, row, scope, dealers)
            rows.append(row)
        return _render(request, "steward.html", scope=scope, files=rows)

    @app.get("/steward/files/{sha256}")
    def steward_file(request: Request, sha256: str, scope=Depends(current_scope)):
        settings = settings_of(request)
        if not (len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise PageError(404, "error.no_such_file")
        with _warehouse(settings) as con:
            record = queries.file_record(con, sha256)
            if record is None:
                raise PageError(404, "error.no_such_file")
            owners = queries.file_dealers(con, [sha256])[sha256]
            dealers = _scope_dealers(con, scope)
            if dealers is not None and not set(owners) & set(dealers):
                raise PageError(404, "error.no_such_file")
            sheets = queries.file_sheets(con, sha256)
            problems = queries.file_problems(con, sha256, dealers, limit=PROBLEMS_SHOWN + 1)
        record["dealers"] = owners
        return _render(
            request,
            "steward_file.html",
            scope=scope,
            file=record,
            sheets=sheets.to_dicts(),
            problems=problems.head(PROBLEMS_SHOWN).to_dicts(),
            problems_cut=PROBLEMS_SHOWN if problems.height > PROBLEMS_SHOWN else None,
            downloads=_steward_files(settings, record, scope, dealers),
        )

    @app.get("/runs")
    def runs(request: Request, scope=Depends(current_scope)):
        settings = settings_of(request)
        with _warehouse(settings) as con:
            recent = queries.recent_runs(con)
            files = queries.run_files(con, recent["run_id"].to_list())
            dealers = _scope_dealers(con, scope)
            owners = (
                queries.file_dealers(con, files["sha256"].unique().to_list()) if dealers is not None else {}
            )
        per_run: dict[int, list[dict]] = {}
        for row in files.to_dicts():
            if dealers is not None and not set(owners.get(row["sha256"], [])) & set(dealers):
                continue
            per_run.setdefault(row["run_id"], []).append(row)
        return _render(request, "runs.html", scope=scope, runs=recent.to_dicts(), files=per_run)


async def _small_form(request: Request) -> dict[str, str]:
    """An url-encoded form of a few fields (the login form), read up to LOGIN_BODY_LIMIT bytes."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > LOGIN_BODY_LIMIT:
            raise PageError(413, "error.bad_request")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


# --- helpers of the pages ---------------------------------------------------------------------------


def _totals(counts: pl.DataFrame) -> dict:
    numbers = [c for c in counts.columns if c not in ("region", "dealer_code", "dealer_name")]
    return {c: int(counts[c].sum()) for c in numbers}


def _region_totals(counts: pl.DataFrame) -> list[dict]:
    numbers = [c for c in counts.columns if c not in ("region", "dealer_code", "dealer_name")]
    return (
        counts.group_by("region")
        .agg(pl.len().alias("dealers"), *(pl.col(c).sum() for c in numbers))
        .sort("region", nulls_last=True)
        .to_dicts()
    )


def _fresh_stored_file(
    con, settings: Settings, day: date, kind: str, name: str, file_format: str
) -> Path | None:
    """The file the night wrote for this list, if it is inside the exports folder and not older than the list."""
    folder = due_list_folder(settings.exports_dir, day)
    relative = (folder / f"{kind}_{file_safe_name(name)}.{file_format}").relative_to(settings.exports_dir)
    found = exports_file(settings.exports_dir, relative.as_posix())
    computed_at = queries.due_list_computed_at(con, day)
    if found is None or computed_at is None:
        return None
    path, _ = found
    return path if path.stat().st_mtime >= computed_at.timestamp() else None


def _period(text: str | None, settings: Settings) -> Period:
    if not text:
        return Period.containing(WEEK, settings.today()).previous()
    try:
        period = Period.parse(text)
        chart_periods(period)  # the charts reach back before the period, its alerts' weeks beyond it
        period.weeks()
    except (ValueError, OverflowError):  # OverflowError: a period at the calendar's edge (0001, 9999)
        raise PageError(400, "error.bad_period", value=text[:40]) from None
    return period


def _view_scope(view: str | None, scope: Scope) -> Scope:
    """The scope whose figures a page shows: a scoped token always its own; `all` may pick any."""
    if scope.kind != ALL:
        return scope
    if not view:
        return EVERYTHING
    try:
        return Scope.parse(view)
    except ValueError:
        raise PageError(400, "error.bad_scope", value=view[:60]) from None


def _kpi_scope(scope: Scope) -> tuple[str, str]:
    return {ALL: (COMPANY, ALL), REGION: (REGION, scope.value), DEALER: (DEALER, scope.value)}[scope.kind]


def _view_choices(con, scope: Scope) -> list[str]:
    if scope.kind != ALL:
        return [str(scope)]
    return [ALL, *(f"{REGION}:{r}" for r in queries.regions(con))]


def _headline(kpi: pl.DataFrame, period: Period) -> list[dict]:
    rows = {
        r["figure"]: r
        for r in kpi.filter((pl.col("period") == period.label) & (pl.col("item") == ALL)).to_dicts()
    }
    headline = []
    for figure in HEADLINE:
        row = rows.get(figure, {})
        rate = FIGURES[figure].kind == RATE
        value, target = row.get("value"), row.get("target")
        headline.append(
            {
                "figure": figure,
                "rate": rate,
                "value": _shown(value, rate),
                "target": _shown(target, rate),
                "met": None if value is None or target is None else value >= target,
                "previous": _shown(row.get("previous_value"), rate),
                "change": _change(row.get("change"), rate),
                "arrow": change_arrow(row.get("change")),
                "numerator": row.get("numerator"),
                "denominator": row.get("denominator"),
            }
        )
    return headline


def _shown(value: float | None, rate: bool) -> str:
    if value is None:
        return ""
    return f"{value:.1%}" if rate else f"{value:,.0f}"


def _change(value: float | None, rate: bool) -> str:
    if value is None:
        return ""
    return f"{value * 100:+.1f} pt" if rate else f"{value:+,.0f}"


def _charts(kpi: pl.DataFrame, recent: list[Period], t: i18n.Translator) -> list[Markup]:
    totals = kpi.filter(pl.col("item") == ALL)
    values = {(r["period"], r["figure"]): r["value"] for r in totals.to_dicts()}
    charts = []
    for figure in CHARTED:
        spec = FIGURES[figure]
        svg = line_chart(
            t(f"figure.{figure}"),
            [p.label for p in recent],
            [values.get((p.label, figure)) for p in recent],
            rate=spec.kind == RATE,
            target=spec.target,
            target_label=t("summary.target"),
            no_data=t("summary.no_data"),
        )
        charts.append(Markup(svg))  # every text inside is escaped by line_chart
    return charts


def _alert_rows(alerts: pl.DataFrame, dealers: list[str] | None) -> list[dict]:
    """Alerts as shown: a scoped token sees only its own dealers among the reporters, and no VINs."""
    rows = []
    for row in alerts.to_dicts():
        if dealers is not None:
            row["dealers"] = [d for d in row["dealers"] if d in dealers]
            row["vins"] = []
        rows.append(row)
    return rows


def _report_files(con, settings: Settings, period: Period) -> list[str]:
    """Download paths (relative to the exports folder) of the period's quality report files."""
    candidates = [Path(p) for p in queries.quality_report_paths(con, period.type, period.label)]
    candidates.append(report_path(settings.exports_dir, period))
    root = settings.exports_dir.resolve()
    found = []
    for path in candidates:
        resolved = path.resolve()
        if resolved.is_relative_to(root):
            relative = resolved.relative_to(root).as_posix()
            if exports_file(settings.exports_dir, relative) and relative not in found:
                found.append(relative)
    return found


def _steward_files(settings: Settings, record: dict, scope: Scope, dealers: list[str] | None) -> list[str]:
    """The marked copy and problem list the steward loop wrote for a file, those the scope may download.

    The night writes them under exports/steward/<as-of day>/<dealer, warehouse or reference>/.
    """
    base = settings.exports_dir / "steward" / record["as_of"].isoformat()
    if not base.is_dir():
        return []
    names = (annotated_name(record["file_name"]), problems_csv_name(record["file_name"]))
    found = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        for name in names:
            relative = (folder / name).relative_to(settings.exports_dir).as_posix()
            located = exports_file(settings.exports_dir, relative)
            if located and may_download(located[1], scope, dealers):
                found.append(located[1].as_posix())
    return found
