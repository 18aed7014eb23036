"""One settings object: every path the project reads or writes derives from the data dir."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent / "config_defaults"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Settings:
    """Where things live. Build it with :meth:`from_env` or pass ``data_dir`` explicitly."""

    data_dir: Path
    run_date: dt.date = field(default_factory=_today)

    @classmethod
    def from_env(
        cls, data_dir: str | Path | None = None, run_date: dt.date | None = None
    ) -> Settings:
        raw = data_dir or os.environ.get("CMART_DATA_DIR") or "data"
        date = run_date
        if date is None and os.environ.get("CMART_RUN_DATE"):
            date = dt.date.fromisoformat(os.environ["CMART_RUN_DATE"])
        return cls(data_dir=Path(raw).expanduser().resolve(), run_date=date or _today())

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def truth_dir(self) -> Path:
        return self.data_dir / "truth"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "campaign_mart.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def models_dir(self) -> Path:
        """Propensity model versions (<version>/) and the active pointer (active.json)."""
        return self.data_dir / "models"

    @property
    def config_override_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def dbt_target_dir(self) -> Path:
        return self.data_dir / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    @property
    def config_dirs(self) -> list[Path]:
        """Configuration layers, lowest precedence first."""
        return [DEFAULT_CONFIG_DIR, self.config_override_dir]
