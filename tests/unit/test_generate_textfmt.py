"""The vectorised text builders write exactly what Python's own formatting would."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa

from cmart.generate.textfmt import (
    digits,
    fixed_to_arrow,
    iso_dates,
    iso_timestamps,
    json_lines,
    timestamps,
)

EPOCH = dt.datetime(1970, 1, 1)


def test_iso_timestamps_match_python_from_1850_to_2199() -> None:
    seconds = np.random.default_rng(0).integers(-3_786_825_600, 7_289_654_400, 20_000)
    expected = [(EPOCH + dt.timedelta(seconds=int(s))).isoformat().encode() for s in seconds]
    assert iso_timestamps(seconds).tolist() == expected


def test_iso_dates_match_python() -> None:
    days = np.random.default_rng(1).integers(-60_000, 80_000, 20_000)
    expected = [(EPOCH.date() + dt.timedelta(days=int(d))).isoformat().encode() for d in days]
    assert iso_dates(days).tolist() == expected


def test_digits_fill_every_slot_with_zero_padding() -> None:
    assert digits("+32 4## ## ## ##", np.array([1_234_567, 99_999_999])).tolist() == [
        b"+32 401 23 45 67",
        b"+32 499 99 99 99",
    ]
    assert digits("CT#########", np.array([0, 123_456_789])).tolist() == [
        b"CT000000000",
        b"CT123456789",
    ]


def test_fixed_width_strings_become_arrow_strings_with_nulls() -> None:
    array = fixed_to_arrow(digits("X##", np.arange(3)), np.array([True, False, True]))
    array.validate(full=True)
    assert array.to_pylist() == ["X00", None, "X02"]


def test_json_lines_escape_text_and_write_null_true_and_numbers() -> None:
    table = pa.table(
        {
            "name": ['Jean "Jo" D\\Or', None],
            "flag": [True, None],
            "amount": [1.5, None],
            "at": timestamps(np.array([0, 86_399])),
        }
    )
    lines = json_lines(table).decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"name": 'Jean "Jo" D\\Or', "flag": True, "amount": 1.5, "at": "1970-01-01T00:00:00"},
        {"name": None, "flag": None, "amount": None, "at": "1970-01-01T23:59:59"},
    ]
