"""The dbt project as Dagster sees it: one cached DbtProject, prepared (parsed) on demand."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from cmart.decision_scope import DECISION_SCOPE_ENV, FULL_SCOPE
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


def dbt_env(settings: Settings, *, decision_scope: str = FULL_SCOPE) -> dict[str, str]:
    """Environment every dbt invocation needs (profiles.yml reads the warehouse path from it).
    ``decision_scope``: `full` (every customer) or `responses` (the intraday job: only the
    customers who answered since the day's full decision; dbt_project/macros/decision_scope.sql).
    """
    return {
        DECISION_SCOPE_ENV: decision_scope,
        "CMART_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CMART_DATA_DIR": str(settings.data_dir),
        # propensity_scores (a dbt Python model) scores with the active model found here
        "CMART_MODELS_DIR": str(settings.models_dir),
        # int_propensity_features_assembled builds empty (cheap) while no model is active
        "CMART_PROPENSITY_ACTIVE": "1" if (settings.models_dir / "active.json").exists() else "0",
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


PROJECT_SOURCE_SUFFIXES = frozenset({".sql", ".yml", ".yaml", ".py", ".csv", ".md", ".jinja"})
FINGERPRINT_FILE = "manifest.fingerprint"
SKIPPED_PROJECT_DIRS = frozenset({"target", "logs", "dbt_packages", "__pycache__", ".venv"})


def project_fingerprint() -> str:
    """A hash of everything `dbt parse` reads (the project's source files and the dbt
    version): equal fingerprints mean an equal manifest."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"dbt-core {version('dbt-core')}\n".encode())
    for path in sorted(_project_source_files()):
        digest.update(f"{path.relative_to(DBT_PROJECT_DIR).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _project_source_files() -> list[Path]:
    found: list[Path] = []
    for root, directories, files in os.walk(DBT_PROJECT_DIR):
        directories[:] = [d for d in directories if d not in SKIPPED_PROJECT_DIRS]
        found += [
            Path(root) / name for name in files if Path(name).suffix in PROJECT_SOURCE_SUFFIXES
        ]
    return found


@contextmanager
def decision_scope_environ(scope: str) -> Iterator[None]:
    """CMART_DECISION_SCOPE set to ``scope`` while a dbt process is started, then restored:
    a `responses` scope must never leak into a later dbt invocation of the same process."""
    previous = os.environ.get(DECISION_SCOPE_ENV)
    os.environ[DECISION_SCOPE_ENV] = scope
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DECISION_SCOPE_ENV, None)
        else:
            os.environ[DECISION_SCOPE_ENV] = previous


def dbt_command(
    settings: Settings, verb: str, *args: str, target_path: Path | None = None
) -> list[str]:
    """A `dbt <verb>` command line on this project, with the run date; ``target_path``
    defaults to the settings' dbt target folder."""
    return [
        dbt_executable(),
        verb,
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path or settings.dbt_target_dir),
        "--vars",
        json.dumps({"run_date": settings.run_date.isoformat()}),
    ]


def prepare_manifest(settings: Settings, *, force: bool = False) -> Path:
    """Make manifest.json match the project's files: run `dbt parse` unless the manifest was
    parsed from exactly these files (same fingerprint), or always with ``force=True``.
    Skipping the parse saves a dbt start-up and parse (5-15 s) per run; the build parses
    anyway."""
    project = dbt_project(settings.dbt_target_dir)
    fingerprint = project_fingerprint()
    stamp = settings.dbt_target_dir / FINGERPRINT_FILE
    fresh = (
        project.manifest_path.exists()
        and stamp.exists()
        and stamp.read_text().strip() == fingerprint
    )
    if force or not fresh:
        apply_dbt_env(settings)
        command = dbt_command(settings, "parse", "--quiet")
        stamp.unlink(missing_ok=True)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{result.stdout}\n{result.stderr}")
        stamp.write_text(fingerprint + "\n")
    return project.manifest_path


UNIT_TESTS_ENV = "CMART_DBT_UNIT_TESTS"


def build_args(settings: Settings) -> list[str]:
    """`dbt build` arguments of a pipeline run. dbt unit tests check the models' logic on
    fixed inputs, not the day's data: they run in the test suite (and with
    ``CMART_DBT_UNIT_TESTS=1`` in a pipeline run), not in every daily and intraday build."""
    args = ["build", "--vars", json.dumps({"run_date": settings.run_date.isoformat()})]
    if os.environ.get(UNIT_TESTS_ENV, "0") not in {"1", "true", "yes"}:
        args += ["--exclude-resource-type", "unit_test"]
    return args


class CampaignMartDbtCli(DbtCliResource):
    """dagster-dbt's CLI resource without two start-up costs that buy this project nothing:
    - `dbt --version` in a subprocess (a dbt import, 2-9 s) to learn the version of the `dbt`
      next to this Python, which is the installed dbt-core's;
    - a dbt adapter opened in-process (profile, project and every macro loaded) that serves
      only dagster-dbt's optional row-count and column-metadata fetches, which we do not use.
    Both run before every `dbt build`, and matter most to the intraday job's short runs."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_resource(settings: Settings) -> DbtCliResource:
    return CampaignMartDbtCli(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        profiles_dir=os.fspath(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
