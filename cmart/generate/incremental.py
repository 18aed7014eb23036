"""``generate_responses``: a new batch of responses to recent contacts (``--responses-only``).

Reads every contact file under ``landing/contacts/`` (the generated history and the contact
history the pipeline writes there later), keeps contacts from ``since`` on, and draws responses
from the planted behaviour stored in the truth folder by :func:`generate_world`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from cmart.generate.acceptance import TRUTH_FILE
from cmart.generate.frame import day_number
from cmart.generate.history import responses_table
from cmart.generate.planted import (
    ContactsIn,
    Planted,
    draw_responses,
    planted_from_truth,
    stable_time_order,
)
from cmart.generate.sinks import write_table
from cmart.generate.textfmt import SECONDS_PER_DAY, digits, fixed_to_arrow
from cmart.generate.world import GenerateReport
from cmart.settings import Settings

CONTACT_COLUMNS = (
    "contact_id",
    "customer_id",
    "offer_id",
    "channel",
    "contacted_at",
    "cell",
    "is_control",
    "rep_id",
    "branch_id",
)
CONTACT_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".jsonl")
TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")


Window = tuple[int, int]  # [first, end) in seconds since 1970-01-01 (naive UTC)


def _naive(seconds: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)


def _read_raw(path: Path, window: Window) -> pa.Table:
    if path.name.endswith(".parquet"):
        schema = pq.read_schema(path)
        present = [c for c in CONTACT_COLUMNS if c in schema.names]
        kind = schema.field("contacted_at").type if "contacted_at" in schema.names else None
        if kind is not None and pa.types.is_timestamp(kind) and kind.tz is None:
            # Time-sorted files: the filter skips whole row groups.
            window_filter = [
                ("contacted_at", ">=", _naive(window[0])),
                ("contacted_at", "<", _naive(window[1])),
            ]
            return pq.read_table(path, columns=present, filters=window_filter)
        return pq.read_table(path, columns=present)
    if path.name.endswith(".jsonl"):
        return pa_json.read_json(path)
    options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(CONTACT_COLUMNS, pa.string()),
        include_columns=list(CONTACT_COLUMNS),
        include_missing_columns=True,
        strings_can_be_null=True,
    )
    return pa_csv.read_csv(path, convert_options=options)


def _read_contact_file(path: Path, window: Window) -> pa.Table:
    """The file's contacts made inside ``window``, with uniform column types."""
    table = _read_raw(path, window)
    seconds = (
        _seconds(table.column("contacted_at").combine_chunks())
        if "contacted_at" in table.column_names
        else np.full(table.num_rows, np.nan)
    )
    inside = (seconds >= window[0]) & (seconds < window[1])
    table = table.filter(pa.array(inside))
    columns = {}
    for name in CONTACT_COLUMNS:
        if name == "contacted_at":
            columns[name] = pa.array(seconds[inside].astype(np.int64))
            continue
        if name not in table.column_names:
            columns[name] = pa.nulls(table.num_rows, pa.string())
            continue
        column = table.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if name == "is_control":
            columns[name] = _booleans(column)
        else:
            columns[name] = column.cast(pa.string())
    return pa.table(columns)


def _seconds(column: pa.Array) -> np.ndarray:
    """Seconds since epoch (UTC) as float, NaN where missing or unparseable."""
    if pa.types.is_timestamp(column.type):
        unit = pa.timestamp("s", column.type.tz)
        seconds = pc.cast(column, unit, safe=False).cast(pa.int64())
    elif pa.types.is_date(column.type):
        seconds = pc.multiply(column.cast(pa.int32()).cast(pa.int64()), SECONDS_PER_DAY)
    else:
        text = column.cast(pa.string())
        parsed = [pc.strptime(text, format=f, unit="s", error_is_null=True) for f in TIME_FORMATS]
        with_offset = pc.strptime(text, format="%Y-%m-%dT%H:%M:%S%z", unit="s", error_is_null=True)
        parsed.append(with_offset.cast(pa.int64()).cast(pa.timestamp("s")))
        seconds = pc.coalesce(*parsed).cast(pa.int64())
    return pc.fill_null(seconds.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _booleans(column: pa.Array) -> pa.Array:
    if pa.types.is_boolean(column.type):
        return pc.fill_null(column, False)
    lowered = pc.utf8_lower(column.cast(pa.string()))
    return pc.fill_null(pc.is_in(lowered, pa.array(["true", "1", "t", "yes"])), False)


def read_contacts(folder: Path, window: Window) -> pa.Table:
    """Contacts made inside ``window`` from every contact file in ``folder``, file by file in
    name order (hidden and temporary files skipped)."""
    paths = sorted(
        path
        for path in folder.glob("*")
        if path.is_file() and not path.name.startswith(".") and path.name.endswith(CONTACT_SUFFIXES)
    )
    tables = [_read_contact_file(path, window) for path in paths]
    if not tables:
        empty = {name: pa.array([], pa.string()) for name in CONTACT_COLUMNS}
        empty["contacted_at"] = pa.array([], pa.int64())
        empty["is_control"] = pa.array([], pa.bool_())
        return pa.table(empty)
    return pa.concat_tables(tables)


def _index(values: pa.Array, universe: pa.Array | list[str]) -> np.ndarray:
    found = pc.index_in(values, value_set=pa.array(universe, pa.string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False)


def _load_truth(truth_dir: Path) -> tuple[Planted, pa.Table, pa.Table]:
    world_file = truth_dir / "world.json"
    if not world_file.is_file():
        raise FileNotFoundError(
            f"{world_file} not found: run `cmart generate` (the whole world) before "
            "`cmart generate --responses-only`"
        )
    document = json.loads(world_file.read_text())
    rates = pa_csv.read_csv(truth_dir / "acceptance_rates.csv")
    plant = planted_from_truth(rates, document["planted"], document["planted"]["organic_ratio"])
    customers = pq.read_table(
        truth_dir / "customer_truth.parquet", columns=["customer_id", "segment_code"]
    )
    offers = pa_csv.read_csv(
        truth_dir / "offer_truth.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={"offer_id": pa.string(), "product_id": pa.string()}
        ),
    )
    if "hard_rate_multiplier" not in offers.column_names:  # truth written before it existed
        offers = offers.append_column(
            "hard_rate_multiplier", pa.array(np.ones(offers.num_rows), pa.float64())
        )
    offers = offers.select(["offer_id", "product_id", "cell_b_multiplier", "hard_rate_multiplier"])
    return plant, customers, offers


def _acceptance_factors(truth_dir: Path, customers: pa.Table, plant: Planted) -> np.ndarray:
    """(customers, products) planted acceptance factors as of the end of the world's history;
    1 where the truth has none (off-path pairs, or a world written before the factors)."""
    factors = np.ones((customers.num_rows, len(plant.products)), dtype=np.float32)
    path = truth_dir / TRUTH_FILE
    if path.is_file():
        table = pq.read_table(path)
        customer = _index(table.column("customer_id"), customers.column("customer_id"))
        product = _index(table.column("product_id"), list(plant.products))
        known = (customer >= 0) & (product >= 0)
        factors[customer[known], product[known]] = table.column("acceptance_factor").to_numpy()[
            known
        ]
    return factors


def _batch_id_template(since: dt.date, seed: int, count: int) -> str:
    return f"RI{since:%Y%m%d}S{seed}-" + "#" * max(9, len(str(count)))


def generate_responses(
    settings: Settings,
    *,
    since: dt.date,
    seed: int = 43,
    end_date: dt.date | None = None,
    progress: Callable[[str], None] = print,
) -> GenerateReport:
    """Write ``responses/responses_inc_<since>_<seed>.csv``: responses to contacts made on or after
    ``since``, answered before ``end_date`` 00:00 (default: the run date)."""
    started = time.perf_counter()
    end = end_date or settings.run_date
    plant, customers, offers = _load_truth(settings.truth_dir)
    cutoff_s = day_number(end) * SECONDS_PER_DAY
    window = (day_number(since) * SECONDS_PER_DAY, cutoff_s)
    contacts = read_contacts(settings.landing_dir / "contacts", window)
    customer = _index(contacts.column("customer_id"), customers.column("customer_id"))
    offer = _index(contacts.column("offer_id"), offers.column("offer_id"))
    channel = _index(contacts.column("channel"), list(plant.channels))
    segment_of_customer = _index(customers.column("segment_code"), list(plant.segments))
    product_of_offer = _index(offers.column("product_id"), list(plant.products))
    usable = (customer >= 0) & (offer >= 0) & (channel >= 0)
    usable[usable] &= (segment_of_customer[customer[usable]] >= 0) & (
        product_of_offer[offer[usable]] >= 0
    )
    contacted = contacts.column("contacted_at").to_numpy()
    rows = np.flatnonzero(usable)
    # Time order, ties in file-name and row order: the same files give the same responses.
    rows = rows[stable_time_order(contacted[rows])]
    chosen = contacts.take(pa.array(rows))
    is_b = pc.fill_null(pc.equal(chosen.column("cell"), "B"), False).to_numpy(zero_copy_only=False)
    multiplier = offers.column("cell_b_multiplier").to_numpy()[offer[rows]]
    into = ContactsIn(
        segment=segment_of_customer[customer[rows]],
        product=product_of_offer[offer[rows]],
        channel=channel[rows],
        cell_multiplier=np.where(is_b, multiplier, 1.0)
        * offers.column("hard_rate_multiplier").to_numpy()[offer[rows]],
        is_control=chosen.column("is_control").to_numpy(zero_copy_only=False).astype(bool),
        contacted_s=contacted[rows],
    )
    factors = _acceptance_factors(settings.truth_dir, customers, plant)
    into.factor = factors[customer[rows], into.product].astype(np.float64)
    drawn = draw_responses(seed, f"responses_inc/{since.isoformat()}", plant, into, cutoff_s)
    picked = pa.array(drawn.contact)
    table = responses_table(
        drawn,
        response_ids=fixed_to_arrow(
            digits(_batch_id_template(since, seed, drawn.count), np.arange(1, drawn.count + 1))
        ),
        customer_id=chosen.column("customer_id").take(picked).combine_chunks(),
        offer_id=chosen.column("offer_id").take(picked).combine_chunks(),
        contact_id=chosen.column("contact_id").take(picked).combine_chunks(),
        rep_id=chosen.column("rep_id").take(picked).combine_chunks(),
        branch_id=chosen.column("branch_id").take(picked).combine_chunks(),
        plant=plant,
    )
    path = settings.landing_dir / "responses" / f"responses_inc_{since.isoformat()}_{seed}.csv"
    write_table(table, path, "csv")
    unknown = contacts.num_rows - len(rows)
    progress(
        f"generated responses: {table.num_rows:,} rows in 1 file (to {len(rows):,} contacts "
        f"from {since.isoformat()} to {end.isoformat()}; {unknown:,} with unknown codes skipped)"
    )
    return GenerateReport([path], {"responses": table.num_rows}, time.perf_counter() - started)
