"""The rules of dbt-project-evaluator, checked on the parsed manifest (the package itself cannot
be downloaded here): layering, no source fan-out, documentation, primary-key tests, contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from cmart.settings import DBT_PROJECT_DIR

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    target = tmp_path_factory.mktemp("dbt_parse")
    env = {**os.environ, "CMART_WAREHOUSE_PATH": str(target / "unused.duckdb")}
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "parse",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((target / "manifest.json").read_text())


def models(manifest: Manifest) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == "campaign_mart"
    }


def layer(node: dict) -> str:
    return Path(node["original_file_path"]).parts[1]


def test_staging_reads_only_sources_and_nothing_else_reads_a_source(manifest: Manifest):
    wrong = []
    for uid, node in models(manifest).items():
        parents = node["depends_on"]["nodes"]
        reads_source = any(parent.startswith("source.") for parent in parents)
        reads_model = any(parent.startswith("model.") for parent in parents)
        if layer(node) == "staging" and (reads_model or not reads_source):
            wrong.append(uid)
        if layer(node) != "staging" and reads_source:
            wrong.append(uid)
    assert wrong == []


def test_every_source_table_feeds_exactly_one_staging_model(manifest: Manifest):
    readers: dict[str, list[str]] = defaultdict(list)
    for uid, node in models(manifest).items():
        for parent in node["depends_on"]["nodes"]:
            if parent.startswith("source."):
                readers[parent].append(uid)
    assert set(readers) == set(manifest["sources"])
    assert {source: uids for source, uids in readers.items() if len(uids) != 1} == {}


def test_models_are_named_for_their_layer(manifest: Manifest):
    prefixes = {"staging": "stg_", "intermediate": "int_"}
    wrong = [
        node["name"]
        for node in models(manifest).values()
        if not node["name"].startswith(prefixes.get(layer(node), ""))
    ]
    assert wrong == []
    staging_systems = {
        node["name"]: Path(node["original_file_path"]).parts[2]
        for node in models(manifest).values()
        if layer(node) == "staging"
    }
    assert [
        name for name, system in staging_systems.items() if not name.startswith(f"stg_{system}__")
    ] == []


def test_every_model_is_documented_and_marts_document_every_column(manifest: Manifest):
    undocumented = [node["name"] for node in models(manifest).values() if not node["description"]]
    assert undocumented == []
    for node in models(manifest).values():
        if layer(node) != "marts":
            continue
        assert node["config"]["contract"]["enforced"], node["name"]
        assert node["columns"], node["name"]
        missing = [
            column
            for column, spec in node["columns"].items()
            if not spec["description"] or not spec["data_type"]
        ]
        assert missing == [], node["name"]


def _tested_columns(manifest: Manifest) -> dict[str, dict[str, set[str]]]:
    """model unique_id -> test name -> columns it covers (`*` for model-level tests)."""
    tests: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        model = node.get("attached_node")
        if model:
            tests[model][node["test_metadata"]["name"]].add(node.get("column_name") or "*")
    return tests


def test_every_model_has_a_primary_key_test(manifest: Manifest):
    tests = _tested_columns(manifest)
    missing = []
    for uid, node in models(manifest).items():
        by_name = tests.get(uid, {})
        unique_and_not_null = by_name.get("unique", set()) & by_name.get("not_null", set())
        grain_test = by_name.get("unique_combination") or by_name.get("exactly_one_row")
        if not unique_and_not_null and not grain_test:
            missing.append(node["name"])
    assert missing == []


def test_sources_declare_loaded_at_field_and_event_sources_a_freshness(manifest: Manifest):
    raw_sources = [s for s in manifest["sources"].values() if s["schema"] == "raw"]
    assert raw_sources
    assert [s["name"] for s in raw_sources if s["loaded_at_field"] != "_loaded_at"] == []
    with_freshness = {
        s["name"]
        for s in raw_sources
        if (s.get("freshness") or {}).get("warn_after", {}).get("count")
    }
    assert {"contacts", "responses", "consents"} <= with_freshness
