"""The rules of dbt-project-evaluator, checked on the parsed manifest (the package itself cannot
be downloaded here): layering, no source fan-out, documentation, primary-key tests, contracts."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

Manifest = dict[str, Any]


@pytest.fixture(scope="module")
def manifest(dbt_manifest: Path) -> Manifest:
    """The manifest of `dbt parse` on the project (the session's, tests/conftest.py)."""
    return json.loads(dbt_manifest.read_text())


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


def test_marts_are_named_for_their_folder(manifest: Manifest):
    prefixes = {
        "core": ("dim_", "customer_360"),
        "campaign": ("fct_",),
        "reporting": ("rpt_",),
    }
    wrong = [
        node["name"]
        for node in models(manifest).values()
        if layer(node) == "marts"
        and not node["name"].startswith(
            prefixes.get(Path(node["original_file_path"]).parts[2], ("",))
        )
    ]
    assert wrong == []


def test_no_model_hard_codes_a_relation(manifest: Manifest):
    """Models reach tables only through ref() and source() (dbt-project-evaluator
    fct_hard_coded_references)."""
    schemas = "raw|config|staging|intermediate|core|campaign|decisioning|reporting|snapshots"
    pattern = re.compile(rf"\b(from|join)\s+\"?({schemas})\"?\.", re.IGNORECASE)
    wrong = [node["name"] for node in models(manifest).values() if pattern.search(node["raw_code"])]
    assert wrong == []


def test_fact_foreign_keys_have_relationships_tests(manifest: Manifest):
    """Every key column of a fact other than its grain points to a dimension (or fact)."""
    tests = _tested_columns(manifest)
    missing = []
    for uid, node in models(manifest).items():
        if not node["name"].startswith("fct_"):
            continue
        keys = tests[uid]["unique"]
        related = tests[uid].get("relationships", set())
        for column in node["columns"]:
            is_key = column.endswith(("_id", "_sk", "_date")) or column == "channel"
            is_flag = column.startswith(("is_", "has_"))
            as_sent = column == "given_contact_id"  # the id as the source sent it, unchecked
            if is_key and not is_flag and not as_sent and column not in keys | related:
                missing.append(f"{node['name']}.{column}")
    assert missing == []


def test_big_facts_are_incremental_merges_on_their_key(manifest: Manifest):
    by_name = {node["name"]: node for node in models(manifest).values()}
    for name, key in (("fct_contact", "contact_id"), ("fct_response", "response_id")):
        config = by_name[name]["config"]
        assert config["materialized"] == "incremental", name
        assert config["incremental_strategy"] == "merge", name
        assert config["unique_key"] == key, name


def test_seeds_and_snapshots_are_documented(manifest: Manifest):
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"seed", "snapshot"} and node["package_name"] == "campaign_mart"
    ]
    assert {node["resource_type"] for node in nodes} == {"seed", "snapshot"}
    undocumented = [
        node["name"]
        for node in nodes
        if not node["description"]
        or not node["columns"]
        or any(not spec["description"] for spec in node["columns"].values())
    ]
    assert undocumented == []
    snapshots = [node for node in nodes if node["resource_type"] == "snapshot"]
    assert all(node["schema"] == "snapshots" for node in snapshots)
