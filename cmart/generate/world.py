"""``generate_world``: every landing source of the demo bank, plus the planted truth."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cmart.generate import (
    acceptance,
    accounts,
    branches,
    catalogue,
    contacts,
    crm,
    people,
    planted,
)
from cmart.generate.dirty import Dirt
from cmart.generate.frame import Frame, date_of
from cmart.generate.history import History
from cmart.generate.model import World
from cmart.generate.sinks import Sink, write_json, write_table
from cmart.generate.textfmt import fixed_to_arrow, timestamps, vocab_array
from cmart.generate.vocab import GENDERS
from cmart.generate.worldconfig import WorldConfig, load_world_config
from cmart.settings import Settings


@dataclass
class GenerateReport:
    """What a generator run wrote: files, rows per source and wall-clock seconds."""

    files: list[Path]
    rows: dict[str, int]
    seconds: float


def _check_arguments(customers: int, days: int, dirty_rate: float) -> None:
    if customers < 10:
        raise ValueError(f"customers must be at least 10 (got {customers})")
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    if not 0.0 <= dirty_rate < 1.0:
        raise ValueError(f"dirty_rate must be in [0, 1) (got {dirty_rate})")


def _write_people(world: World, sink: Sink) -> None:
    cfg, seed, frame = world.cfg, world.seed, world.frame
    base, updates = people.customer_tables(cfg, seed, world.customers, world.branches)
    sink.write("customers", [("customers", base), ("customers_updates", updates)], "csv")
    crm_records = crm.crm_table(seed, frame, world.crm, world.customers)
    sink.write("crm_customers", [("crm_customers", crm_records)], "jsonl")
    sink.write("branches", [("branches", branches.branches_table(world.branches))], "csv")
    sink.write("reps", [("reps", branches.reps_table(world.branches))], "csv")


def _write_catalogue(world: World, sink: Sink) -> None:
    sink.write("products", [("products", catalogue.products_table(world.products))], "csv")
    sink.write("campaigns", [("campaigns", catalogue.campaigns_table(world.campaigns))], "csv")
    offers = catalogue.offers_table(world.cfg, world.offers, world.campaigns, world.products)
    sink.write("offers", [("offers", offers)], "csv")


def _write_accounts(world: World, sink: Sink) -> accounts.ConsentState:
    cfg, seed, frame, customers = world.cfg, world.seed, world.frame, world.customers
    holdings = world.holdings.table(customers, world.products)
    sink.write("holdings", [("holdings", holdings)], "parquet")
    consents, state = accounts.make_consents(cfg, seed, frame, customers, world.products)
    sink.write("consents", [("consents", consents)], "csv.gz")
    preferences = accounts.preferences_table(seed, frame, customers)
    sink.write("preferences", [("preferences", preferences)], "csv")
    complaints = accounts.complaints_table(cfg, seed, world.complaints, customers)
    sink.write("complaints", [("complaints", complaints)], "csv")
    life_events = accounts.life_events_table(customers, world.life_events)
    sink.write("life_events", [("life_events", life_events)], "jsonl")
    scores = accounts.scores_table(
        seed, frame, customers, world.complaints, world.affinity, world.credit
    )
    sink.write("scores", [("scores", scores)], "parquet")
    return state


def _customer_truth(world: World) -> pa.Table:
    customers, cfg = world.customers, world.cfg
    return pa.table(
        {
            "customer_id": fixed_to_arrow(customers.ids),
            "segment_code": vocab_array(
                [s.code for s in cfg.segments], customers.segment, dictionary=False
            ),
            "age": pa.array(customers.age.astype(np.int32)),
            "gender": vocab_array(
                GENDERS, customers.persons.gender[: customers.count], dictionary=False
            ),
            "occupation": vocab_array(
                cfg.occupations, customers.demographics.occupation, dictionary=False
            ),
            "income_band": vocab_array(
                cfg.income_bands, customers.demographics.income, dictionary=False
            ),
            "city": vocab_array(branches.CITY_NAMES, customers.city, dictionary=False),
            "home_branch_id": fixed_to_arrow(world.branches.ids[customers.home_branch]),
            "digital_affinity": pa.array(world.affinity.round(4)),
            "n_products_held": pa.array(world.holdings.active.sum(axis=1).astype(np.int32)),
            "customer_since": timestamps(customers.since_s),
        }
    )


def _build_world(cfg: WorldConfig, seed: int, frame: Frame, n_customers: int) -> World:
    network = branches.make_branches(seed, n_customers)
    n_crm, n_only = crm.crm_size(n_customers)
    customers = people.make_customers(cfg, seed, frame, n_customers, n_only, network)
    products = catalogue.make_products(cfg, seed)
    campaigns = catalogue.make_campaigns(seed, frame, len(products.ids))
    holdings = accounts.make_holdings(cfg, seed, frame, customers)
    credit = accounts.credit_base(seed, customers)
    life_events = accounts.make_life_events(cfg, seed, frame, customers)
    effects = acceptance.make_effects(
        cfg, seed, customers, products, holdings.active.sum(axis=1), credit, life_events
    )
    return World(
        cfg=cfg,
        frame=frame,
        seed=seed,
        branches=network,
        customers=customers,
        crm=crm.plan_crm(seed, customers, n_crm, n_only),
        products=products,
        campaigns=campaigns,
        offers=catalogue.make_offers(cfg, seed, campaigns, products, frame),
        holdings=holdings,
        complaints=accounts.make_complaints(seed, frame, customers),
        affinity=accounts.digital_affinity(seed, customers),
        credit=credit,
        life_events=life_events,
        effects=effects,
        planted=planted.plant(cfg, seed),
    )


def _write_truth(
    settings: Settings,
    world: World,
    history: History,
    dirt: Dirt,
    arguments: dict[str, object],
    rows: dict[str, int],
) -> list[Path]:
    truth = settings.truth_dir
    files = {
        "acceptance_rates.csv": planted.acceptance_table(world.planted, world.cfg.on_path),
        acceptance.TRUTH_FILE: acceptance.effects_table(
            world.cfg, world.effects, world.customers, world.products, world.frame.end_s
        ),
        "customer_truth.parquet": _customer_truth(world),
        "identity_matches.csv": crm.identity_truth(world.crm, world.customers),
        "campaign_lift.csv": history.lift_table(),
        "offer_truth.csv": catalogue.offer_truth_table(
            world.offers, world.campaigns, world.products
        ),
    }
    dirty_rows = dirt.truth()
    if dirty_rows is not None:
        files["dirty_rows.csv"] = dirty_rows
    else:
        (truth / "dirty_rows.csv").unlink(missing_ok=True)  # from an earlier, dirty world
    written = []
    for name, table in files.items():
        path = truth / name
        write_table(table, path, "parquet" if name.endswith(".parquet") else "csv")
        written.append(path)
    document = {
        "arguments": arguments,
        "history": {
            "first_day": date_of(world.frame.start_day).isoformat(),
            "end_date_exclusive": world.frame.end_date.isoformat(),
        },
        "config_version": world.cfg.version,
        "rows": rows,
        "planted": {
            "base_hard": planted.BASE_HARD,
            "base_soft": planted.BASE_SOFT,
            "base_negative": planted.BASE_NEGATIVE,
            "organic_ratio": world.planted.organic_ratio,
            "customer_effects": acceptance.describe(),
            "contact_id_share": planted.CONTACT_ID_SHARE,
            "cross_channel_share": planted.CROSS_CHANNEL_SHARE,
            "max_lag_days": planted.MAX_LAG_S // 86_400,
            **world.planted.vocabulary(),
        },
    }
    write_json(document, truth / "world.json")
    written.append(truth / "world.json")
    return written


def _note_older_files(landing: Path, sink: Sink, progress: Callable[[str], None]) -> None:
    """Files this run did not write (an earlier world, pipeline output) are left alone: say so."""
    written = set(sink.files)
    older = sorted(
        path
        for source in sink.rows
        for path in (landing / source).glob("*")
        if path.is_file() and not path.name.startswith(".") and path not in written
    )
    if older:
        shown = ", ".join(str(path.relative_to(landing)) for path in older[:5])
        more = f" and {len(older) - 5} more" if len(older) > 5 else ""
        progress(f"note: {len(older)} older landing files left in place: {shown}{more}")


def generate_world(
    settings: Settings,
    *,
    customers: int = 10_000,
    seed: int = 42,
    days: int = 90,
    dirty_rate: float = 0.0,
    end_date: dt.date | None = None,
    progress: Callable[[str], None] = print,
) -> GenerateReport:
    """Write every landing source for a synthetic bank and the planted truth.

    All event times lie in ``[end_date - days, end_date)``; same arguments, same bytes.
    """
    started = time.perf_counter()
    _check_arguments(customers, days, dirty_rate)
    frame = Frame(end_date or settings.run_date, days)
    cfg = load_world_config(settings.config_dirs)
    dirt = Dirt(seed, dirty_rate)
    sink = Sink(settings.landing_dir, progress, dirt if dirty_rate > 0 else None)
    world = _build_world(cfg, seed, frame, customers)
    _write_people(world, sink)
    _write_catalogue(world, sink)
    consent = _write_accounts(world, sink)
    blocks = contacts.contact_blocks(
        cfg,
        seed,
        frame,
        world.customers,
        world.offers,
        world.products,
        world.holdings,
        consent,
        world.branches,
    )
    history = History(world)
    sink.write("contacts", history.contact_files(blocks), "parquet")
    sink.write("responses", [("responses", history.responses_table())], "parquet")
    arguments = {
        "customers": customers,
        "seed": seed,
        "days": days,
        "dirty_rate": dirty_rate,
        "end_date": frame.end_date.isoformat(),
    }
    truth_files = _write_truth(settings, world, history, dirt, arguments, dict(sink.rows))
    progress(f"wrote planted truth: {len(truth_files)} files in {settings.truth_dir}")
    _note_older_files(settings.landing_dir, sink, progress)
    return GenerateReport(sink.files, dict(sink.rows), time.perf_counter() - started)
