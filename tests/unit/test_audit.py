"""Consent audit on a tiny hand-made world: landing CSVs and one day's export files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmart.audit import audit_consent
from cmart.config import CampaignConfig, load_config
from cmart.settings import DEFAULT_CONFIG_DIR

DAY = dt.date(2026, 11, 29)
NOW = dt.datetime(2026, 11, 29, 6, 0)
CUSTOMERS = """customer_id,national_id,email_home,email_work,home_address,work_address,updated_at
C1,N1,c1@home.test,c1@work.test,1 Home St,1 Work St,2025-01-01T00:00:00
C2,N2,c2@home.test,c2@work.test,2 Home St,2 Work St,2025-01-01T00:00:00
C3,N3,c3@home.test,,3 Home St,,2025-01-01T00:00:00
C4,N4,c4@home.test,c4@work.test,4 Home St,4 Work St,2025-01-01T00:00:00
C5,N5,c5@home.test,c5@work.test,5 Home St,5 Work St,2025-01-01T00:00:00
C6,N6,c6@home.test,c6@work.test,6 Home St,6 Work St,2025-01-01T00:00:00
"""
PRODUCTS = """product_id,product_name,category,tier,value
P1,Loan,credit,mass,100
P2,Card,card,premium,50
"""
CONSENTS = """customer_id,channel,status,recorded_at,topic
C1,email,opt_in,2025-01-01T00:00:00,all
C1,email,perhaps,2026-01-01T00:00:00,all
C1,sms,opt_in,2025-01-01T00:00:00,
C2,email,opt_in,2025-01-01T00:00:00,all
C2,email,opt_out,2026-06-01T00:00:00,all
C3,email,opt_in,2025-01-01T00:00:00,all
C3,email,opt_out,2025-02-01T00:00:00,credit
C4,email,opt_in,2025-01-01T00:00:00,all
C4,email,opt_out,2026-12-05T00:00:00,all
C6,email,opt_in,2025-01-01T00:00:00,all
"""
PREFERENCES = """customer_id,key,value,recorded_at
C1,email_for_detailed,work,2025-03-01T00:00:00
C4,email_for_detailed,work,2025-03-01T00:00:00
C4,mail_to,work,2025-03-01T00:00:00
"""
COMPLAINTS = """complaint_id,customer_id,opened_at,closed_at
K1,C6,2026-11-01T00:00:00,
K2,C1,2026-10-01T00:00:00,2026-10-05T00:00:00
"""


def _email_rows(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [row[0] for row in rows],
            "offer_id": ["O1"] * len(rows),
            "campaign_id": ["CA1"] * len(rows),
            "product_id": [row[1] for row in rows],
            "channel": ["email"] * len(rows),
            "rank": [1] * len(rows),
            "score": [0.5] * len(rows),
            "cell": ["A"] * len(rows),
            "email": [row[2] for row in rows],
        }
    )


@pytest.fixture
def world(tmp_path: Path) -> Path:
    sources = {
        "customers": CUSTOMERS,
        "products": PRODUCTS,
        "consents": CONSENTS,
        "preferences": PREFERENCES,
        "complaints": COMPLAINTS,
    }
    for source, text in sources.items():
        folder = tmp_path / "landing" / source
        folder.mkdir(parents=True)
        (folder / f"{source}.csv").write_text(text)
    return tmp_path


@pytest.fixture(scope="module")
def config() -> CampaignConfig:
    return load_config([DEFAULT_CONFIG_DIR])


def _export(world: Path, channel: str, table: pa.Table) -> None:
    folder = world / "exports" / channel / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / "offers.parquet")


def _reasons(world: Path, config: CampaignConfig) -> dict[str, str]:
    audit = audit_consent(world / "landing", world / "exports", config, DAY, now=NOW)
    rows = audit.violations.to_pylist()
    return {row["customer_id"]: row["reasons"] for row in rows}


def test_rows_that_honour_consent_and_preferences_pass(world: Path, config: CampaignConfig) -> None:
    # C1: opt-in (the later 'perhaps' is invalid, skipped); prefers the work address.
    # C4: opted out only after the day. C3: opted out of credit, offered a card.
    _export(
        world,
        "email",
        _email_rows(
            [
                ("C1", "P1", "c1@work.test"),
                ("C4", "P1", "c4@work.test"),
                ("C3", "P2", "c3@home.test"),
            ]
        ),
    )
    audit = audit_consent(world / "landing", world / "exports", config, DAY, now=NOW)
    assert audit.ok, audit.violations.to_pylist()
    assert [(item.channel, item.rows, item.violating_rows) for item in audit.channels] == [
        ("email", 3, 0)
    ]


def test_customer_who_opted_out_of_email_is_a_violation(
    world: Path, config: CampaignConfig
) -> None:
    _export(world, "email", _email_rows([("C2", "P1", "c2@home.test")]))
    assert "consent: opted out of email" in _reasons(world, config)["C2"]


def test_topic_opt_out_removes_only_that_category(world: Path, config: CampaignConfig) -> None:
    _export(
        world, "email", _email_rows([("C3", "P1", "c3@home.test"), ("C3", "P2", "c3@home.test")])
    )
    audit = audit_consent(world / "landing", world / "exports", config, DAY, now=NOW)
    (row,) = audit.violations.to_pylist()
    assert (row["product_id"], row["reasons"]) == ("P1", "topic opt-out: credit on email")


def test_requires_opt_in_channel_without_opt_in_is_a_violation(
    world: Path, config: CampaignConfig
) -> None:
    _export(world, "email", _email_rows([("C5", "P1", "c5@home.test")]))
    assert "no opt-in for email" in _reasons(world, config)["C5"]


def test_open_complaint_suppresses_and_closed_one_does_not(
    world: Path, config: CampaignConfig
) -> None:
    _export(
        world, "email", _email_rows([("C6", "P1", "c6@home.test"), ("C1", "P1", "c1@work.test")])
    )
    reasons = _reasons(world, config)
    assert set(reasons) == {"C6"}
    assert "open complaint K1" in reasons["C6"]


def test_email_other_than_the_preferred_one_is_a_violation(
    world: Path, config: CampaignConfig
) -> None:
    _export(world, "email", _email_rows([("C1", "P1", "c1@home.test")]))
    assert "the preference picks c1@work.test" in _reasons(world, config)["C1"]


def test_postal_address_must_follow_mail_to(world: Path, config: CampaignConfig) -> None:
    table = _email_rows([("C4", "P1", "x"), ("C5", "P1", "x")]).drop_columns(["email"])
    table = table.set_column(4, "channel", pa.array(["direct_mail"] * 2))
    table = table.append_column("postal_address", pa.array(["4 Home St", "5 Home St"]))
    _export(world, "direct_mail", table)
    reasons = _reasons(world, config)
    assert set(reasons) == {"C4"}
    assert "postal address" in reasons["C4"]


def test_no_exports_for_the_day_gives_no_channels(world: Path, config: CampaignConfig) -> None:
    audit = audit_consent(world / "landing", world / "exports", config, DAY, now=NOW)
    assert audit.channels == [] and audit.ok
