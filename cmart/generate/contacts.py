"""The legacy contact history: offers presented to customers on channels over the history.

The legacy system mostly behaved: it offered products on the customer's path that the customer
does not hold, on a channel of the offer for which the customer had consent at the time. A few
contacts (off-path customers, ignored consent) show that it was not perfect. Control group and
A/B cell are fixed per (customer, offer): every contact of a pair shares them.

Contacts are generated in blocks of ``BLOCK_DAYS`` days (about a million rows each at the largest
scale) so that working arrays stay small and are reused; blocks come out in time order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate.acceptance import Effects
from cmart.generate.accounts import ConsentState, Holdings
from cmart.generate.branches import Branches
from cmart.generate.catalogue import Offers, Products
from cmart.generate.frame import Frame, PairHash, date_of, rng_for
from cmart.generate.people import Customers
from cmart.generate.planted import ContactsIn, stable_time_order
from cmart.generate.textfmt import (
    SECONDS_PER_DAY,
    digits,
    fixed_to_arrow,
    id_template,
    timestamps,
    vocab_array,
)
from cmart.generate.worldconfig import WorldConfig

CONTACTS_PER_CUSTOMER = 20
OFF_PATH_SHARE = 0.02
LEGACY_VIOLATION_SHARE = 0.02
CHANNEL_REDRAWS = 3
DAYS_PER_FILE = 30
BLOCK_DAYS = 5  # divides DAYS_PER_FILE: a block never spans two files
CONTACT_HOURS = (8, 20)


@dataclass(eq=False)
class Contacts:
    """A block of contacts, in time order; ``first_row`` is the global row of its first one."""

    customer: np.ndarray
    offer: np.ndarray
    channel: np.ndarray
    contacted_s: np.ndarray
    cell_b: np.ndarray
    is_control: np.ndarray
    rep: np.ndarray  # -1 = none
    branch: np.ndarray  # -1 = none
    first_row: int = 0
    file_index: int = 0

    @property
    def count(self) -> int:
        return len(self.customer)


def contact_id_template(n_customers: int) -> str:
    """Contact ids are fixed width; wide enough for any history of ``n_customers``."""
    return id_template("CT", 4 * CONTACTS_PER_CUSTOMER * n_customers, 9)


def contact_ids(n_customers: int, rows: np.ndarray) -> pa.Array:
    return fixed_to_arrow(digits(contact_id_template(n_customers), rows + 1))


@dataclass(frozen=True, eq=False)
class _Plan:
    pools: list[np.ndarray]  # eligible customers per offer
    first_day: np.ndarray  # per offer, inside the history
    last_day: np.ndarray  # per offer, exclusive
    block_start: np.ndarray  # first day of each block
    wanted: np.ndarray  # (offers, blocks) contacts to keep


def _plan(
    cfg: WorldConfig, frame: Frame, customers: Customers, offers: Offers, holdings: Holdings
) -> _Plan:
    first_day = np.maximum(offers.valid_from_day, frame.start_day)
    last_day = np.minimum(offers.valid_to_day + 1, frame.end_day)
    pools = [
        np.flatnonzero(cfg.on_path[customers.segment, p] & ~holdings.active[:, p]).astype(np.int32)
        for p in offers.product
    ]
    block_start = np.arange(frame.start_day, frame.end_day, BLOCK_DAYS)
    block_end = np.minimum(block_start + BLOCK_DAYS, frame.end_day)
    overlap = np.maximum(
        np.minimum(last_day[:, None], block_end[None, :])
        - np.maximum(first_day[:, None], block_start[None, :]),
        0,
    )
    weight = overlap * np.array([len(pool) for pool in pools], dtype=np.float64)[:, None]
    total = CONTACTS_PER_CUSTOMER * customers.count
    wanted = total * weight / weight.sum() if weight.sum() > 0 else weight
    return _Plan(pools, first_day, last_day, block_start, wanted)


def _pick_channels(
    rng: np.random.Generator, offer: np.ndarray, lists: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    slot = (rng.random(len(offer)) * counts[offer]).astype(np.int64)
    return lists[offer, slot]


def _offer_channel_lists(offers: Offers) -> tuple[np.ndarray, np.ndarray]:
    counts = offers.channels.sum(axis=1)
    lists = np.zeros((offers.count, max(int(counts.max()), 1)), dtype=np.int16)
    for offer in range(offers.count):
        codes = np.flatnonzero(offers.channels[offer])
        lists[offer, : len(codes)] = codes
    return lists, counts


def _draw_block(
    rng: np.random.Generator,
    plan: _Plan,
    block: int,
    n_customers: int,
    inflate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, offer, contacted_s) of one block before channel choice and consent."""
    start = plan.block_start[block]
    end = start + BLOCK_DAYS
    seconds_per_day = (CONTACT_HOURS[1] - CONTACT_HOURS[0]) * 3_600
    customer_parts, offer_parts, time_parts = [], [], []
    for offer in np.flatnonzero(plan.wanted[:, block] > 0):
        size = round(float(plan.wanted[offer, block]) * inflate)
        pool = plan.pools[offer]
        if size == 0 or len(pool) == 0:
            continue
        chosen = pool[rng.integers(0, len(pool), size)]
        anyone = np.flatnonzero(rng.random(size) < OFF_PATH_SHARE)
        chosen[anyone] = rng.integers(0, n_customers, len(anyone))
        low = max(int(plan.first_day[offer]), int(start))
        span = min(int(plan.last_day[offer]), int(end)) - low
        moment = (rng.random(size) * (span * seconds_per_day)).astype(np.int64)
        day, in_day = np.divmod(moment, seconds_per_day)
        customer_parts.append(chosen)
        offer_parts.append(np.full(size, offer, dtype=np.int16))
        time_parts.append((low + day) * SECONDS_PER_DAY + CONTACT_HOURS[0] * 3_600 + in_day)
    if not customer_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty.astype(np.int32), empty.astype(np.int16), empty
    return np.concatenate(customer_parts), np.concatenate(offer_parts), np.concatenate(time_parts)


def contact_blocks(
    cfg: WorldConfig,
    seed: int,
    frame: Frame,
    customers: Customers,
    offers: Offers,
    products: Products,
    holdings: Holdings,
    consent: ConsentState,
    branches: Branches,
) -> Iterator[Contacts]:
    """The contact history, block by block in time order (about 20 contacts per customer)."""
    plan = _plan(cfg, frame, customers, offers, holdings)
    lists, counts = _offer_channel_lists(offers)
    pairs = PairHash.create(seed, "contact_pairs", (customers.count, offers.count))
    drawn_so_far, kept_so_far, first_row = 0, 0, 0
    for block in range(len(plan.block_start)):
        rng = rng_for(seed, f"contacts/{block}")
        # Inflate by the share dropped for consent so far, so that about `wanted` remain.
        inflate = drawn_so_far / kept_so_far if kept_so_far else 1.1
        customer, offer, contacted_s = _draw_block(rng, plan, block, customers.count, inflate)
        channel = _pick_channels(rng, offer, lists, counts)
        category = products.category[offers.product[offer]]
        # The legacy system ignored consent for a few contacts; the others are redrawn on another
        # channel of the offer until allowed, or dropped.
        allowed = rng.random(len(offer)) < LEGACY_VIOLATION_SHARE
        allowed |= consent.allows(channel, customer, contacted_s, category)
        for _ in range(CHANNEL_REDRAWS):
            retry = np.flatnonzero(~allowed)
            channel[retry] = _pick_channels(rng, offer[retry], lists, counts)
            allowed[retry] = consent.allows(
                channel[retry], customer[retry], contacted_s[retry], category[retry]
            )
        rows = np.flatnonzero(allowed)
        drawn_so_far += len(allowed)
        kept_so_far += len(rows)
        rows = rows[stable_time_order(contacted_s[rows])]
        customer, offer, channel = customer[rows], offer[rows], channel[rows]
        control_draw, cell_draw = pairs.uniforms(customer, offer)
        assisted = cfg.assisted[channel]
        home = customers.home_branch[customer]
        yield Contacts(
            customer=customer,
            offer=offer,
            channel=channel,
            contacted_s=contacted_s[rows],
            cell_b=offers.has_b[offer] & (cell_draw < 0.5),
            is_control=control_draw < offers.control_rate[offer],
            rep=np.where(assisted, branches.pick_rep(rng, home), -1),
            branch=np.where(assisted, home, -1),
            first_row=first_row,
            file_index=int((plan.block_start[block] - frame.start_day) // DAYS_PER_FILE),
        )
        first_row += len(rows)


def file_stem(frame: Frame, file_index: int) -> str:
    return f"contacts_{date_of(frame.start_day + DAYS_PER_FILE * file_index).isoformat()}"


def contacts_in(
    contacts: Contacts, customers: Customers, offers: Offers, effects: Effects
) -> ContactsIn:
    product = offers.product[contacts.offer]
    return ContactsIn(
        segment=customers.segment[contacts.customer],
        product=product,
        channel=contacts.channel,
        cell_multiplier=np.where(contacts.cell_b, offers.b_multiplier[contacts.offer], 1.0)
        * offers.hard_multiplier[contacts.offer],
        is_control=contacts.is_control,
        contacted_s=contacts.contacted_s,
        factor=effects.factor(contacts.customer, product, contacts.contacted_s),
    )


def contacts_table(
    cfg: WorldConfig,
    contacts: Contacts,
    customers: Customers,
    offers: Offers,
    branches: Branches,
) -> pa.Table:
    rows = contacts.first_row + np.arange(contacts.count)
    offer_ids = [value.decode() for value in offers.ids]
    return pa.table(
        {
            "contact_id": contact_ids(customers.count, rows),
            "customer_id": fixed_to_arrow(customers.ids[contacts.customer]),
            "offer_id": vocab_array(offer_ids, contacts.offer),
            "channel": vocab_array(cfg.channels, contacts.channel),
            "contacted_at": timestamps(contacts.contacted_s),
            "cell": vocab_array(("A", "B"), contacts.cell_b.astype(np.int8)),
            "is_control": pa.array(contacts.is_control),
            "rep_id": fixed_to_arrow(
                branches.rep_ids[np.maximum(contacts.rep, 0)], contacts.rep >= 0
            ),
            "branch_id": fixed_to_arrow(
                branches.ids[np.maximum(contacts.branch, 0)], contacts.branch >= 0
            ),
        }
    )
