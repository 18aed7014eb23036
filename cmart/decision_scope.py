"""Which customers a decision run re-decides (dbt_project/macros/decision_scope.sql).

The daily run decides every customer (`full`). The intraday job re-decides only the customers
with a response loaded since the day's full decision (`responses`) — possible only when that
full decision exists for the run date, in the shape this code writes. Otherwise (no daily run
yet today, or a warehouse from before an upgrade) the intraday job decides in full, as the
daily run would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loaders.schema import table_columns

DECISION_SCOPE_ENV = "CMART_DECISION_SCOPE"
FULL_SCOPE = "full"
RESPONSES_SCOPE = "responses"
CANDIDATES_RELATION = ("intermediate", "int_offer_candidates")
ARBITRATED_RELATION = ("intermediate", "int_offer_arbitrated")
ELIGIBILITY_RELATION = ("decisioning", "fct_offer_eligibility")
WATERMARK_COLUMN = "responses_loaded_through"


@dataclass(frozen=True)
class DecisionScope:
    scope: str
    reason: str


def _columns(con: duckdb.DuckDBPyConnection, relation: tuple[str, str]) -> set[str]:
    return table_columns(con, *relation)


def intraday_scope(warehouse_path: Path, run_date: dt.date) -> DecisionScope:
    """`responses` when the run date's full decision is in the warehouse, else `full` (why)."""
    if not warehouse_path.exists():
        return DecisionScope(FULL_SCOPE, "no warehouse yet")
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        candidate_columns = _columns(con, CANDIDATES_RELATION)
        if not {"run_date", WATERMARK_COLUMN} <= candidate_columns:
            return DecisionScope(FULL_SCOPE, "no scoped decision in the warehouse yet")
        if not _columns(con, ARBITRATED_RELATION) or not _columns(con, ELIGIBILITY_RELATION):
            return DecisionScope(FULL_SCOPE, "no arbitration or eligibility log yet")
        [(decided_min, decided_max)] = con.execute(
            "select min(run_date), max(run_date) from intermediate.int_offer_candidates"
        ).fetchall()
        if decided_min != run_date or decided_max != run_date:
            return DecisionScope(
                FULL_SCOPE, f"the warehouse holds the decision of {decided_max}, not {run_date}"
            )
        [(logged,)] = con.execute(
            "select count(*) from decisioning.fct_offer_eligibility where run_date = ?",
            [run_date],
        ).fetchall()
        if not logged:
            return DecisionScope(FULL_SCOPE, f"no eligibility log for {run_date}")
    return DecisionScope(RESPONSES_SCOPE, f"the full decision of {run_date} is in place")
