"""Landing files → Arrow tables, in chunks.

CSV and JSON lines are read as strings only (empty CSV field = null; JSON values as their text),
so that typing happens in one place (:mod:`loaders.typed`). Parquet keeps its own column types:
DuckDB converts them the same way (naive timestamps are UTC, zoned ones converted to UTC),
without a round trip through text that would cost more than the rest of the load.

Every chunk carries ``__cmart_row`` (1-based data row number in the file) and may carry
``__cmart_error`` / ``__cmart_raw`` (a row the reader could not parse, e.g. a broken JSON line,
and its raw text). Column names are stripped and lowercased. Any failure to read the file is
raised as :class:`FileReadError` with a message that says what, where and what to do.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from loaders.schema import literal

SUPPORTED_EXTENSIONS = (".csv.gz", ".csv", ".jsonl", ".parquet")
ROW = "__cmart_row"
ERROR = "__cmart_error"
RAW = "__cmart_raw"
INTERNAL_COLUMNS = (ROW, ERROR, RAW)
CSV_BLOCK_BYTES = 4 << 20
NOT_AN_OBJECT = "parse: line is not a valid JSON object"
# What reading a bad file raises: pyarrow (corrupt, truncated, not UTF-8), zlib/gzip (OSError,
# EOFError), the csv module (header) and DuckDB's JSON functions.
READ_ERRORS = (pa.ArrowException, OSError, EOFError, UnicodeDecodeError, csv.Error, duckdb.Error)


class FileReadError(Exception):
    """The file cannot be read at all; the message is meant for the person who sent it."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str  # posix path relative to the landing dir: "<source>/<name>"
    extension: str | None  # one of SUPPORTED_EXTENSIONS, None if unsupported


def extension_of(name: str) -> str | None:
    lowered = name.lower()
    return next((ext for ext in SUPPORTED_EXTENSIONS if lowered.endswith(ext)), None)


def discover(landing_dir: Path, source: str) -> list[LandingFile]:
    """Files of ``<landing_dir>/<source>/`` in name order; names starting with . or _ ignored."""
    folder = landing_dir / source
    if not folder.is_dir():
        return []
    return [
        LandingFile(path, path.relative_to(landing_dir).as_posix(), extension_of(path.name))
        for path in sorted(folder.iterdir(), key=lambda item: item.name)
        if path.is_file() and not path.name.startswith((".", "_"))
    ]


def normalise_names(names: list[str], relative: str) -> list[str]:
    """Strip and lowercase column names; reject duplicates and the loader's own names."""
    normalised = [name.strip().lower() or f"column_{index + 1}" for index, name in enumerate(names)]
    duplicates = sorted({name for name in normalised if normalised.count(name) > 1})
    if duplicates:
        raise FileReadError(
            f"{relative}: duplicate column name(s) {', '.join(duplicates)} (names are compared "
            "stripped and lowercased). Rename the columns and land the file again."
        )
    reserved = sorted(set(normalised) & set(INTERNAL_COLUMNS))
    if reserved:
        raise FileReadError(f"{relative}: column name(s) {', '.join(reserved)} are reserved.")
    return normalised


def _with_row_numbers(table: pa.Table, first_row: int) -> pa.Table:
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    return table.append_column(ROW, pa.array(rows))


def prefetched(chunks: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Read the next chunk in a background thread while the caller works on this one.

    pyarrow releases the GIL while it decodes, and DuckDB while it inserts, so the two overlap
    on a second core. At most one read is in flight; stopping early waits for it to finish.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmart-read") as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _rechunk(batches: Iterator[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.Table]:
    """Group record batches into tables of about ``chunk_rows`` rows, numbering the rows."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    next_row = 1
    for batch in batches:
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield _with_row_numbers(table, next_row)
            next_row += table.num_rows
            pending, pending_rows = [], 0
    if pending:
        yield _with_row_numbers(pa.Table.from_batches(pending), next_row)


# --- readers ---------------------------------------------------------------------------------


@dataclass
class FileReader:
    """An opened landing file: its column names and a way to iterate its rows in chunks."""

    file: LandingFile
    columns: list[str]
    _chunks: Iterator[pa.Table]

    def chunks(self) -> Iterator[pa.Table]:
        try:
            yield from self._chunks
        except FileReadError:
            raise
        except READ_ERRORS as error:
            raise FileReadError(read_error_message(self.file, error)) from error


def read_error_message(file: LandingFile, error: BaseException) -> str:
    kind = {".parquet": "Parquet", ".jsonl": "JSON lines"}.get(file.extension or "", "CSV")
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    # pyarrow quotes the offending row ("Expected 18 columns, got 17: <the row>"): it holds
    # personal data, and this message goes to the console, the manifest and Dagster's logs.
    detail = re.sub(r"(got \d+): .*", r"\1 (row text withheld)", detail)
    return (
        f"{file.relative}: cannot be read as {kind} ({detail}). The file is corrupt, truncated or "
        "not UTF-8: export it again and land the new file."
    )


def _csv_header(path: Path) -> list[str]:
    with pa.input_stream(str(path), compression="detect") as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        header = next(csv.reader(text), None)
    if not header:
        raise FileReadError("the file is empty (no header row). Export it again and land it.")
    return header


def _open_csv(file: LandingFile, chunk_rows: int) -> FileReader:
    names = normalise_names(_csv_header(file.path), file.relative)
    reader = pa_csv.open_csv(
        str(file.path),
        read_options=pa_csv.ReadOptions(
            column_names=names, skip_rows=1, block_size=CSV_BLOCK_BYTES
        ),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),  # quoted multi-line values
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return FileReader(file, names, prefetched(_rechunk(iter(reader), chunk_rows)))


def _open_parquet(file: LandingFile, chunk_rows: int) -> FileReader:
    parquet = pq.ParquetFile(str(file.path))
    names = normalise_names(list(parquet.schema_arrow.names), file.relative)

    def chunks() -> Iterator[pa.Table]:
        next_row = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch]).rename_columns(names)
            yield _with_row_numbers(table, next_row)
            next_row += table.num_rows

    return FileReader(file, names, prefetched(chunks()))


def _json_lines(path: Path) -> pa.Table:
    """One string per non-empty line (JSON forbids raw control characters such as 0x1f)."""
    if path.stat().st_size == 0:
        return pa.table({"line": pa.array([], pa.string())})
    return pa_csv.read_csv(
        str(path),
        read_options=pa_csv.ReadOptions(column_names=["line"], block_size=CSV_BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(
            delimiter="\x1f", quote_char=False, escape_char=False, double_quote=False
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={"line": pa.string()}, strings_can_be_null=False
        ),
    )


def _json_keys(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    rows = con.sql(
        f"""
        with objects as (
            select {ROW}, json_keys(line) as keys
            from {view}
            where json_valid(line) and starts_with(ltrim(line), '{{')
        ),
        keys as (
            select {ROW}, unnest(keys) as key, unnest(range(len(keys))) as position
            from objects
        )
        select key from keys group by key order by min({ROW}), min(position)
        """
    ).fetchall()
    return [row[0] for row in rows]


def _json_chunk(con: duckdb.DuckDBPyConnection, lines: pa.Table, keys: list[str]) -> pa.Table:
    view = "__cmart_lines"
    paths = ", ".join(literal('$."' + key.replace('"', '\\"') + '"') for key in keys)
    extract = f"json_extract_string(case when ok then line end, [{paths}])" if keys else "null"
    values = "".join(f"json_values[{index + 1}] as c{index}, " for index in range(len(keys)))
    con.register(view, lines)
    try:
        return con.sql(
            f"""
            with checked as (
                select {ROW}, line, json_valid(line) and starts_with(ltrim(line), '{{') as ok
                from {view}
            ),
            extracted as (
                select
                    {ROW},
                    case when ok then null else {literal(NOT_AN_OBJECT)} end as {ERROR},
                    case when ok then null else line end as {RAW},
                    {extract} as json_values
                from checked
            )
            select {values}{ROW}, {ERROR}, {RAW} from extracted
            """
        ).to_arrow_table()
    finally:
        con.unregister(view)


def _open_jsonl(file: LandingFile, con: duckdb.DuckDBPyConnection, chunk_rows: int) -> FileReader:
    lines = _with_row_numbers(_json_lines(file.path), 1)
    view = "__cmart_lines"
    con.register(view, lines)
    try:
        keys = _json_keys(con, view)
    finally:
        con.unregister(view)
    names = normalise_names(keys, file.relative)

    def chunks() -> Iterator[pa.Table]:
        for start in range(0, lines.num_rows, chunk_rows):
            table = _json_chunk(con, lines.slice(start, chunk_rows), keys)
            yield table.rename_columns([*names, ROW, ERROR, RAW])

    return FileReader(file, names, chunks())


def open_file(file: LandingFile, con: duckdb.DuckDBPyConnection, chunk_rows: int) -> FileReader:
    """Open a supported landing file; raise :class:`FileReadError` if it cannot be read."""
    try:
        if file.extension == ".parquet":
            return _open_parquet(file, chunk_rows)
        if file.extension == ".jsonl":
            return _open_jsonl(file, con, chunk_rows)
        return _open_csv(file, chunk_rows)
    except FileReadError as error:
        message = str(error)
        if not message.startswith(file.relative):
            message = f"{file.relative}: {message}"
        raise FileReadError(message) from error
    except READ_ERRORS as error:
        raise FileReadError(read_error_message(file, error)) from error
