"""The intraday job re-decides only the responders when the day's full decision is in place,
and decides in full otherwise (cmart.decision_scope)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from cmart.decision_scope import FULL_SCOPE, RESPONSES_SCOPE, intraday_scope

RUN_DATE = dt.date(2026, 11, 29)


def _warehouse(
    path: Path, *, decided_on: dt.date | None, logged_on: dt.date | None, watermark: bool = True
) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate")
        con.execute("create schema decisioning")
        watermark_column = ", responses_loaded_through timestamp" if watermark else ""
        con.execute(
            "create table intermediate.int_offer_candidates "
            f"(run_date date, customer_id varchar{watermark_column})"
        )
        con.execute("create table intermediate.int_offer_arbitrated (customer_id varchar)")
        con.execute(
            "create table decisioning.fct_offer_eligibility (run_date date, customer_id varchar)"
        )
        if decided_on:
            values = "(?, 'C1', null)" if watermark else "(?, 'C1')"
            con.execute(
                f"insert into intermediate.int_offer_candidates values {values}", [decided_on]
            )
        if logged_on:
            con.execute(
                "insert into decisioning.fct_offer_eligibility values (?, 'C1')", [logged_on]
            )
    return path


def test_the_days_full_decision_allows_a_response_scoped_run(tmp_path: Path) -> None:
    path = _warehouse(tmp_path / "w.duckdb", decided_on=RUN_DATE, logged_on=RUN_DATE)
    assert intraday_scope(path, RUN_DATE).scope == RESPONSES_SCOPE


@pytest.mark.parametrize(
    ("decided_on", "logged_on", "watermark", "why"),
    [
        (RUN_DATE - dt.timedelta(days=1), RUN_DATE - dt.timedelta(days=1), True, "2026-11-28"),
        (RUN_DATE, None, True, "no eligibility log"),
        (RUN_DATE, RUN_DATE, False, "no scoped decision"),
    ],
)
def test_without_the_days_full_decision_the_intraday_run_decides_in_full(
    tmp_path: Path, decided_on: dt.date, logged_on: dt.date | None, watermark: bool, why: str
) -> None:
    path = _warehouse(
        tmp_path / "w.duckdb", decided_on=decided_on, logged_on=logged_on, watermark=watermark
    )
    decided = intraday_scope(path, RUN_DATE)
    assert decided.scope == FULL_SCOPE and why in decided.reason


def test_no_warehouse_means_a_full_decision(tmp_path: Path) -> None:
    assert intraday_scope(tmp_path / "missing.duckdb", RUN_DATE).scope == FULL_SCOPE
