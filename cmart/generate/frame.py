"""Time frame and random streams shared by the generator modules.

All generated event times are ``int64`` seconds since 1970-01-01 (naive UTC) and lie strictly
before ``end_date`` 00:00: the history ends the day before the run date, so a pipeline run on
``end_date`` sees it complete and no event is "in the future" for it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass

import numpy as np

from cmart.generate.textfmt import SECONDS_PER_DAY, civil_from_days

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.2425


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


def date_of(day: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


@dataclass(frozen=True)
class Frame:
    """The generated history: ``days`` days ending (exclusive) at ``end_date`` 00:00."""

    end_date: dt.date
    days: int

    @property
    def end_day(self) -> int:
        return day_number(self.end_date)

    @property
    def start_day(self) -> int:
        return self.end_day - self.days

    @property
    def end_s(self) -> int:
        return self.end_day * SECONDS_PER_DAY

    @property
    def start_s(self) -> int:
        return self.start_day * SECONDS_PER_DAY


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent, reproducible random stream per (seed, purpose)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stream.encode())]))


def categorical(
    rng: np.random.Generator, probabilities: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """One draw per element: ``probabilities[rows[i]]`` is the distribution of element ``i``."""
    table = np.asarray(probabilities, dtype=np.float64)
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    draws = rng.random(len(rows))
    picked = np.zeros(len(rows), dtype=np.int16)
    for column in range(table.shape[1] - 1):
        picked += draws >= cumulative[rows, column]
    return picked


def weighted(
    rng: np.random.Generator, weights: np.ndarray | tuple[float, ...], size: int
) -> np.ndarray:
    """``size`` draws of indexes with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int32)


def ages_at(birth_day: np.ndarray, on: dt.date) -> np.ndarray:
    """Completed years of age on date ``on`` for birth days (days since epoch)."""
    year, month, day = civil_from_days(birth_day)
    before_birthday = (month.astype(np.int64) > on.month) | (
        (month.astype(np.int64) == on.month) & (day.astype(np.int64) > on.day)
    )
    return (on.year - year.astype(np.int64) - before_birthday).astype(np.int16)


def uniform_times(
    rng: np.random.Generator, low_s: np.ndarray | int, high_s: np.ndarray | int, size: int
) -> np.ndarray:
    """Uniform integer seconds in ``[low, high)`` (element-wise bounds allowed; high > low)."""
    low = np.asarray(low_s, dtype=np.int64)
    span = np.maximum(np.asarray(high_s, dtype=np.int64) - low, 1)
    return low + (rng.random(size) * span).astype(np.int64)


_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True, eq=False)
class PairHash:
    """Reproducible uniforms per (first, second) pair: the same pair, the same numbers.

    Used for assignments that must hold for every contact of a customer with an offer (control
    group, A/B cell), whenever and however often the customer is contacted."""

    first_keys: np.ndarray
    second_keys: np.ndarray

    @classmethod
    def create(cls, seed: int, stream: str, sizes: tuple[int, int]) -> PairHash:
        rng = rng_for(seed, stream)
        return cls(
            rng.integers(0, 2**63, sizes[0], dtype=np.uint64),
            rng.integers(0, 2**63, sizes[1], dtype=np.uint64),
        )

    def uniforms(self, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two independent uniforms in [0, 1) per pair (from the two halves of one hash)."""
        mixed = self.first_keys[first] ^ (self.second_keys[second] * _MIX_1)
        mixed ^= mixed >> np.uint64(31)
        mixed *= _MIX_2
        mixed ^= mixed >> np.uint64(29)
        high = (mixed >> np.uint64(32)).astype(np.float64) * 2.0**-32
        low = (mixed & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
        return high, low
