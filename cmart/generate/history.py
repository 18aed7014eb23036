"""Contact history files, the responses to them and the planted campaign lift, block by block."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmart.generate import contacts, planted
from cmart.generate.model import World
from cmart.generate.textfmt import digits, fixed_to_arrow, id_template, timestamps, vocab_array


def responses_table(
    drawn: planted.Drawn,
    response_ids: pa.Array,
    customer_id: pa.Array,
    offer_id: pa.Array,
    contact_id: pa.Array,
    rep_id: pa.Array,
    branch_id: pa.Array,
    plant: planted.Planted,
) -> pa.Table:
    """The responses file; the contact columns are already gathered, one value per response."""
    keep_contact = pa.array(drawn.has_contact_id)
    keep_rep = pa.array(drawn.same_channel)
    return pa.table(
        {
            "response_id": response_ids,
            "customer_id": customer_id,
            "offer_id": offer_id,
            "channel": vocab_array(plant.channels, drawn.channel),
            "response_type": vocab_array(plant.response_types, drawn.response_type),
            "responded_at": timestamps(drawn.responded_s),
            "contact_id": pc.if_else(keep_contact, contact_id, pa.scalar(None, contact_id.type)),
            "rep_id": pc.if_else(keep_rep, rep_id, pa.scalar(None, rep_id.type)),
            "branch_id": pc.if_else(keep_rep, branch_id, pa.scalar(None, branch_id.type)),
        }
    )


_RESPONSE_FIELDS = (
    "contact",
    "response_type",
    "channel",
    "responded_s",
    "has_contact_id",
    "same_channel",
)
_CONTACT_FIELDS = ("customer", "offer", "rep", "branch")


@dataclass(eq=False)
class History:
    """Consumes contact blocks: yields the contact files, keeps the responses drawn for every
    block and the planted hard-response sums per (offer, channel) for the lift truth."""

    world: World
    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    sums: np.ndarray | None = None  # (4, offers * channels): n and sum, treated and control

    def contact_files(self, blocks: Iterable[contacts.Contacts]) -> Iterator[tuple[str, pa.Table]]:
        """One table per file of ``DAYS_PER_FILE`` days, absorbing every block on the way."""
        world = self.world
        current, tables = None, []
        for block in blocks:
            self._absorb(block)
            if current is not None and block.file_index != current and tables:
                yield contacts.file_stem(world.frame, current), pa.concat_tables(tables)
                tables = []
            current = block.file_index
            tables.append(
                contacts.contacts_table(
                    world.cfg, block, world.customers, world.offers, world.branches
                )
            )
        if tables and current is not None:
            yield contacts.file_stem(world.frame, current), pa.concat_tables(tables)

    def _absorb(self, block: contacts.Contacts) -> None:
        world = self.world
        into = contacts.contacts_in(block, world.customers, world.offers, world.effects)
        stream = f"responses/{block.first_row}"
        drawn = planted.draw_responses(world.seed, stream, world.planted, into, world.frame.end_s)
        for name in _RESPONSE_FIELDS:
            values = getattr(drawn, name)
            if name == "contact":
                values = values + block.first_row
            self.parts.setdefault(name, []).append(values)
        for name in _CONTACT_FIELDS:
            self.parts.setdefault(name, []).append(getattr(block, name)[drawn.contact])
        self._add_lift(block, into.expected_hard(world.planted))

    def _add_lift(self, block: contacts.Contacts, expected: np.ndarray) -> None:
        n_channels = len(self.world.cfg.channels)
        size = self.world.offers.count * n_channels
        if self.sums is None:
            self.sums = np.zeros((4, size))
        group = block.offer.astype(np.int64) * n_channels + block.channel
        for offset, mask in ((0, ~block.is_control), (2, block.is_control)):
            self.sums[offset] += np.bincount(group[mask], minlength=size)
            self.sums[offset + 1] += np.bincount(group[mask], expected[mask], minlength=size)

    def responses_table(self) -> pa.Table:
        world = self.world
        joined = {name: np.concatenate(values) for name, values in self.parts.items()}
        order = planted.stable_time_order(joined["responded_s"])
        joined = {name: values[order] for name, values in joined.items()}
        drawn = planted.Drawn(**{name: joined[name] for name in _RESPONSE_FIELDS})
        count = drawn.count
        branches = world.branches
        rep, branch = joined["rep"], joined["branch"]
        return responses_table(
            drawn,
            response_ids=fixed_to_arrow(
                digits(id_template("RS", count, 9), np.arange(1, count + 1))
            ),
            customer_id=fixed_to_arrow(world.customers.ids[joined["customer"]]),
            offer_id=vocab_array([v.decode() for v in world.offers.ids], joined["offer"]),
            contact_id=contacts.contact_ids(world.customers.count, drawn.contact),
            rep_id=fixed_to_arrow(branches.rep_ids[np.maximum(rep, 0)], rep >= 0),
            branch_id=fixed_to_arrow(branches.ids[np.maximum(branch, 0)], branch >= 0),
            plant=world.planted,
        )

    def lift_table(self) -> pa.Table:
        """Planted hard-response rates of treated and control contacts per offer and channel."""
        world = self.world
        n_channels = len(world.cfg.channels)
        sums = self.sums if self.sums is not None else np.zeros((4, 0))
        n_treated, treated_sum, n_control, control_sum = sums
        treated_rate = treated_sum / np.maximum(n_treated, 1)
        control_rate = control_sum / np.maximum(n_control, 1)
        present = np.flatnonzero((n_treated + n_control) > 0)
        offer, channel = np.divmod(present, n_channels)
        offers = world.offers
        return pa.table(
            {
                "campaign_id": pa.array(
                    [world.campaigns.ids[c] for c in offers.campaign[offer]], pa.string()
                ),
                "offer_id": fixed_to_arrow(offers.ids[offer]),
                "channel": vocab_array(world.cfg.channels, channel, dictionary=False),
                "n_treated": pa.array(n_treated[present].astype(np.int64)),
                "n_control": pa.array(n_control[present].astype(np.int64)),
                "treated_hard_rate": pa.array(treated_rate[present].round(6)),
                "control_hard_rate": pa.array(control_rate[present].round(6)),
                "true_lift": pa.array((treated_rate - control_rate)[present].round(6)),
            }
        )
