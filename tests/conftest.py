"""Shared fixtures: one small generated world, materialised once per test session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterator
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
def dbt_manifest(small_world: Settings) -> Path:
    """The dbt project's manifest, parsed once per session as the pipeline parses it (`dbt parse`
    into the small world's dbt target folder, where the daily run then finds it, and where dbt's
    partial parse matches the small world's warehouse)."""
    from pipelines.lib.dbt import prepare_manifest

    return prepare_manifest(small_world)


def reuse_dbt_manifest(manifest: Path, settings: Settings) -> None:
    """Give a fresh data dir the session's manifest and its fingerprint: building its Definitions
    then skips `dbt parse` (prepare_manifest trusts a manifest parsed from exactly the project's
    current files, as it does from one day's run to the next)."""
    from pipelines.lib.dbt import FINGERPRINT_FILE

    settings.dbt_target_dir.mkdir(parents=True, exist_ok=True)
    for name in (manifest.name, FINGERPRINT_FILE):
        shutil.copy2(manifest.parent / name, settings.dbt_target_dir / name)


@pytest.fixture(scope="session")
def daily_run(small_world: Settings, dbt_manifest: Path) -> PipelineRun:
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


@pytest.fixture(scope="session")
def _dbt_bench_lease(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return {"root": tmp_path_factory.mktemp("dbt_bench"), "holder": None}


@pytest.fixture(scope="module")
def dbt_bench(
    request: pytest.FixtureRequest,
    _dbt_bench_lease: dict[str, object],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    """A data dir for running the real dbt project on a private copy of a warehouse
    (`copy_into_bench`). dbt reuses its partial parse only for the same warehouse path and
    target folder, so the modules that run dbt take turns on one data dir of the session and
    parse the project once between them; a module that finds it taken gets a fresh one."""
    if _dbt_bench_lease["holder"] is None:
        _dbt_bench_lease["holder"] = request.node.nodeid
        try:
            yield Settings(data_dir=Path(str(_dbt_bench_lease["root"])), run_date=RUN_DATE)
        finally:
            _dbt_bench_lease["holder"] = None
    else:
        yield Settings(data_dir=tmp_path_factory.mktemp("dbt_bench"), run_date=RUN_DATE)


def copy_into_bench(warehouse: Path, bench: Settings) -> Path:
    """Replace the bench's warehouse by a copy of ``warehouse``; its path."""
    bench.warehouse_dir.mkdir(parents=True, exist_ok=True)
    target = bench.warehouse_path
    target.with_name(f"{target.name}.wal").unlink(missing_ok=True)
    shutil.copyfile(warehouse, target)
    return target
