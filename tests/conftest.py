"""Shared fixtures: one small generated world, materialised once per test session."""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmart.settings import Settings

RUN_DATE = dt.date(2026, 11, 29)
# 2% dirty rows (every fault kind in every file): the daily run must pass its gates and every
# dbt test on the kind of data the landing zone really gets.
SMALL_WORLD = {"customers": 3_000, "seed": 7, "days": 60, "dirty_rate": 0.02}

# dagster-dbt runs the `dbt` executable: make sure the venv's bin/ is on PATH.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@dataclass(frozen=True)
class PipelineRun:
    settings: Settings
    run_id: str
    success: bool
    log_text: str = ""  # every entry of the run's event log (messages, metadata), as text


def _isolated_settings(data_dir: Path) -> Settings:
    settings = Settings(data_dir=data_dir, run_date=RUN_DATE)
    os.environ["CMART_DATA_DIR"] = str(data_dir)
    os.environ["CMART_RUN_DATE"] = RUN_DATE.isoformat()
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    return settings


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A generated bank (clean data) in its own data dir."""
    from cmart.generate import generate_world

    settings = _isolated_settings(tmp_path_factory.mktemp("world"))
    generate_world(settings, end_date=RUN_DATE, progress=lambda _: None, **SMALL_WORLD)
    return settings


@pytest.fixture(scope="session")
def daily_run(small_world: Settings) -> PipelineRun:
    """The daily job executed in process, as `cmart run` executes it."""
    import dagster as dg

    from pipelines.assemble import build_definitions

    defs = build_definitions(small_world)
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("daily").execute_in_process(
        instance=instance,
        partition_key=RUN_DATE.isoformat(),
        raise_on_error=False,
    )
    log_text = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
    return PipelineRun(
        settings=small_world, run_id=result.run_id, success=result.success, log_text=log_text
    )
