"""Behaviour of the synthetic world: determinism, realism and the planted truth."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from cmart.config import load_config
from cmart.generate import GenerateReport, generate_world
from cmart.settings import EXPECTATIONS_DIR, Settings

END_DATE = dt.date(2026, 6, 30)
N_CUSTOMERS = 3_000
HARD = ("accepted", "applied", "purchased")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, GenerateReport, list[str]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("world"), run_date=END_DATE)
    messages: list[str] = []
    report = generate_world(
        settings, customers=N_CUSTOMERS, seed=3, days=90, progress=messages.append
    )
    return settings, report, messages


@pytest.fixture(scope="module")
def con(world: tuple[Settings, GenerateReport, list[str]]) -> duckdb.DuckDBPyConnection:
    settings = world[0]
    landing, truth = settings.landing_dir, settings.truth_dir
    connection = duckdb.connect()
    views = {
        "contacts": f"read_parquet('{landing}/contacts/*.parquet')",
        "responses": f"read_parquet('{landing}/responses/*.parquet')",
        "holdings": f"read_parquet('{landing}/holdings/*.parquet')",
        "customer_versions": f"read_csv('{landing}/customers/*.csv', all_varchar=true)",
        "crm": f"read_json('{landing}/crm_customers/*.jsonl', format='newline_delimited')",
        "consents": f"read_csv('{landing}/consents/*.csv.gz')",
        "offers": f"read_csv('{landing}/offers/*.csv')",
        "products": f"read_csv('{landing}/products/*.csv')",
        "complaints": f"read_csv('{landing}/complaints/*.csv')",
        "preferences": f"read_csv('{landing}/preferences/*.csv')",
        "truth_customers": f"read_parquet('{truth}/customer_truth.parquet')",
        "identity": f"read_csv('{truth}/identity_matches.csv')",
        "acceptance": f"read_csv('{truth}/acceptance_rates.csv')",
        "lift": f"read_csv('{truth}/campaign_lift.csv')",
    }
    for name, reader in views.items():
        connection.execute(f"create view {name} as select * from {reader}")
    connection.execute(
        "create view customers as select * from customer_versions "
        "qualify row_number() over (partition by customer_id order by updated_at desc) = 1"
    )
    return connection


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchall()[0]


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    runs = []
    for name in ("first", "second"):
        settings = Settings(data_dir=tmp_path / name, run_date=END_DATE)
        generate_world(
            settings, customers=800, seed=9, days=45, dirty_rate=0.03, progress=lambda _: None
        )
        runs.append(_hashes(settings.data_dir))
    assert runs[0] == runs[1]
    assert len(runs[0]) > 20


def test_another_seed_gives_another_world(tmp_path: Path) -> None:
    hashes = []
    for seed in (1, 2):
        settings = Settings(data_dir=tmp_path / str(seed), run_date=END_DATE)
        generate_world(settings, customers=200, seed=seed, days=30, progress=lambda _: None)
        hashes.append(_hashes(settings.landing_dir)["customers/customers.csv"])
    assert hashes[0] != hashes[1]


def test_report_and_progress_name_every_source(
    world: tuple[Settings, GenerateReport, list[str]],
) -> None:
    _, report, messages = world
    sources = {path.stem for path in EXPECTATIONS_DIR.glob("*.yml")}
    assert set(report.rows) == sources
    assert all(path.is_file() for path in report.files)
    assert report.seconds > 0
    pattern = re.compile(r"^generated (\w+): [\d,]+ rows in \d+ files?$")
    reported = {pattern.match(m).group(1) for m in messages if pattern.match(m)}
    assert reported == sources


def test_no_temporary_files_are_left_behind(
    world: tuple[Settings, GenerateReport, list[str]],
) -> None:
    settings = world[0]
    assert not [p for p in settings.data_dir.rglob(".*") if p.is_file()]


def test_every_segment_is_populated_by_its_first_matching_rule(
    world: tuple[Settings, GenerateReport, list[str]], con: duckdb.DuckDBPyConnection
) -> None:
    settings = world[0]
    config = load_config(settings.config_dirs)
    rows = con.execute(
        "select c.birth_date, c.income_band, c.occupation, t.segment_code "
        "from customers c join truth_customers t using (customer_id)"
    ).fetchall()
    assert len(rows) == N_CUSTOMERS
    rules = sorted(config.segments, key=lambda s: s.priority)
    for birth, income, occupation, segment in rows:
        born = dt.date.fromisoformat(birth)
        age = END_DATE.year - born.year - ((END_DATE.month, END_DATE.day) < (born.month, born.day))
        expected = next(
            rule.segment_code
            for rule in rules
            if rule.age_min <= age <= rule.age_max
            and (not rule.income_bands or income in rule.income_bands)
            and (not rule.occupations or occupation in rule.occupations)
        )
        assert segment == expected
    populated = {row[3] for row in rows}
    assert populated == {s.segment_code for s in config.segments}


def test_customer_updates_come_later_with_changed_attributes(
    con: duckdb.DuckDBPyConnection,
) -> None:
    changed, later = _one(
        con,
        """
        select count(*) filter (where
                   a.city is distinct from b.city or a.email_home is distinct from b.email_home
                   or a.marital_status is distinct from b.marital_status
                   or a.email_work is distinct from b.email_work),
               count(*) filter (where b.updated_at > a.updated_at)
        from customer_versions a join customer_versions b
          on a.customer_id = b.customer_id and a.updated_at < b.updated_at
        """,
    )
    assert changed > 0.8 * later and later > 0.03 * N_CUSTOMERS


def test_crm_overlap_shares_are_roughly_as_planned(con: duckdb.DuckDBPyConnection) -> None:
    shares = dict(
        con.execute(
            "select match_rule, count(*) / sum(count(*)) over () from identity group by all"
        ).fetchall()
    )
    for rule, share in {"national_id": 0.30, "email": 0.15, "phone": 0.10, "none": 0.45}.items():
        assert shares[rule] == pytest.approx(share, abs=0.02)


def test_crm_records_match_core_customers_only_by_their_rule(
    con: duckdb.DuckDBPyConnection,
) -> None:
    phone = "regexp_replace(regexp_replace({0}, '[^0-9]', '', 'g'), '^32', '0')"
    con.execute(
        f"""
        create or replace temp table crm_check as
        select i.match_rule, i.customer_id,
               crm.national_id as crm_nid, crm.email as crm_email,
               lower(trim(crm.email)) as crm_email_norm,
               {phone.format("crm.mobile_phone")} as crm_phone_norm,
               crm.mobile_phone as crm_phone,
               cu.national_id, cu.email_home, {phone.format("cu.mobile_phone")} as phone_norm,
               cu.mobile_phone
        from identity i join crm using (crm_id) left join customers cu using (customer_id)
        """
    )
    bad = _one(
        con,
        """
        select
          count(*) filter (where match_rule = 'national_id' and crm_nid <> national_id),
          count(*) filter (where match_rule = 'email' and (crm_nid is not null
              or crm_email_norm <> email_home or crm_email = email_home)),
          count(*) filter (where match_rule = 'phone' and (crm_nid is not null
              or crm_email is not null or crm_phone_norm <> phone_norm
              or crm_phone = mobile_phone))
        from crm_check
        """,
    )
    assert bad == (0, 0, 0)
    unmatched_hits = _one(
        con,
        """
        select count(*) from crm_check c
        where match_rule = 'none' and (
            c.crm_nid in (select national_id from customer_versions)
            or c.crm_email_norm in (select lower(email_home) from customer_versions)
            or c.crm_phone_norm in (select regexp_replace(regexp_replace(mobile_phone,
                '[^0-9]', '', 'g'), '^32', '0') from customer_versions))
        """,
    )[0]
    assert unmatched_hits == 0


def test_products_are_exactly_the_products_on_paths(
    world: tuple[Settings, GenerateReport, list[str]], con: duckdb.DuckDBPyConnection
) -> None:
    config = load_config(world[0].config_dirs)
    ids = {row[0] for row in con.execute("select product_id from products").fetchall()}
    assert ids == {row.product_id for row in config.product_paths}
    cheapest_premium, dearest_mass = _one(
        con,
        "select min(value) filter (where tier = 'premium'), max(value) filter (where tier = 'mass')"
        " from products",
    )
    assert cheapest_premium > dearest_mass


def test_offers_run_on_end_date_and_after_it_covering_every_product(
    con: duckdb.DuckDBPyConnection,
) -> None:
    valid_today, valid_after, products = _one(
        con,
        f"""
        select count(*) filter (where valid_from <= date '{END_DATE}' and valid_to >= date
                                '{END_DATE}'),
               count(*) filter (where valid_to > date '{END_DATE}'),
               count(distinct product_id) filter (where valid_from <= date '{END_DATE}'
                                                  and valid_to >= date '{END_DATE}')
        from offers
        """,
    )
    assert valid_today >= 4 and valid_after >= valid_today
    assert products == _one(con, "select count(*) from products")[0]


def test_contacts_average_about_twenty_per_customer_in_monthly_files(
    world: tuple[Settings, GenerateReport, list[str]], con: duckdb.DuckDBPyConnection
) -> None:
    per_customer = _one(con, "select count(*) from contacts")[0] / N_CUSTOMERS
    assert 17 <= per_customer <= 21
    files = sorted((world[0].landing_dir / "contacts").glob("*.parquet"))
    assert [f.name for f in files] == [
        "contacts_2026-04-01.parquet",
        "contacts_2026-05-01.parquet",
        "contacts_2026-05-31.parquet",
    ]


def test_contacts_use_the_offer_channels_within_its_validity(
    con: duckdb.DuckDBPyConnection,
) -> None:
    outside = _one(
        con,
        """
        select count(*) filter (where not list_contains(string_split(o.channels, '|'), c.channel)),
               count(*) filter (where c.contacted_at::date not between o.valid_from and o.valid_to)
        from contacts c join offers o using (offer_id)
        """,
    )
    assert outside == (0, 0)


def test_assisted_contacts_carry_rep_and_branch(con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        (channel, (reps, total))
        for channel, reps, total in con.execute(
            "select channel, count(rep_id), count(*) from contacts group by all"
        ).fetchall()
    )
    assert rows["branch"][0] == rows["branch"][1]
    assert rows["call_center"][0] == rows["call_center"][1]
    assert rows["email"][0] == 0


def test_contacts_rarely_offer_a_product_the_customer_holds(
    con: duckdb.DuckDBPyConnection,
) -> None:
    share = _one(
        con,
        """
        select avg((h.customer_id is not null)::int) from contacts c
        join offers o using (offer_id)
        left join (select distinct customer_id, product_id from holdings where status = 'active') h
          on h.customer_id = c.customer_id and h.product_id = o.product_id
        """,
    )[0]
    assert share < 0.05


def test_historical_contacts_mostly_respect_consent(con: duckdb.DuckDBPyConnection) -> None:
    violation_share = _one(
        con,
        """
        with general as (
            select customer_id, channel, recorded_at, status from consents
            where coalesce(topic, 'all') = 'all'),
        checked as (
            select c.contact_id, g.status
            from contacts c asof left join general g
              on g.customer_id = c.customer_id and g.channel = c.channel
             and g.recorded_at <= c.contacted_at
            where c.channel in ('email', 'sms', 'call_center'))
        select avg((status is distinct from 'opt_in')::int) from checked
        """,
    )[0]
    assert violation_share < 0.03


def test_consents_have_sms_refusers_topic_opt_outs_and_later_opt_outs(
    con: duckdb.DuckDBPyConnection,
) -> None:
    no_sms, topic_credit, later = _one(
        con,
        f"""
        select
          1 - count(distinct customer_id) filter (where channel = 'sms' and status = 'opt_in')
              / {N_CUSTOMERS},
          count(*) filter (where channel = 'call_center' and topic = 'credit'
                           and status = 'opt_out'),
          count(*) filter (where status = 'opt_out' and recorded_at >= date '{END_DATE}'
                           - interval 182 day)
        from consents
        """,
    )
    assert 0.08 <= no_sms <= 0.16
    assert topic_credit > 0 and later > 0


def test_some_complaints_are_still_open_and_preferences_change(
    con: duckdb.DuckDBPyConnection,
) -> None:
    complaint_share, still_open = _one(
        con, f"select count(*) / {N_CUSTOMERS}, count(*) - count(closed_at) from complaints"
    )
    assert 0.01 <= complaint_share <= 0.03 and still_open > 0
    work, changes = _one(
        con,
        "select count(*) filter (where value = 'work'), "
        "count(*) - count(distinct (customer_id, key)) from preferences",
    )
    assert work > 0 and changes > 0


def test_responses_never_precede_their_contact_nor_reach_the_end_date(
    con: duckdb.DuckDBPyConnection,
) -> None:
    early, mismatched, late, linked_share = _one(
        con,
        f"""
        select count(*) filter (where r.responded_at < c.contacted_at),
               count(*) filter (where r.customer_id <> c.customer_id
                                or r.offer_id <> c.offer_id),
               (select count(*) from responses where responded_at >= date '{END_DATE}'),
               count(*) / (select count(*) from responses)
        from responses r join contacts c using (contact_id)
        """,
    )
    assert (early, mismatched, late) == (0, 0, 0)
    assert 0.7 < linked_share < 0.9


def test_responses_average_about_two_per_customer_with_every_type(
    world: tuple[Settings, GenerateReport, list[str]], con: duckdb.DuckDBPyConnection
) -> None:
    per_customer = _one(con, "select count(*) from responses")[0] / N_CUSTOMERS
    assert 1.4 <= per_customer <= 2.8
    config = load_config(world[0].config_dirs)
    types = {
        row[0] for row in con.execute("select distinct response_type from responses").fetchall()
    }
    assert types == {r.response_type for r in config.response_types}


def test_control_groups_convert_less_than_treated_customers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rates = dict(
        con.execute(
            f"""
            with pairs as (
                select customer_id, offer_id, bool_or(is_control) as control,
                       bool_and(is_control) as all_control
                from contacts group by all),
            hard as (select distinct customer_id, offer_id from responses
                     where response_type in {HARD!r})
            select control, avg((h.offer_id is not null)::int)
            from pairs left join hard h using (customer_id, offer_id)
            group by all
            """
        ).fetchall()
    )
    assert 0 < rates[True] < 0.7 * rates[False]
    mixed = _one(
        con,
        "select count(*) from (select customer_id, offer_id from contacts group by all "
        "having bool_or(is_control) <> bool_and(is_control))",
    )[0]
    assert mixed == 0


def test_planted_lift_is_positive_for_every_offer_and_channel_but_the_low_performer(
    con: duckdb.DuckDBPyConnection, world: tuple[Settings, GenerateReport, list[str]]
) -> None:
    offers = pa_csv.read_csv(world[0].truth_dir / "offer_truth.csv").to_pylist()
    low = [o["offer_id"] for o in offers if o["is_low_performer"]]
    assert len(low) == 1  # one planted low performer, below its own control group
    assert all(o["hard_rate_multiplier"] == 1.0 for o in offers if o["offer_id"] not in low)
    good, bad = con.execute(
        "select min(true_lift) filter (where offer_id <> $low), "
        "max(true_lift) filter (where offer_id = $low) from lift",
        {"low": low[0]},
    ).fetchall()[0]
    assert good > 0 and bad < 0


def test_best_offer_and_best_channel_differ_by_segment(con: duckdb.DuckDBPyConnection) -> None:
    best_products = con.execute(
        "select segment_code, arg_max(product_id, p) from (select segment_code, product_id, "
        "avg(p_hard) as p from acceptance group by all) group by all"
    ).fetchall()
    best_channels = con.execute(
        "select segment_code, arg_max(channel, p) from (select segment_code, channel, "
        "avg(p_hard) filter (where on_path) as p from acceptance group by all) group by all"
    ).fetchall()
    assert len({product for _, product in best_products}) >= 3
    assert len({channel for _, channel in best_channels}) >= 2


def test_cell_b_has_a_planted_effect_on_some_offers(
    world: tuple[Settings, GenerateReport, list[str]],
) -> None:
    offers = pa_csv.read_csv(world[0].truth_dir / "offer_truth.csv").to_pylist()
    with_b = [o for o in offers if o["cells"] == "A|B"]
    assert with_b and {o["cell_b_multiplier"] for o in with_b} != {1.0}
    assert all(o["cell_b_multiplier"] == 1.0 for o in offers if o["cells"] == "A")


def test_truth_describes_the_world(world: tuple[Settings, GenerateReport, list[str]]) -> None:
    settings, report, _ = world
    document = json.loads((settings.truth_dir / "world.json").read_text())
    assert document["arguments"] == {
        "customers": N_CUSTOMERS,
        "seed": 3,
        "days": 90,
        "dirty_rate": 0.0,
        "end_date": END_DATE.isoformat(),
    }
    assert document["rows"] == report.rows
    customers = pq.read_table(settings.truth_dir / "customer_truth.parquet")
    assert customers.num_rows == N_CUSTOMERS
    affinity = customers.column("digital_affinity").to_numpy()
    age = customers.column("age").to_numpy()
    assert np.corrcoef(affinity, age)[0, 1] < -0.5


def test_world_follows_a_deployment_configuration_override(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, run_date=END_DATE)
    override = settings.config_override_dir
    override.mkdir(parents=True)
    defaults = Path(load_config(settings.config_dirs).files["segments.csv"]).parent
    segments = (defaults / "segments.csv").read_text().splitlines()
    segments.insert(1, "0,junior,Juniors,14,17,,")
    (override / "segments.csv").write_text("\n".join(segments) + "\n")
    paths = (defaults / "product_paths.csv").read_text().rstrip("\n")
    (override / "product_paths.csv").write_text(paths + "\njunior,junior_saver,1\n")
    generate_world(settings, customers=600, seed=4, days=30, progress=lambda _: None)
    segments_seen = set(
        pq.read_table(settings.truth_dir / "customer_truth.parquet")
        .column("segment_code")
        .to_pylist()
    )
    assert "junior" in segments_seen
    products = pa_csv.read_csv(settings.landing_dir / "products" / "products.csv")
    assert "junior_saver" in products.column("product_id").to_pylist()


def test_older_landing_files_are_left_in_place_and_reported(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, run_date=END_DATE)
    stale = settings.landing_dir / "contacts" / "contact_history_2026-01-01.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("contact_id\n")
    messages: list[str] = []
    generate_world(settings, customers=200, seed=4, days=30, progress=messages.append)
    assert stale.is_file()
    assert any("contacts/contact_history_2026-01-01.csv" in m for m in messages)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"customers": 5}, "customers"),
        ({"days": 0}, "days"),
        ({"dirty_rate": 1.5}, "dirty_rate"),
    ],
)
def test_impossible_arguments_are_refused(
    tmp_path: Path, arguments: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        generate_world(Settings(data_dir=tmp_path, run_date=END_DATE), **arguments)


def test_customers_differ_within_a_segment_by_a_planted_acceptance_factor(
    con: duckdb.DuckDBPyConnection, world: tuple[Settings, GenerateReport, list[str]]
) -> None:
    truth = world[0].truth_dir
    con.execute(
        f"create or replace view effects as select * from '{truth}/customer_effects.parquet'"
    )
    mean, low, high, spread = _one(
        con,
        "select avg(acceptance_factor), min(acceptance_factor), max(acceptance_factor), "
        "stddev(ln(acceptance_factor)) from effects",
    )
    assert 0.85 < mean < 1.25 and low >= 0.1 and high > 3 and 0.4 < spread < 1.2
    # treated contacts of the customers the factor favours accept more often, in every segment
    rates = con.execute(
        f"""
        with treated as (
            select contacts.contact_id, truth_customers.segment_code, effects.acceptance_factor
            from contacts
            inner join offers using (offer_id)
            inner join truth_customers using (customer_id)
            inner join effects
                on contacts.customer_id = effects.customer_id
                and offers.product_id = effects.product_id
            where not contacts.is_control
        ),
        hard as (
            select distinct contact_id from responses
            where contact_id is not null and response_type in {HARD!r}
        )
        select acceptance_factor > 1 as favoured, avg((hard.contact_id is not null)::int)
        from treated left join hard using (contact_id)
        group by all
        """
    ).fetchall()
    rate = dict(rates)
    assert rate[True] > 1.8 * rate[False], rate
    document = json.loads((truth / "world.json").read_text())
    assert document["planted"]["customer_effects"]["trigger_days"] > 0
