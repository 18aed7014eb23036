"""The training rows of int_propensity_features_assembled, built on demand.

The daily run builds the feature model empty while no model is active (env
CMART_PROPENSITY_ACTIVE, set by pipelines.lib.dbt.dbt_env from <models_dir>/active.json), so it
costs nothing until a model is used. Training needs the labelled contact rows: when the table
has none, :func:`ensure_training_rows` builds the model (and nothing else) with the switch on.
"""

from __future__ import annotations

import os
import subprocess

import duckdb

from cmart.propensity.schema import FEATURE_TABLE
from cmart.settings import Settings

FEATURE_MODEL = FEATURE_TABLE.split(".")[-1]
ACTIVE_SWITCH = "CMART_PROPENSITY_ACTIVE"


class FeatureBuildError(RuntimeError):
    """dbt could not build the feature model."""


def count_contact_rows(settings: Settings) -> int:
    """Labelled contact rows in the feature table (0 if the table or warehouse is missing)."""
    if not settings.warehouse_path.exists():
        return 0
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        try:
            [(count,)] = con.execute(
                f"select count(*) from {FEATURE_TABLE} where row_kind = 'contact'"
            ).fetchall()
        except duckdb.CatalogException:
            return 0
    return int(count)


def build_feature_rows(settings: Settings) -> None:
    """`dbt run` of the feature model alone, with its rows (the switch on)."""
    from pipelines.lib.dbt import dbt_command, dbt_env

    command = dbt_command(
        settings, "run", "--select", FEATURE_MODEL, target_path=settings.dbt_target_dir / "train"
    )
    env = {**os.environ, **dbt_env(settings), ACTIVE_SWITCH: "1"}
    settings.dbt_log_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FeatureBuildError(
            f"dbt run --select {FEATURE_MODEL} failed (warehouse {settings.warehouse_path}); "
            f"run `cmart run` first if the warehouse is empty:\n{result.stdout[-3000:]}"
        )


def ensure_training_rows(settings: Settings) -> bool:
    """Build the feature table's rows if it has no labelled contacts; True if it built them."""
    if count_contact_rows(settings) > 0:
        return False
    build_feature_rows(settings)
    return True
