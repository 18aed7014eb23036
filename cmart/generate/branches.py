"""Branches (and dealers) with their sales reps; each customer's home branch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from cmart.generate import vocab
from cmart.generate.frame import rng_for, weighted
from cmart.generate.textfmt import digits, fixed_to_arrow, id_template, join, vocab_array

FIRST_NAMES = vocab.FIRST_NAMES_F + vocab.FIRST_NAMES_M
CITY_NAMES = tuple(city for city, _, _, _ in vocab.CITIES)
CITY_REGION = np.array([region for _, region, _, _ in vocab.CITIES], dtype=np.int16)
CITY_WEIGHT = np.array([weight for _, _, _, weight in vocab.CITIES])
CITY_POSTCODES = tuple(f"{postcode} {city}" for city, _, postcode, _ in vocab.CITIES)


@dataclass(frozen=True, eq=False)
class Branches:
    ids: np.ndarray  # S
    city: np.ndarray
    is_dealer: np.ndarray
    names: list[str]
    rep_ids: np.ndarray  # S
    rep_branch: np.ndarray
    rep_names: pa.Array
    rep_start: np.ndarray  # first rep index per branch
    rep_count: np.ndarray

    @property
    def region(self) -> np.ndarray:
        return CITY_REGION[self.city]

    def pick_rep(self, rng: np.random.Generator, branch: np.ndarray) -> np.ndarray:
        offset = (rng.random(len(branch)) * self.rep_count[branch]).astype(np.int64)
        return self.rep_start[branch] + offset


def _largest_city(region: int) -> int:
    members = np.flatnonzero(np.equal(CITY_REGION, region))
    return int(members[np.argmax(CITY_WEIGHT[members])])


def make_branches(seed: int, n_customers: int) -> Branches:
    rng = rng_for(seed, "branches")
    count = max(10, n_customers // 5_000)
    largest = [_largest_city(region) for region in range(len(vocab.REGIONS))]
    city = np.concatenate([largest, weighted(rng, CITY_WEIGHT, count - len(largest))])
    is_dealer = rng.random(count) < 0.15
    is_dealer[: len(largest)] = False
    if not is_dealer.any():
        is_dealer[-1] = True  # every network has at least one dealer
    streets = rng.integers(0, len(vocab.STREETS), count)
    names = [
        f"{CITY_NAMES[c]} {'dealer' if dealer else 'branch'} {vocab.STREETS[s]}"
        for c, dealer, s in zip(city, is_dealer, streets, strict=True)
    ]
    rep_count = rng.integers(2, 5, count)
    rep_start = np.concatenate([[0], np.cumsum(rep_count)[:-1]])
    n_reps = int(rep_count.sum())
    rep_first = rng.integers(0, len(FIRST_NAMES), n_reps)
    rep_last = rng.integers(0, len(vocab.LAST_NAMES), n_reps)
    rep_names = join(
        vocab_array(FIRST_NAMES, rep_first, dictionary=False),
        vocab_array(vocab.LAST_NAMES, rep_last, dictionary=False),
        sep=" ",
    )
    return Branches(
        ids=digits(id_template("BR", count, 4), np.arange(1, count + 1)),
        city=city.astype(np.int16),
        is_dealer=is_dealer,
        names=names,
        rep_ids=digits(id_template("RP", n_reps, 5), np.arange(1, n_reps + 1)),
        rep_branch=np.repeat(np.arange(count), rep_count),
        rep_names=rep_names,
        rep_start=rep_start,
        rep_count=rep_count,
    )


def branches_table(branches: Branches) -> pa.Table:
    return pa.table(
        {
            "branch_id": fixed_to_arrow(branches.ids),
            "branch_name": pa.array(branches.names, pa.string()),
            "city": vocab_array(CITY_NAMES, branches.city),
            "region": vocab_array(vocab.REGIONS, branches.region),
            "branch_type": vocab_array(("branch", "dealer"), branches.is_dealer.astype(np.int8)),
        }
    )


def reps_table(branches: Branches) -> pa.Table:
    return pa.table(
        {
            "rep_id": fixed_to_arrow(branches.rep_ids),
            "rep_name": branches.rep_names,
            "branch_id": fixed_to_arrow(branches.ids[branches.rep_branch]),
        }
    )


def home_branches(rng: np.random.Generator, city: np.ndarray, branches: Branches) -> np.ndarray:
    """A branch in the customer's city, or else in the customer's region."""
    home = np.zeros(len(city), dtype=np.int32)
    for c in range(len(CITY_NAMES)):
        members = np.flatnonzero(city == c)
        candidates = np.flatnonzero(branches.city == c)
        if len(candidates) == 0:
            candidates = np.flatnonzero(branches.region == CITY_REGION[c])
        home[members] = candidates[rng.integers(0, len(candidates), len(members))]
    return home
