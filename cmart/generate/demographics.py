"""Demographics and segments.

People are drawn from natural distributions (age, occupation | age, income | occupation) and then
topped up so that every configured segment holds at least 1% of them. A person's segment is the
first rule (by priority) matching age on ``end_date``, income band and occupation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cmart.generate import vocab
from cmart.generate.frame import DAYS_PER_YEAR, Frame, ages_at, categorical, weighted
from cmart.generate.worldconfig import SegmentRule, WorldConfig

MIN_SEGMENT_SHARE = 0.01


def assign_segments(
    cfg: WorldConfig, age: np.ndarray, income: np.ndarray, occupation: np.ndarray
) -> np.ndarray:
    """Index of the first matching segment rule (by priority) per person; -1 when none match."""
    segment = np.full(len(age), -1, dtype=np.int16)
    for index, rule in enumerate(cfg.segments):
        match = (segment < 0) & (age >= rule.age_min) & (age <= rule.age_max)
        if rule.income_bands:
            match &= np.isin(income, [cfg.income_bands.index(b) for b in rule.income_bands])
        if rule.occupations:
            match &= np.isin(occupation, [cfg.occupations.index(o) for o in rule.occupations])
        segment[match] = index
    return segment


def age_band(age: np.ndarray) -> np.ndarray:
    lows = np.array([low for low, _ in vocab.AGE_BANDS[1:]])
    return np.searchsorted(lows, age, side="right").astype(np.int16)


def _pad_columns(table: tuple[tuple[float, ...], ...], width: int) -> np.ndarray:
    matrix = np.zeros((len(table), width))
    matrix[:, : len(table[0])] = table
    return matrix


def natural_occupation(cfg: WorldConfig, rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    matrix = _pad_columns(vocab.OCCUPATION_BY_AGE, len(cfg.occupations))
    return categorical(rng, matrix, age_band(age))


def natural_income(
    cfg: WorldConfig, rng: np.random.Generator, occupation: np.ndarray
) -> np.ndarray:
    known = _pad_columns(vocab.INCOME_BY_OCCUPATION, len(cfg.income_bands))
    extra = np.full((len(cfg.occupations) - len(known), len(cfg.income_bands)), 1.0)
    return categorical(rng, np.vstack([known, extra]), occupation)


def birth_days_for_ages(
    rng: np.random.Generator, frame: Frame, low: np.ndarray | int, high: np.ndarray | int, size: int
) -> np.ndarray:
    """Birth days for ages uniform in ``[low, high]`` years on ``end_date``."""
    years = rng.uniform(np.asarray(low, dtype=float), np.asarray(high, dtype=float) + 1.0, size)
    return (frame.end_day - years * DAYS_PER_YEAR).astype(np.int64)


@dataclass(eq=False)
class Demographics:
    birth_day: np.ndarray
    age: np.ndarray
    occupation: np.ndarray
    income: np.ndarray
    segment: np.ndarray


_DEMOGRAPHIC_FIELDS = ("birth_day", "age", "occupation", "income", "segment")


def natural_demographics(
    cfg: WorldConfig, rng: np.random.Generator, frame: Frame, size: int
) -> Demographics:
    band = weighted(rng, vocab.AGE_BAND_P, size)
    lows = np.array([low for low, _ in vocab.AGE_BANDS])[band]
    highs = np.array([high for _, high in vocab.AGE_BANDS])[band] - 1
    birth = birth_days_for_ages(rng, frame, lows, highs, size)
    age = ages_at(birth, frame.end_date)
    occupation = natural_occupation(cfg, rng, age)
    income = natural_income(cfg, rng, occupation)
    return Demographics(
        birth, age, occupation, income, assign_segments(cfg, age, income, occupation)
    )


def _draw_for_rule(
    cfg: WorldConfig,
    rng: np.random.Generator,
    frame: Frame,
    rule: SegmentRule,
    ages: tuple[int, int],
    size: int,
) -> Demographics:
    """``size`` people with ages in ``ages`` and the rule's occupations and income bands."""
    birth = birth_days_for_ages(rng, frame, ages[0], ages[1], size)
    age = ages_at(birth, frame.end_date)
    if rule.occupations:
        allowed = np.array([cfg.occupations.index(o) for o in rule.occupations])
        occupation = allowed[rng.integers(0, len(allowed), size)]
    else:
        occupation = natural_occupation(cfg, rng, age)
    if rule.income_bands:
        allowed = np.array([cfg.income_bands.index(b) for b in rule.income_bands])
        income = allowed[rng.integers(0, len(allowed), size)]
    else:
        income = natural_income(cfg, rng, occupation)
    return Demographics(
        birth, age, occupation, income, assign_segments(cfg, age, income, occupation)
    )


def _candidates_for(
    cfg: WorldConfig, rng: np.random.Generator, frame: Frame, target: int, size: int
) -> Demographics:
    """``size`` people of segment ``target`` (rejection sampling within the rule's ranges)."""
    rule = cfg.segments[target]
    # Adult ages first; children only when the higher-priority rules leave nothing else.
    ranges = [
        (max(rule.age_min, 14), min(rule.age_max, 95)),
        (rule.age_min, min(rule.age_max, 110)),
    ]
    kept: list[Demographics] = []
    found = 0
    for ages in ranges:
        for _ in range(30 if ages[0] <= ages[1] else 0):
            drawn = _draw_for_rule(cfg, rng, frame, rule, ages, max(4 * (size - found), 256))
            ok = drawn.segment == target
            kept.append(Demographics(*(getattr(drawn, name)[ok] for name in _DEMOGRAPHIC_FIELDS)))
            found += int(ok.sum())
            if found >= size:
                return Demographics(
                    *(
                        np.concatenate([getattr(p, name) for p in kept])[:size]
                        for name in _DEMOGRAPHIC_FIELDS
                    )
                )
    raise ValueError(
        f"segment {rule.code!r} cannot be populated: higher-priority rules in segments.csv "
        "match every customer its own rule would match"
    )


def _replace(target: Demographics, rows: np.ndarray, source: Demographics) -> None:
    for name in _DEMOGRAPHIC_FIELDS:
        getattr(target, name)[rows] = getattr(source, name)


def populate_every_segment(
    cfg: WorldConfig, rng: np.random.Generator, frame: Frame, people: Demographics
) -> None:
    """Redraw some people so that nobody is unsegmented and each segment has >= 1% of people."""
    size = len(people.age)
    n_segments = len(cfg.segments)
    unmatched = np.flatnonzero(people.segment < 0)
    if len(unmatched):
        targets = rng.integers(0, n_segments, len(unmatched))
        for target in range(n_segments):
            rows = unmatched[targets == target]
            if len(rows):
                _replace(people, rows, _candidates_for(cfg, rng, frame, target, len(rows)))
    minimum = min(max(1, math.ceil(MIN_SEGMENT_SHARE * size)), size // n_segments)
    for target in range(n_segments):
        counts = np.bincount(people.segment, minlength=n_segments)
        deficit = minimum - counts[target]
        if deficit <= 0:
            continue
        donor_segment = int(np.argmax(counts))
        donors = rng.choice(np.flatnonzero(people.segment == donor_segment), deficit, replace=False)
        _replace(people, np.sort(donors), _candidates_for(cfg, rng, frame, target, deficit))
