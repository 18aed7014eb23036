"""The dbt project as Dagster sees it: one cached DbtProject, prepared (parsed) on demand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from cmart.settings import DBT_PROJECT_DIR, Settings


def dbt_executable() -> str:
    """The `dbt` next to this Python (the venv's bin/), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise RuntimeError("dbt executable not found: install the project (make install) first")
    return found


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment every dbt invocation needs (profiles.yml reads the warehouse path from it)."""
    return {
        "CMART_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CMART_DATA_DIR": str(settings.data_dir),
        # propensity_scores (a dbt Python model) scores with the active model found here
        "CMART_MODELS_DIR": str(settings.models_dir),
        "DBT_LOG_PATH": str(settings.dbt_log_dir),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def apply_dbt_env(settings: Settings) -> None:
    os.environ.update(dbt_env(settings))
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.dbt_log_dir.mkdir(parents=True, exist_ok=True)


@cache
def dbt_project(target_dir: Path) -> DbtProject:
    return DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target_dir
    )


def prepare_manifest(settings: Settings, *, force: bool = True) -> Path:
    """Run `dbt parse` (partial parsing keeps it quick) so that manifest.json matches the
    project's files; with ``force=False`` an existing manifest is reused as is."""
    project = dbt_project(settings.dbt_target_dir)
    if force or not project.manifest_path.exists():
        apply_dbt_env(settings)
        command = [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(settings.dbt_target_dir),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
    return project.manifest_path


def dbt_resource(settings: Settings) -> DbtCliResource:
    return DbtCliResource(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        profiles_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
