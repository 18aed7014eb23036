"""Fast, vectorised text building: ids, phone numbers, ISO dates and timestamps, JSON lines.

Fixed-width strings are built as numpy ``S<n>`` arrays (one byte matrix, no Python objects) and
handed to Arrow without copying. Times are ``int64`` seconds (or days) since 1970-01-01, naive UTC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400
_POW10 = tuple(10**width for width in range(5))
_CHUNK_TABLES = {
    width: np.array([f"{i:0{width}d}".encode() for i in range(10**width)], dtype=f"S{width}")
    for width in range(1, 5)
}


def _runs(slots: np.ndarray) -> list[tuple[int, int]]:
    """Split digit slots (right to left) into contiguous chunks of at most 4: (start, width)."""
    chunks: list[tuple[int, int]] = []
    end = len(slots)
    while end > 0:
        start = end - 1
        while start > 0 and end - start < 4 and slots[start - 1] == slots[start] - 1:
            start -= 1
        chunks.append((int(slots[start]), end - start))
        end = start
    return chunks


def id_template(prefix: str, count: int, minimum_digits: int) -> str:
    """``prefix`` and enough ``#`` digit slots for ``count`` ids (at least ``minimum_digits``)."""
    return prefix + "#" * max(minimum_digits, len(str(count)))


def digits(template: str, numbers: np.ndarray) -> np.ndarray:
    """Fill the ``#`` slots of ``template`` with the zero-padded digits of each number.

    ``digits("C#####", [7, 42])`` -> ``[b"C00007", b"C00042"]`` (a numpy ``S6`` array). Numbers
    must be non-negative; digits beyond the slots are dropped (the caller sizes the template).
    """
    encoded = template.encode()
    width = len(encoded)
    count = len(numbers)
    out = np.empty(count, dtype=f"S{width}")
    if count == 0:
        return out
    out[:] = encoded
    raw = out.view(np.uint8)
    slots = np.flatnonzero(np.frombuffer(encoded, dtype=np.uint8) == ord("#"))
    rest = np.asarray(numbers).astype(np.uint64)
    for start, chunk in _runs(slots):
        quotient = rest // np.uint64(_POW10[chunk])
        remainder = rest - quotient * np.uint64(_POW10[chunk])
        view = np.ndarray((count,), dtype=f"S{chunk}", buffer=raw, offset=start, strides=(width,))
        view[:] = _CHUNK_TABLES[chunk][remainder]
        rest = quotient
    return out


_EPOCH_SHIFT_DAYS = 719_468  # days from 0000-03-01 to 1970-01-01


def _civil_from_shifted(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Civil date for ``z`` = days since 0000-03-01 (``uint64``: numpy divides those fast)."""
    era = z // np.uint64(146_097)
    doe = z - era * np.uint64(146_097)
    yoe = (
        doe - doe // np.uint64(1_460) + doe // np.uint64(36_524) - doe // np.uint64(146_096)
    ) // (np.uint64(365))
    doy = doe - (np.uint64(365) * yoe + yoe // np.uint64(4) - yoe // np.uint64(100))
    mp = (np.uint64(5) * doy + np.uint64(2)) // np.uint64(153)
    day = doy - (np.uint64(153) * mp + np.uint64(2)) // np.uint64(5) + np.uint64(1)
    month = np.where(mp < 10, mp + np.uint64(3), mp - np.uint64(9))
    year = yoe + era * np.uint64(400) + (month <= 2)
    return year, month, day


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) for days since 1970-01-01 (proleptic Gregorian, years 0..9999)."""
    shifted = (np.asarray(days, dtype=np.int64) + _EPOCH_SHIFT_DAYS).astype(np.uint64)
    return _civil_from_shifted(shifted)


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for (year, month, day) arrays (inverse of :func:`civil_from_days`)."""
    year = np.asarray(year, dtype=np.int64) - (np.asarray(month) <= 2)
    era = year // 400
    yoe = year - era * 400
    month = np.asarray(month, dtype=np.int64)
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + np.asarray(day) - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _put(out: np.ndarray, offset: int, values: np.ndarray, width: int) -> None:
    if len(out) == 0:
        return
    raw = out.view(np.uint8)
    view = np.ndarray(
        (len(out),), dtype=f"S{width}", buffer=raw, offset=offset, strides=(out.itemsize,)
    )
    view[:] = _CHUNK_TABLES[width][values]


def _date_strings(days: np.ndarray) -> np.ndarray:
    year, month, day = civil_from_days(days)
    out = np.empty(len(year), dtype="S10")
    out[:] = b"0000-00-00"
    _put(out, 0, year, 4)
    _put(out, 5, month, 2)
    _put(out, 8, day, 2)
    return out


def _time_strings() -> np.ndarray:
    in_day = np.arange(SECONDS_PER_DAY)
    out = np.empty(SECONDS_PER_DAY, dtype="S8")
    out[:] = b"00:00:00"
    _put(out, 0, in_day // 3_600, 2)
    _put(out, 3, (in_day // 60) % 60, 2)
    _put(out, 6, in_day % 60, 2)
    return out


_TIMES_OF_DAY = _time_strings()


def iso_dates(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD`` (numpy ``S10``) for days since 1970-01-01; years 0..9999.

    Dates repeat a lot, so each distinct day in the range is rendered once and gathered."""
    days = np.asarray(days, dtype=np.int64)
    if len(days) == 0:
        return np.empty(0, dtype="S10")
    first = int(days.min())
    table = _date_strings(np.arange(first, int(days.max()) + 1))
    return table[days - first]


def iso_timestamps(seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` (numpy ``S19``) for seconds since 1970-01-01 (naive UTC)."""
    shift = _EPOCH_SHIFT_DAYS * SECONDS_PER_DAY
    shifted = (np.asarray(seconds, dtype=np.int64) + shift).astype(np.uint64)
    if len(shifted) == 0:
        return np.empty(0, dtype="S19")
    shifted_days = shifted // np.uint64(SECONDS_PER_DAY)
    in_day = shifted - shifted_days * np.uint64(SECONDS_PER_DAY)
    out = np.empty(len(shifted), dtype="S19")
    raw = out.view(np.uint8)
    date_part = np.ndarray((len(out),), dtype="S10", buffer=raw, offset=0, strides=(19,))
    date_part[:] = iso_dates(shifted_days.astype(np.int64) - _EPOCH_SHIFT_DAYS)
    raw[10::19] = ord("T")
    time_part = np.ndarray((len(out),), dtype="S8", buffer=raw, offset=11, strides=(19,))
    time_part[:] = _TIMES_OF_DAY[in_day.astype(np.intp)]
    return out


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None:
        return None, 0
    valid = np.asarray(valid, dtype=bool)
    nulls = int(len(valid) - np.count_nonzero(valid))
    if nulls == 0:
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


def fixed_to_arrow(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """A numpy ``S<n>`` array as an Arrow string array (zero-copy data; nulls where not valid)."""
    width = values.dtype.itemsize
    count = len(values)
    large = (count + 1) * width >= 2**31 - 1
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int64 if large else np.int32)
    bitmap, nulls = _validity(valid)
    data = pa.py_buffer(np.ascontiguousarray(values).view(np.uint8))
    return pa.Array.from_buffers(
        pa.large_string() if large else pa.string(),
        count,
        [bitmap, pa.py_buffer(offsets), data],
        null_count=nulls,
    )


def vocab_array(
    vocab: Sequence[str],
    codes: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    dictionary: bool = True,
) -> pa.Array:
    """Codes (indexes into ``vocab``) as a dictionary array (or plain strings); nulls where not
    valid. Dictionary columns are written to Parquet as plain strings (``store_schema=False``)."""
    indices = pa.array(np.asarray(codes, dtype=np.int32), mask=None if valid is None else ~valid)
    dictionary_array = pa.DictionaryArray.from_arrays(indices, pa.array(list(vocab), pa.string()))
    return dictionary_array if dictionary else dictionary_array.cast(pa.string())


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Seconds since epoch as an Arrow ``timestamp[us]`` (no time zone = UTC)."""
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    return pa.array(micros, type=pa.timestamp("us"), mask=None if valid is None else ~valid)


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Days since epoch as an Arrow ``date32``."""
    return pa.array(
        np.asarray(days, dtype=np.int32), type=pa.date32(), mask=None if valid is None else ~valid
    )


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    """Element-wise concatenation of string arrays and literals; null if any part is null."""
    arrays = [pa.scalar(part, pa.string()) if isinstance(part, str) else part for part in parts]
    return pc.binary_join_element_wise(*arrays, sep)


def with_nulls(array: pa.Array, valid: np.ndarray) -> pa.Array:
    """``array`` with nulls where ``valid`` is false."""
    return pc.if_else(pa.array(np.asarray(valid, dtype=bool)), array, pa.scalar(None, array.type))


def _arrow_seconds(array: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_date(array.type):
        days = pc.fill_null(array.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
        return days.astype(np.int64), valid
    seconds = pc.fill_null(array.cast(pa.timestamp("s")).cast(pa.int64()), 0)
    return seconds.to_numpy(zero_copy_only=False), valid


def textual(table: pa.Table) -> pa.Table:
    """Render a table for CSV/JSON: ISO dates and timestamps as strings, dictionaries decoded."""
    columns: list[pa.Array] = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind):
            seconds, valid = _arrow_seconds(column)
            columns.append(fixed_to_arrow(iso_timestamps(seconds), valid))
        elif pa.types.is_date(kind):
            days, valid = _arrow_seconds(column)
            columns.append(fixed_to_arrow(iso_dates(days), valid))
        elif pa.types.is_dictionary(kind):
            columns.append(column.cast(kind.value_type).combine_chunks())
        else:
            columns.append(
                column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
            )
    return pa.table(columns, names=table.column_names)


def _json_fragment(column: pa.Array) -> pa.Array:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        escaped = pc.replace_substring(column.cast(pa.string()), "\\", "\\\\")
        escaped = pc.replace_substring(escaped, '"', '\\"')
        fragment = join('"', escaped, '"')
    elif pa.types.is_boolean(kind):
        fragment = pc.if_else(column, "true", "false")
    else:
        fragment = column.cast(pa.string())
    return pc.fill_null(fragment, "null")


def json_lines(table: pa.Table) -> bytes:
    """The table as JSON lines (one object per row, ``null`` for nulls), UTF-8 bytes."""
    rendered = textual(table)
    parts: list[pa.Array | str] = []
    for position, name in enumerate(rendered.column_names):
        parts.append(("{" if position == 0 else ",") + f'"{name}":')
        parts.append(_json_fragment(rendered.column(name).combine_chunks()))
    parts.append("}\n")
    lines = join(*parts)
    if len(lines) == 0:
        return b""
    offset_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(lines.buffers()[1], dtype=offset_type)[lines.offset :]
    data = lines.buffers()[2]
    return data.to_pybytes()[int(offsets[0]) : int(offsets[len(lines)])]
