"""`dbt docs generate` works on a built mart and documents every column of every mart table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmart.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import RUN_DATE, copy_into_bench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def docs(daily_run, dbt_bench: Settings) -> tuple[dict, dict]:
    """`dbt docs generate` on a copy of the daily run's warehouse (on the session's dbt bench:
    dbt's partial parse of an earlier module is reused)."""
    assert daily_run.success
    settings = dbt_bench
    copy_into_bench(daily_run.settings.warehouse_path, settings)
    target = settings.dbt_target_dir
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "docs",
        "generate",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(settings.dbt_log_dir),
        "--vars",
        json.dumps({"run_date": RUN_DATE.isoformat()}),
    ]
    env = {**os.environ, "CMART_WAREHOUSE_PATH": str(settings.warehouse_path)}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-5000:]
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return manifest, catalog


def test_catalog_describes_every_column_of_every_mart(docs):
    manifest, catalog = docs
    marts = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and "/marts/" in f"/{node['original_file_path']}"
    }
    assert {"model.campaign_mart.customer_360", "model.campaign_mart.fct_contact"} <= set(marts)
    assert catalog["errors"] is None
    for uid, node in marts.items():
        built = {name.lower() for name in catalog["nodes"][uid]["columns"]}
        documented = {name for name, spec in node["columns"].items() if spec["description"]}
        assert built == documented, node["name"]
        assert node["description"], node["name"]
