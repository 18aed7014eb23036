"""The parts of the CRM configuration the generator needs, as arrays.

Segments, product paths, channels and response types come from :func:`cmart.config.load_config`
so the generated world always matches the configuration the pipeline runs with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cmart.config import CampaignConfig, load_config
from cmart.generate.vocab import INCOME_BANDS, OCCUPATIONS

ASSISTED_FIELDS = ("rep_id", "home_branch_id")


@dataclass(frozen=True)
class SegmentRule:
    code: str
    age_min: int
    age_max: int
    income_bands: tuple[str, ...]
    occupations: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class WorldConfig:
    segments: tuple[SegmentRule, ...]  # in priority order
    products: tuple[str, ...]  # every product id on some path, sorted
    path_position: np.ndarray  # (segments, products) int: 1-based position, 0 = not on the path
    channels: tuple[str, ...]
    requires_opt_in: np.ndarray  # (channels,) bool
    assisted: np.ndarray  # (channels,) bool: contacts carry rep_id and branch_id
    soft_types: tuple[str, ...]  # by funnel step
    soft_steps: np.ndarray
    hard_types: tuple[str, ...]
    negative_types: tuple[str, ...]
    occupations: tuple[str, ...]  # generator's list plus any a segment rule names
    income_bands: tuple[str, ...]
    version: str

    @property
    def on_path(self) -> np.ndarray:
        return self.path_position > 0

    def channel_index(self, code: str) -> int | None:
        return self.channels.index(code) if code in self.channels else None


def _extend(base: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    return tuple(base) + tuple(sorted(set(extra) - set(base)))


def world_config(config: CampaignConfig) -> WorldConfig:
    """Reduce the validated configuration to what the generator uses."""
    ordered = sorted(config.segments, key=lambda segment: segment.priority)
    segments = tuple(
        SegmentRule(
            code=segment.segment_code,
            age_min=segment.age_min,
            age_max=segment.age_max,
            income_bands=tuple(segment.income_bands),
            occupations=tuple(segment.occupations),
        )
        for segment in ordered
    )
    products = tuple(sorted({row.product_id for row in config.product_paths}))
    segment_index = {segment.code: i for i, segment in enumerate(segments)}
    positions = np.zeros((len(segments), len(products)), dtype=np.int16)
    for row in config.product_paths:
        positions[segment_index[row.segment_code], products.index(row.product_id)] = (
            row.path_position
        )
    # Positions may have gaps; rank them 1..n per segment.
    for s in range(len(segments)):
        on = np.flatnonzero(positions[s])
        positions[s, on[np.argsort(positions[s, on], kind="stable")]] = np.arange(1, len(on) + 1)
    by_class: dict[str, list[tuple[int, str]]] = {"soft": [], "hard": [], "negative": []}
    for response in config.response_types:
        by_class[response.response_class].append((response.funnel_step, response.response_type))
    for members in by_class.values():
        members.sort()
    if not by_class["soft"] or not by_class["hard"]:
        raise ValueError("response_types.csv needs at least one soft and one hard response type")
    return WorldConfig(
        segments=segments,
        products=products,
        path_position=positions,
        channels=tuple(channel.channel_code for channel in config.channels),
        requires_opt_in=np.array([c.requires_opt_in for c in config.channels], dtype=bool),
        assisted=np.array(
            [
                bool(set(c.contact_fields) & set(ASSISTED_FIELDS))
                or c.channel_code == "call_center"
                for c in config.channels
            ],
            dtype=bool,
        ),
        soft_types=tuple(name for _, name in by_class["soft"]),
        soft_steps=np.array([step for step, _ in by_class["soft"]], dtype=np.int16),
        hard_types=tuple(name for _, name in by_class["hard"]),
        negative_types=tuple(name for _, name in by_class["negative"]),
        occupations=_extend(OCCUPATIONS, [o for s in segments for o in s.occupations]),
        income_bands=_extend(INCOME_BANDS, [b for s in segments for b in s.income_bands]),
        version=config.version,
    )


def load_world_config(config_dirs: Sequence[Path]) -> WorldConfig:
    return world_config(load_config(list(config_dirs)))
