"""How dbt nodes appear in Dagster: grouped by layer, sources mapped onto the loader assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# dbt model folders (fqn[1]) and marts sub-folders (fqn[2]) become Dagster groups.
_LAYER_GROUPS = {"staging", "intermediate", "core", "campaign", "decisioning", "reporting"}


class CampaignMartTranslator(DagsterDbtTranslator):
    """Sources `source('<system>', '<table>')` are the raw loader assets `raw/<table>`;
    configuration sources are `config/<table>`; models keep their names, grouped by layer."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            schema = dbt_resource_props.get("schema") or dbt_resource_props["source_name"]
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props.get("resource_type")
        if resource_type == "seed":
            return "reference"
        if resource_type == "snapshot":
            return "history"
        fqn = dbt_resource_props.get("fqn") or []
        for part in fqn[1:-1][::-1]:
            if part in _LAYER_GROUPS:
                return part
        return "dbt_other"
