"""The offers lookup on a small hand-made snapshot: answers, channel filter, swap of the file."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from cmart.offers import PublishedSnapshot, customer_offers

DAY = dt.date(2026, 11, 29)


def _snapshot(path: Path, *, day: dt.date, offer_id: str, with_log: bool = True) -> None:
    """The four relations the lookup reads, with two customers: C1 offered, C2 not."""
    staged = path.with_suffix(".staged")
    with duckdb.connect(str(staged)) as con:
        con.execute("create schema core; create schema decisioning")
        con.execute(
            "create table core.customer_360 as select * from (values ('C1'), ('C2')) t(customer_id)"
        )
        con.execute(
            "create table core.dim_offer as "
            "select * from (values ('OF1', 'Card'), ('OF2', 'Loan')) t(offer_id, offer_name)"
        )
        con.execute(
            """
            create table decisioning.nbo (
                run_date date, customer_id varchar, offer_id varchar, campaign_id varchar,
                product_id varchar, channel varchar, rank integer, score double, cell varchar,
                is_control boolean)
            """
        )
        con.execute(
            "insert into decisioning.nbo values "
            "(?, 'C1', ?, 'CMP1', 'card', 'sms', 2, 0.25, 'A', false), "
            "(?, 'C1', 'OF2', 'CMP2', 'loan', 'email', 1, 0.5, 'A', false), "
            "(?, 'C1', 'OF9', 'CMP9', 'card', 'atm', 3, 0.1, null, true), "
            "(?, 'C1', 'OLD', 'CMP0', 'card', 'sms', 1, 0.9, 'A', false)",
            [day, offer_id, day, day, day - dt.timedelta(days=1)],
        )
        if with_log:
            con.execute(
                """
                create table decisioning.fct_offer_eligibility as select * from (values
                    (?::date, 'C1', 'OF2', 'sms', 'no_consent'),
                    (?::date, 'C1', 'OF2', 'email', 'eligible'),
                    (?::date, 'C2', 'OF1', 'atm', 'frequency_cap'),
                    (?::date, 'C2', 'OF1', 'sms', 'responded_recently')
                ) t(run_date, customer_id, offer_id, channel, eligibility_status)
                """,
                [day, day, day, day - dt.timedelta(days=1)],
            )
    os.replace(staged, path)


def _answer(snapshot: PublishedSnapshot, customer_id: str, channel: str | None = None):
    return customer_offers(snapshot.thread_cursor(), customer_id, channel)


def test_offers_are_the_days_non_control_rows_in_rank_order_with_reasons(tmp_path: Path) -> None:
    path = tmp_path / "campaign_mart.duckdb"
    _snapshot(path, day=DAY, offer_id="OF1")
    snapshot = PublishedSnapshot(path)

    answer = _answer(snapshot, "C1")
    assert answer["run_date"] == "2026-11-29"
    assert [(o["rank"], o["offer_id"], o["offer_name"]) for o in answer["offers"]] == [
        (1, "OF2", "Loan"),
        (2, "OF1", "Card"),
    ]
    assert answer["offers"][1] == {
        "offer_id": "OF1",
        "offer_name": "Card",
        "campaign_id": "CMP1",
        "product_id": "card",
        "channel": "sms",
        "rank": 2,
        "score": 0.25,
        "cell": "A",
    }
    assert answer["suppressed"] == [{"offer_id": "OF2", "channel": "sms", "reason": "no_consent"}]

    on_sms = _answer(snapshot, "C1", "sms")
    assert [o["offer_id"] for o in on_sms["offers"]] == ["OF1"]
    assert on_sms["suppressed"] == [{"offer_id": "OF2", "channel": "sms", "reason": "no_consent"}]
    assert _answer(snapshot, "C1", "branch")["offers"] == []

    # known without offers: an empty answer with the day's (not an older day's) reasons
    assert _answer(snapshot, "C2") == {
        "customer_id": "C2",
        "run_date": "2026-11-29",
        "channel": None,
        "offers": [],
        "suppressed": [{"offer_id": "OF1", "channel": "atm", "reason": "frequency_cap"}],
    }
    assert _answer(snapshot, "C3") is None


def test_without_an_eligibility_log_suppressed_is_null_not_empty(tmp_path: Path) -> None:
    path = tmp_path / "campaign_mart.duckdb"
    _snapshot(path, day=DAY, offer_id="OF1", with_log=False)
    answer = _answer(PublishedSnapshot(path), "C1")
    assert [o["offer_id"] for o in answer["offers"]] == ["OF2", "OF1"]
    assert answer["suppressed"] is None


def test_a_replaced_file_is_attached_in_the_background_and_then_answered(tmp_path: Path) -> None:
    path = tmp_path / "campaign_mart.duckdb"
    _snapshot(path, day=DAY, offer_id="OF1")
    snapshot = PublishedSnapshot(path)
    assert "OF1" in {o["offer_id"] for o in _answer(snapshot, "C1")["offers"]}
    con_before = snapshot.thread_cursor()

    _snapshot(path, day=DAY + dt.timedelta(days=1), offer_id="OF3")
    # the first request after the swap is answered at once from the snapshot it had
    first = _answer(snapshot, "C1")
    assert first["run_date"] == "2026-11-29"
    assert snapshot.refresh(timeout=60)
    after = _answer(snapshot, "C1")
    assert after["run_date"] == "2026-11-30"
    assert {o["offer_id"] for o in after["offers"]} == {"OF2", "OF3"}
    assert snapshot.thread_cursor() is not con_before  # a new cursor on the new file
