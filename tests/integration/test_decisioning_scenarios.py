"""Decisioning scenarios on the real dbt models.

- "No credit offers by phone": customers who opt out of topic credit on the call centre never
  appear on the call-centre list for a credit product afterwards, but still get other offers.
- Re-running the decision step on the same inputs gives identical rows.
- A gym (different segments, products, channels, response types and policies; no bank words)
  runs through the same models from its own tiny landing files and configuration.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import duckdb
import pytest

from cmart.config import load_config, write_config_tables
from cmart.settings import DEFAULT_CONFIG_DIR, REPO_ROOT, Settings
from tests.conftest import RUN_DATE, copy_into_bench
from tests.integration.decisioning_harness import (
    append_rows,
    query,
    rebuild_decisioning,
    run_dbt,
)

pytestmark = pytest.mark.slow

GYM_CONFIG = REPO_ROOT / "tests" / "fixtures" / "gym_config"
DECISION_MODELS = ("int_offer_candidates", "int_offer_arbitrated", "fct_offer_eligibility", "nbo")


@pytest.fixture(scope="module")
def phone_credit_world(daily_run, dbt_bench: Settings):
    """A copy of the small world in which the customers the call centre would call about a
    credit product say "no credit offers by phone" this morning (on the session's dbt bench:
    dbt's partial parse of an earlier module is reused)."""
    work = dbt_bench.dbt_target_dir.parent
    warehouse = copy_into_bench(daily_run.settings.warehouse_path, dbt_bench)
    callers = [
        customer
        for (customer,) in query(
            warehouse,
            """
            select distinct customer_id
            from decisioning.fct_offer_eligibility
            where channel = 'call_center'
                and product_category = 'credit'
                and eligibility_status = 'eligible'
                and customer_id in (
                    -- and something else they can be reached with
                    select customer_id from decisioning.fct_offer_eligibility
                    where eligibility_status = 'eligible'
                        and selection_note in ('selected', 'other_channel_selected', 'below_top_n')
                        and (channel <> 'call_center' or product_category <> 'credit')
                )
            order by customer_id
            limit 25
            """,
        )
    ]
    assert len(callers) >= 5, "the small world must have call-centre credit candidates"
    said_at = dt.datetime.combine(RUN_DATE, dt.time(8, 15))
    with duckdb.connect(str(warehouse)) as con:
        append_rows(
            con,
            "consents",
            [
                {"customer_id": customer, "channel": "call_center", "topic": "credit",
                 "status": "opt_out", "recorded_at": said_at, "source_channel": "call_center"}
                for customer in callers
            ],
            tag="no_credit_by_phone",
        )  # fmt: skip
    rebuild_decisioning(warehouse, work, RUN_DATE)
    return warehouse, work, callers


def test_no_credit_offers_by_phone_keeps_credit_off_the_call_centre_list(phone_credit_world):
    warehouse, _, callers = phone_credit_world
    on_phone_list = query(
        warehouse,
        """
        select nbo.customer_id, nbo.offer_id
        from decisioning.nbo as nbo
        inner join core.dim_product as products on nbo.product_id = products.product_id
        where nbo.channel = 'call_center'
            and products.category = 'credit'
            and nbo.customer_id in (select unnest(?))
        """,
        [callers],
    )
    assert on_phone_list == []
    reasons = query(
        warehouse,
        """
        select distinct eligibility_status
        from decisioning.fct_offer_eligibility
        where channel = 'call_center'
            and product_category = 'credit'
            and customer_id in (select unnest(?))
        """,
        [callers],
    )
    assert ("topic_opt_out",) in reasons
    assert ("eligible",) not in reasons


def test_no_credit_offers_by_phone_still_gets_other_offers(phone_credit_world):
    warehouse, _, callers = phone_credit_world
    offered = query(
        warehouse,
        "select customer_id, count(*) from decisioning.nbo "
        "where customer_id in (select unnest(?)) group by customer_id",
        [callers],
    )
    assert {customer for customer, _ in offered} == set(callers)
    # other channels still carry credit offers for some of them (only the phone is closed)
    [(credit_elsewhere,)] = query(
        warehouse,
        """
        select count(*)
        from decisioning.fct_offer_eligibility
        where customer_id in (select unnest(?))
            and product_category = 'credit'
            and channel <> 'call_center'
            and eligibility_status = 'eligible'
        """,
        [callers],
    )
    assert credit_elsewhere > 0


def test_rerunning_the_decision_step_gives_identical_rows(phone_credit_world):
    warehouse, work, _ = phone_credit_world
    snapshot = {
        "nbo": "select * from decisioning.nbo order by customer_id, offer_id",
        "log": "select * from decisioning.fct_offer_eligibility "
        "order by run_date, customer_id, offer_id, channel",
    }
    before = {name: query(warehouse, sql) for name, sql in snapshot.items()}
    run_dbt(warehouse, work, RUN_DATE, ["run", "-s", *DECISION_MODELS]).check()
    after = {name: query(warehouse, sql) for name, sql in snapshot.items()}
    assert len(before["nbo"]) > 0
    assert after == before


# -- a gym -----------------------------------------------------------------------------------

GYM_PRODUCTS = [
    # product_id, name, category, tier, value
    ("day_pass", "Day pass", "access", "mass", "12"),
    ("monthly_membership", "Monthly membership", "access", "mass", "45"),
    ("yoga_class", "Yoga class pack", "classes", "mass", "30"),
    ("aqua_fit", "Aqua fit course", "classes", "mass", "35"),
    ("personal_training", "Personal training", "coaching", "premium", "120"),
    ("nutrition_plan", "Nutrition plan", "coaching", "mass", "80"),  # premium in config
    ("sauna_addon", "Sauna add-on", "wellness", "mass", "15"),
]
GYM_CHANNELS = ("front_desk", "app_push", "email", "sms", "coach_call")


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)


def write_gym_landing(landing: Path, n_members: int = 40, seed: int = 5) -> None:
    """A tiny gym as landing files: clubs, coaches, members, products, two campaigns."""
    rng = random.Random(seed)
    stamp = "2026-01-01T00:00:00"
    _write(landing / "branches/clubs.csv", ["branch_id", "branch_name", "city", "region"],
           [["CLUB1", "Riverside club", "Riverton", "North"],
            ["CLUB2", "Hilltop club", "Hillview", "South"]])  # fmt: skip
    _write(landing / "reps/coaches.csv", ["rep_id", "rep_name", "branch_id"],
           [["COACH1", "Alex Coach", "CLUB1"], ["COACH2", "Sam Coach", "CLUB2"]])  # fmt: skip
    _write(landing / "products/products.csv",
           ["product_id", "product_name", "category", "tier", "value"],
           [list(product) for product in GYM_PRODUCTS])  # fmt: skip
    _write(landing / "campaigns/campaigns.csv",
           ["campaign_id", "campaign_name", "start_date", "end_date"],
           [["SPRING", "Spring into shape", "2026-11-01", "2026-12-31"],
            ["COACH", "Meet your coach", "2026-11-15", "2026-12-15"]])  # fmt: skip
    _write(landing / "offers/offers.csv",
           ["offer_id", "campaign_id", "product_id", "offer_name", "channels", "valid_from",
            "valid_to", "control_rate", "cells"],
           [["GO1", "SPRING", "day_pass", "Free day pass", "app_push|email|sms", "2026-11-01",
             "2026-12-31", "0", "A"],
            ["GO2", "SPRING", "monthly_membership", "First month half price",
             "front_desk|email|sms", "2026-11-01", "2026-12-31", "0", "A|B"],
            ["GO3", "SPRING", "yoga_class", "Yoga week", "app_push|email", "2026-11-01",
             "2026-12-31", "0", "A"],
            ["GO4", "COACH", "personal_training", "Intro session",
             "coach_call|front_desk|email|sms", "2026-11-15", "2026-12-15", "0", "A"],
            ["GO5", "COACH", "nutrition_plan", "Nutrition check", "email|sms", "2026-11-15",
             "2026-12-15", "0", "A"],
            ["GO6", "SPRING", "sauna_addon", "Sauna month", "front_desk|app_push",
             "2026-11-01", "2026-12-31", "0", "A"],
            ["GO7", "SPRING", "aqua_fit", "Aqua fit trial", "front_desk|sms", "2026-11-01",
             "2026-12-31", "0", "A"]])  # fmt: skip
    members, consents, holdings, contacts, responses = [], [], [], [], []
    for number in range(1, n_members + 1):
        member = f"M{number:03d}"
        age = rng.choice([19, 22, 30, 38, 41, 63, 70])
        occupation = "student" if age < 25 else rng.choice(["nurse", "engineer", "retired"])
        income = rng.choice(["low", "medium", "high", "very_high"])
        club = rng.choice(["CLUB1", "CLUB2"])
        members.append([member, f"NID{number:05d}", "Member", f"Number{number}",
                        f"{RUN_DATE.year - age}-03-01", rng.choice("FMX"), occupation, "single",
                        income, "Riverton", "North", club, f"m{number}@example.org",
                        f"+1555{number:04d}", f"{number} Gym street", stamp])  # fmt: skip
        for channel in ("email", "sms", "coach_call"):
            if rng.random() < 0.8:
                consents.append([member, channel, "opt_in", "2026-06-01T10:00:00", "all"])
        if number % 5 == 0:  # "no class offers by e-mail"
            consents.append([member, "email", "opt_out", "2026-11-20T10:00:00", "classes"])
        if number % 7 == 0:
            holdings.append([member, "monthly_membership", "active", "2025-05-01T00:00:00"])
        if number % 6 == 0:
            contacts.append([f"GC{number}", member, "GO3", "app_push",
                             "2026-11-27T09:00:00", "false"])  # fmt: skip
        if number % 9 == 0:
            # 19 days ago: past the 14-day response suppression, inside the 21-day cool-down
            responses.append([f"GR{number}", member, "GO2", "email", "not_interested",
                              "2026-11-10T12:00:00"])  # fmt: skip
    _write(landing / "customers/members.csv",
           ["customer_id", "national_id", "first_name", "last_name", "birth_date", "gender",
            "occupation", "marital_status", "income_band", "city", "region", "home_branch_id",
            "email_home", "mobile_phone", "home_address", "updated_at"], members)  # fmt: skip
    _write(
        landing / "consents/consents.csv",
        ["customer_id", "channel", "status", "recorded_at", "topic"],
        consents,
    )
    _write(
        landing / "holdings/holdings.csv",
        ["customer_id", "product_id", "status", "opened_at"],
        holdings,
    )
    _write(landing / "contacts/contacts.csv",
           ["contact_id", "customer_id", "offer_id", "channel", "contacted_at", "is_control"],
           contacts)  # fmt: skip
    _write(landing / "responses/responses.csv",
           ["response_id", "customer_id", "offer_id", "channel", "response_type",
            "responded_at"], responses)  # fmt: skip


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from loaders import load_landing

    work = tmp_path_factory.mktemp("gym")
    write_gym_landing(work / "landing")
    config = load_config([DEFAULT_CONFIG_DIR, GYM_CONFIG])
    warehouse = work / "campaign_mart.duckdb"
    load_landing(warehouse, work / "landing", config, progress=lambda _: None)
    with duckdb.connect(str(warehouse)) as con:
        write_config_tables(con, config)
    run_dbt(
        warehouse,
        work,
        RUN_DATE,
        ["build", "-s", "+nbo", "+fct_offer_eligibility",
         "--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot"],
    ).check()  # fmt: skip
    return warehouse


def test_gym_configuration_has_no_bank_words():
    text = " ".join(path.read_text().lower() for path in GYM_CONFIG.iterdir())
    bank_words = ("bank", "credit", "loan", "mortgage", "deposit", "atm", "statement", "teller")
    assert [word for word in bank_words if word in text] == []


def test_gym_members_get_gym_offers_on_gym_channels_within_their_path(gym: Path):
    rows = query(
        gym,
        """
        select nbo.customer_id, nbo.product_id, nbo.channel, customers.segment_code,
            paths.product_id is not null as is_on_path
        from decisioning.nbo as nbo
        inner join core.dim_customer as customers on nbo.customer_id = customers.customer_id
        left join config.product_paths as paths
            on customers.segment_code = paths.segment_code
            and nbo.product_id = paths.product_id
        """,
    )
    assert len({customer for customer, *_ in rows}) >= 20
    assert {channel for _, _, channel, _, _ in rows} <= set(GYM_CHANNELS)
    assert {product for _, product, *_ in rows} <= {product[0] for product in GYM_PRODUCTS}
    assert all(is_on_path for *_, is_on_path in rows)
    assert {segment for *_, segment, _ in rows} >= {"students", "everyone"}
    [(max_per_member,)] = query(
        gym, "select max(n) from (select count(*) as n from decisioning.nbo group by customer_id)"
    )
    assert max_per_member <= 2  # the gym's top_n_offers


def test_gym_rules_apply_coach_capacity_tiers_and_topic_opt_outs(gym: Path):
    [(coach_calls,)] = query(
        gym, "select count(*) from decisioning.nbo where channel = 'coach_call' and not is_control"
    )
    assert coach_calls == 2  # the coaches' daily capacity
    statuses = dict(
        query(
            gym,
            "select eligibility_status, count(*) from decisioning.fct_offer_eligibility group by 1",
        )
    )
    assert {"capacity", "topic_opt_out", "already_held", "declined_cooldown", "eligible"} <= set(
        statuses
    ), statuses
    # personal training (premium) never goes out with a mass product to the same member
    mixed = query(
        gym,
        """
        select customer_id
        from decisioning.nbo as nbo
        inner join decisioning.fct_offer_eligibility as log using (customer_id, offer_id, channel)
        where not nbo.is_control and log.product_tier is not null
        group by customer_id
        having count(distinct log.product_tier) > 1
        """,
    )
    assert mixed == []
    # nutrition_plan's tier comes from the gym's product_tiers.csv (the landing file says mass)
    [(tier,)] = query(
        gym,
        "select distinct product_tier from decisioning.fct_offer_eligibility "
        "where product_id = 'nutrition_plan'",
    )
    assert tier == "premium"
