"""The Dagster definitions load and wire landing → raw → dbt → exports."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from cmart.config import load_config
from cmart.settings import Settings
from tests.conftest import reuse_dbt_manifest


@pytest.fixture(scope="module")
def definitions(tmp_path_factory, dbt_manifest: Path) -> dg.Definitions:
    """The Definitions of a fresh data dir (the session's dbt manifest: no second `dbt parse`)."""
    from pipelines.assemble import build_definitions

    settings = Settings(data_dir=tmp_path_factory.mktemp("defs"))
    reuse_dbt_manifest(dbt_manifest, settings)
    return build_definitions(settings)


def test_definitions_load_with_daily_job_schedule_and_sensor(definitions):
    definitions.resolve_all_job_defs()
    assert definitions.resolve_job_def("daily")
    assert definitions.resolve_schedule_def("daily_0600")
    assert definitions.resolve_sensor_def("landing_files")


def test_dbt_sources_are_the_loader_assets(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/customers",
        "raw/contacts",
        "config/segments",
        "decisioning/nbo",
        "exports/sms",
    } <= keys
    staging = [k for k in graph.get_all_asset_keys() if k.path[-1] == "stg_core_banking__customers"]
    assert staging, "staging model for core customers is missing"
    parents = {p.to_user_string() for p in graph.get(staging[0]).parent_keys}
    assert parents == {"raw/customers"}


def test_every_export_depends_on_nbo(definitions):
    graph = definitions.resolve_asset_graph()
    exports = {key for key in graph.get_all_asset_keys() if key.path[0] == "exports"}
    codes = load_config(Settings(data_dir=Path("unused")).config_dirs).channel_codes
    channels = {dg.AssetKey(["exports", code]) for code in codes}
    others = ("sales_force", "contact_history")
    lists = channels | {dg.AssetKey(["exports", name]) for name in others}
    assert len(channels) == 9
    assert lists <= exports
    for key in lists:
        assert dg.AssetKey(["decisioning", "nbo"]) in graph.get(key).parent_keys
        assert graph.get(key).partitions_def is not None  # one partition per run date
    assert channels <= graph.get(dg.AssetKey(["exports", "contact_history"])).parent_keys


def test_consent_gate_blocks_the_lists(definitions):
    graph = definitions.resolve_asset_graph()
    gate = dg.AssetCheckKey(dg.AssetKey(["decisioning", "nbo"]), "consent_gate")
    assert gate in graph.asset_check_keys
    assert graph.get_check_spec(gate).blocking


def test_raw_contacts_load_after_the_write_back_is_delivered(definitions):
    graph = definitions.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["raw", "contacts"])).parent_keys
    assert dg.AssetKey(["landing", "contact_history"]) in parents


def test_no_asset_depends_on_an_asset_nobody_materialises(definitions):
    graph = definitions.resolve_asset_graph()
    external = {key.to_user_string() for key in graph.external_asset_keys}
    assert external == set(), f"dangling dependencies: {sorted(external)}"


def test_daily_job_covers_every_asset(definitions):
    from pipelines.defs.jobs import NOT_DAILY_GROUPS

    graph = definitions.resolve_asset_graph()
    job = definitions.resolve_job_def("daily")
    in_job = set(job.asset_layer.selected_asset_keys)
    daily = {
        key
        for key in graph.materializable_asset_keys
        if graph.get(key).group_name not in NOT_DAILY_GROUPS  # jobs of their own
    }
    missing = {key.to_user_string() for key in daily} - {key.to_user_string() for key in in_job}
    assert missing == set()
