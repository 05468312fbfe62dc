"""One settings object for the whole pipeline, read from DEALERSYNC_* environment variables or `.env`."""

from __future__ import annotations

from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The limits a workbook is refused beyond: the settings' defaults, and reader.read_workbook's when it is
# called without settings (tests, benchmarks).
READ_LIMITS = {
    "max_file_mb": 200,
    "max_unpacked_mb": 2000,
    "max_compression_ratio": 200,
    "max_rows": 1_000_000,
    "max_columns": 500,
    "max_cells": 30_000_000,
}


class Settings(BaseSettings):
    """Every setting has a default that works on a laptop; each is documented in the README."""

    # Errors name the setting, never its value: a value may be a secret (portal tokens, a database URL).
    model_config = SettingsConfigDict(
        env_prefix="DEALERSYNC_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # Where things live.
    data_dir: Path = Field(Path("data"), description="Base folder for the default paths below")
    inbox: Path | None = Field(None, description="Folder the nightly run reads workbooks from")
    warehouse: Path | None = Field(None, description="The DuckDB warehouse file")
    exports: Path | None = Field(
        None,
        description="Folder for due lists, reports and steward workbooks (default: exports/ beside the warehouse)",
    )
    aliases_file: Path | None = Field(
        None, description="A steward's extra aliases (default: beside the warehouse)"
    )
    move_processed: bool = Field(True, description="Move loaded files to processed/ beside the inbox")

    # Business rules.
    timezone: str = Field("Asia/Shanghai", description="The department's time zone: what 'today' means")
    warranty_months: int = Field(24, description="Warranty length when a customer row gives no warranty_end")
    maintenance_lead_days: int = Field(
        7, description="Maintenance reminder due this many days before the date"
    )

    # Batch-defect watch (weekly): Poisson O against E, Benjamini-Hochberg q over the week's tests.
    alert_red_q: float = Field(
        0.01, description="Red alert when q is below this (and the two minimums below are met)"
    )
    alert_amber_q: float = Field(0.10, description="Amber alert when q is below this")
    alert_min_failures: int = Field(3, description="Red alert needs at least this many failures O")
    alert_min_ratio: float = Field(2.0, description="Red alert needs O / E at least this")
    alert_service_months: float = Field(
        6, description="Batch exposure counts months in service up to this cap (batch sizes known)"
    )
    alert_window_weeks: int = Field(
        8, description="Without batch sizes: weeks in which a batch is compared with its part's others"
    )
    alert_baseline_weeks: int = Field(
        12, description="A component's week is compared with its mean over this many weeks before"
    )

    # The service-desk portal (`dealersync serve`).
    portal_tokens: dict[str, str] = Field(
        default_factory=dict,
        description='Access tokens of the portal and what each may see, as JSON: {"<token>": "all", '
        '"<token>": "dealer:D0012", "<token>": "region:华北"}; tokens of 16+ characters; empty = no token '
        "asked (loopback only)",
    )
    portal_wait_seconds: float = Field(
        3, description="How long a portal page waits for the nightly run to release the warehouse"
    )

    # Limits against hostile or runaway files.
    max_file_mb: int = Field(
        READ_LIMITS["max_file_mb"], description="Refuse workbooks larger than this on disk"
    )
    max_unpacked_mb: int = Field(
        READ_LIMITS["max_unpacked_mb"], description="Refuse workbooks whose parts inflate beyond this"
    )
    max_compression_ratio: int = Field(
        READ_LIMITS["max_compression_ratio"],
        description="Refuse workbooks with a part compressed more than this",
    )
    max_rows: int = Field(READ_LIMITS["max_rows"], description="Refuse a sheet with more data rows than this")
    max_columns: int = Field(
        READ_LIMITS["max_columns"], description="Refuse a sheet with more columns than this"
    )
    max_cells: int = Field(
        READ_LIMITS["max_cells"],
        description="Refuse a sheet whose used range spans more cells (rows x columns)",
    )

    # Running.
    workers: int = Field(2, ge=1, description="Processes that read and validate files in parallel")
    task_runner: Literal["auto", "thread", "process", "dask"] = Field(
        "auto",
        description="thread, process, dask, or auto: a process pool when the inbox holds process_pool_min_mb "
        "or more, else threads of the run's own process",
    )
    process_pool_min_mb: float = Field(
        5, description="Inbox size from which `auto` starts a process pool (starting one costs ~5-10 s)"
    )
    dask_address: str | None = Field(None, description="Address of an existing Dask scheduler")
    lock_timeout_seconds: float = Field(
        0, description="How long a run waits for another run on the same warehouse"
    )
    settle_seconds: float = Field(
        60,
        description="A file changed less than this many seconds before a run may still be arriving: it waits "
        "in the inbox for the next run",
    )
    backups_keep: int = Field(
        7, description="Warehouse backups kept (one is taken before each run that loads files; 0 = none)"
    )
    backups: Path | None = Field(
        None, description="Folder of warehouse backups (default: backups/ beside the warehouse)"
    )
    schedule_cron: str = Field(
        "0 2 * * *", description="Cron schedule of the nightly deployment, in the time zone above"
    )
    deployment_name: str = Field("nightly", description="Name of the deployment `dealersync deploy` serves")
    prefect_api_url: str | None = Field(
        None,
        description="Prefect server the CLI and the deployment report to, e.g. http://127.0.0.1:4200/api "
        "(default: PREFECT_API_URL; `run` without either starts a temporary one)",
    )
    prefect_database_url: str | None = Field(
        None,
        description="Database of the Prefect server `dealersync prefect-server` starts, e.g. "
        "postgresql+asyncpg://prefect:secret@db:5432/prefect (default: SQLite in PREFECT_HOME)",
    )

    @field_validator("task_runner", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # cached once found; no scan of every zone on the machine
        except (ValueError, ZoneInfoNotFoundError):
            raise ValueError(
                f"unknown time zone {value!r}; write an IANA name such as Asia/Shanghai"
            ) from None
        return value

    @property
    def inbox_dir(self) -> Path:
        return self.inbox or self.data_dir / "inbox"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse or self.data_dir / "warehouse.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.exports or self.warehouse_path.with_name("exports")

    @property
    def backups_dir(self) -> Path:
        return self.backups or self.warehouse_path.parent / "backups"

    @property
    def aliases_path(self) -> Path:
        return self.aliases_file or self.warehouse_path.with_name("aliases.toml")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self) -> date:
        """The current day in the department's time zone."""
        return datetime.now(self.zone).date()


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. from command-line options)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
