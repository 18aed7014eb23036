"""Dagster entry point: `dagster dev -m pipelines.definitions` (or `cmart ui`).

Builds the definitions for $CMART_DATA_DIR (default ./data) when the code location loads.
"""

from cmart.settings import Settings
from pipelines.assemble import build_definitions

defs = build_definitions(Settings.from_env())
