"""Load landing files into the raw schema: idempotent, one transaction per file, nothing lost.

For each file of ``<landing_dir>/<source>/``: skip it if its content is already in the manifest
for that source; otherwise read it in chunks of strings, check its header with the source's GX
columns suite, type each chunk in DuckDB, validate it with the GX rows suite, append the good
rows to ``raw.<source>`` and the bad ones, with their reasons, to ``raw._quarantine``; then
record the GX results and the manifest row. All writes for one file commit together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from expectations.spec import SOURCES, SourceSpec, load_spec
from loaders.readers import (
    ERROR,
    RAW,
    ROW,
    FileReader,
    FileReadError,
    LandingFile,
    discover,
    open_file,
)
from loaders.reasons import reasons_select
from loaders.reports import (
    MAX_EXAMPLES,
    ExpectationResult,
    FileLoadReport,
    FileStatus,
    SourceLoadReport,
    combine_results,
)
from loaders.schema import (
    MANIFEST,
    QUARANTINE,
    VALIDATION,
    ensure_raw_schema,
    literal,
    quote,
    raw_table,
)
from loaders.typed import check_label, parse_columns, typed_select

if TYPE_CHECKING:
    from cmart.config import CampaignConfig
    from loaders.validation import LoadValidator, SourceValidator

CHUNK_ROWS = 2_000_000
HASH_BLOCK_BYTES = 8 << 20
PARSE_CHECK = "column_values_parse_as_type"
ROW_RULE_CHECK = "row_values_satisfy_rule"
SOURCE_VIEW = "__cmart_source"
TYPED_TABLE = "__cmart_typed"  # a temp table: typed once, read by GX, reasons and insert
FAILURES_VIEW = "__cmart_failures"
REASONS_VIEW = "__cmart_reasons"
REASONS_SCHEMA = pa.schema([("_row", pa.int64()), ("reason", pa.string())])

Progress = Callable[[str], None]


@dataclass(frozen=True)
class FileBatch:
    """What every write for one landing file needs."""

    source: str
    file: str  # relative to the landing dir
    sha256: str
    size_bytes: int
    batch_id: str
    loaded_at: dt.datetime  # naive UTC


@dataclass(frozen=True)
class ChunkOutcome:
    rows_read: int
    rows_quarantined: int
    results: list[ExpectationResult]


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 (hex) and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(HASH_BLOCK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def batch_id_for(relative: str, sha256: str) -> str:
    """Deterministic batch id: the same file content at the same path is the same batch."""
    return hashlib.sha256(f"{relative}\n{sha256}".encode()).hexdigest()[:16]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _connect(warehouse_path: Path) -> duckdb.DuckDBPyConnection:
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path))
    con.execute("set TimeZone = 'UTC'")
    ensure_raw_schema(con)
    return con


def _record_json(columns: Sequence[str], alias: str, has_raw: bool) -> str:
    """JSON text of a row's original string values (the raw line if the reader failed on it)."""
    pairs = ", ".join(f"{literal(name)}, {alias}.{quote(name)}" for name in columns)
    record = f"json_object({pairs})"
    if has_raw:
        raw = f"{alias}.{RAW}"
        record = f"case when {raw} is not null then json_object('_line', {raw}) else {record} end"
    return f"cast({record} as varchar)"


class LoadSession:
    """One load call: one connection, one GX context, one load time."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        landing_dir: Path,
        config: CampaignConfig,
        progress: Progress,
        chunk_rows: int,
    ) -> None:
        self.con = con
        self.landing_dir = landing_dir
        self.config = config
        self.progress = progress
        self.chunk_rows = chunk_rows
        self.load_time = _utc_now()
        self._validator: LoadValidator | None = None

    # --- per source / per file ------------------------------------------------------------

    def load_source(self, spec: SourceSpec) -> SourceLoadReport:
        files = discover(self.landing_dir, spec.source)
        return SourceLoadReport(spec.source, [self.load_file(spec, item) for item in files])

    def load_file(self, spec: SourceSpec, file: LandingFile) -> FileLoadReport:
        started = time.perf_counter()
        sha256, size = file_digest(file.path)
        batch = FileBatch(
            spec.source,
            file.relative,
            sha256,
            size,
            batch_id_for(file.relative, sha256),
            self.load_time,
        )
        earlier = self.con.execute(
            f"select file, status from {raw_table(MANIFEST)} "
            "where source = ? and sha256 = ? order by loaded_at, file",
            [spec.source, sha256],
        ).fetchall()
        if any(path == file.relative for path, _ in earlier):
            report = FileLoadReport(
                file.relative,
                sha256,
                "skipped_already_loaded",
                message="already in the load manifest",
                batch_id=batch.batch_id,
            )
        elif earlier:
            path, status = earlier[0]
            message = f"same content as {path} ({status}); not loaded again"
            report = self._record_only(batch, "duplicate_content", message)
        elif file.extension is None:
            message = (
                f"{file.relative}: unsupported extension; landing files must be .csv, .csv.gz, "
                ".jsonl or .parquet. Convert the file and land it again."
            )
            report = self._record_only(batch, "rejected", message)
        else:
            report = self._load_rows(spec, file, batch)
        report = replace(report, seconds=time.perf_counter() - started)
        self.progress(_progress_line(report))
        return report

    def _source_validator(self, spec: SourceSpec) -> SourceValidator:
        if self._validator is None:
            from loaders.validation import LoadValidator  # imports GX: only when needed

            self._validator = LoadValidator(self.config, self.load_time)
        return self._validator.source(spec)

    def _load_rows(self, spec: SourceSpec, file: LandingFile, batch: FileBatch) -> FileLoadReport:
        try:
            reader = open_file(file, self.con, self.chunk_rows)
        except FileReadError as error:
            return self._record_only(batch, "rejected", str(error))
        validator = self._source_validator(spec)
        columns = validator.check_columns(reader.columns)
        self.con.begin()
        try:
            if columns.missing:
                message = (
                    f"{file.relative}: missing required column(s) {', '.join(columns.missing)} "
                    f"(found: {', '.join(reader.columns) or 'none'}). "
                    "Fix the export and land the file again."
                )
                read = self._quarantine_file(reader, batch, message)
                report = FileLoadReport(
                    path=file.relative,
                    sha256=batch.sha256,
                    status="rejected",
                    rows_read=read,
                    rows_quarantined=read,
                    message=message,
                    batch_id=batch.batch_id,
                    validation=(columns.result,),
                )
            else:
                report = self._load_chunks(reader, spec, validator, batch, columns.result)
            self._write_validation(batch, report.validation)
            self._write_manifest(batch, report)
            self.con.commit()
        except FileReadError as error:
            self.con.rollback()
            return self._record_only(batch, "rejected", str(error))
        except BaseException:
            self.con.rollback()
            raise
        return report

    def _load_chunks(
        self,
        reader: FileReader,
        spec: SourceSpec,
        validator: SourceValidator,
        batch: FileBatch,
        columns_result: ExpectationResult,
    ) -> FileLoadReport:
        read = quarantined = 0
        results = [columns_result]
        for chunk in reader.chunks():
            outcome = self._load_chunk(chunk, reader.columns, spec, validator, batch)
            read += outcome.rows_read
            quarantined += outcome.rows_quarantined
            results += outcome.results
        return FileLoadReport(
            path=batch.file,
            sha256=batch.sha256,
            status="loaded",
            rows_read=read,
            rows_loaded=read - quarantined,
            rows_quarantined=quarantined,
            batch_id=batch.batch_id,
            validation=tuple(combine_results(results)),
        )

    # --- one chunk ----------------------------------------------------------------------------

    def _load_chunk(
        self,
        chunk: pa.Table,
        columns: list[str],
        spec: SourceSpec,
        validator: SourceValidator,
        batch: FileBatch,
    ) -> ChunkOutcome:
        """Type, validate and load one chunk; returns its counts and expectation results."""
        con = self.con
        con.register(SOURCE_VIEW, chunk)
        try:
            source = con.sql(f"select * from {SOURCE_VIEW}")
            source_types = dict(zip(source.columns, map(str, source.types), strict=True))
            has_error = ERROR in chunk.column_names
            typing = typed_select(spec, columns, SOURCE_VIEW, source_types, has_error)
            con.execute(f"create or replace temp table {TYPED_TABLE} as {typing}")
            parsing = parse_columns(spec, columns)
            results = self._parse_results(spec, parsing, chunk.num_rows)
            verdict = validator.check_rows(self._checked_columns(validator))
            results += verdict.results
            reader_errors = has_error and chunk.column(ERROR).null_count < chunk.num_rows
            parse_errors = any(result.unexpected_count for result in results[: len(parsing)])
            reasons = REASONS_SCHEMA.empty_table()
            if verdict.failures.num_rows or parse_errors or reader_errors:
                con.register(FAILURES_VIEW, verdict.failures)
                sql = reasons_select(validator.checks, parsing, TYPED_TABLE, FAILURES_VIEW)
                reasons = con.sql(sql).to_arrow_table()
            con.register(REASONS_VIEW, reasons)
            self._insert_rows(spec, batch, anti_join=reasons.num_rows > 0)
            if reasons.num_rows:
                self._insert_quarantine(columns, batch, has_raw=RAW in chunk.column_names)
            con.execute(f"drop table {TYPED_TABLE}")  # on failure, the rollback drops it
        finally:
            for view in (SOURCE_VIEW, FAILURES_VIEW, REASONS_VIEW):
                con.unregister(view)
        return ChunkOutcome(chunk.num_rows, reasons.num_rows, results)

    def _checked_columns(self, validator: SourceValidator) -> pa.Table:
        """``_row`` and the typed columns the GX checks look at, as Arrow."""
        names = dict.fromkeys(check.column.name for check in validator.checks)
        selected = ", ".join(["_row", *(quote(name) for name in names)])
        return self.con.sql(f"select {selected} from {TYPED_TABLE}").to_arrow_table()

    def _parse_results(
        self, spec: SourceSpec, parsing: list[str], rows: int
    ) -> list[ExpectationResult]:
        """The loader's own checks: did every non-empty value convert, does every row rule hold?"""
        if not parsing:
            return []
        aggregates = ", ".join(
            f"count({quote(name)}), "
            f"list({quote(name)}) filter (where {quote(name)} is not null)[1:{MAX_EXAMPLES}]"
            for name in parsing
        )
        (row,) = self.con.sql(f"select {aggregates} from {TYPED_TABLE}").fetchall()
        labels = [check_label(spec, name) for name in parsing]
        return [
            ExpectationResult(
                expectation_type=PARSE_CHECK if kind == "parse" else ROW_RULE_CHECK,
                column=label,
                success=row[2 * index] == 0,
                element_count=rows,
                evaluated_count=rows,
                unexpected_count=row[2 * index],
                examples=tuple(row[2 * index + 1] or ()),
            )
            for index, (kind, label) in enumerate(labels)
        ]

    def _insert_rows(self, spec: SourceSpec, batch: FileBatch, anti_join: bool) -> None:
        names = [quote(name) for name in spec.column_names]
        target = ", ".join([*names, "_extra", "_file", "_row", "_loaded_at", "_batch_id"])
        values = ", ".join([*(f"typed.{name}" for name in names), "typed._extra"])
        good = (
            f"anti join {REASONS_VIEW} as reasons on reasons._row = typed._row" if anti_join else ""
        )
        self.con.execute(
            f"insert into {raw_table(spec.source)} ({target}) "
            f"select {values}, ?, typed._row, ?, ? from {TYPED_TABLE} as typed {good}",
            [batch.file, batch.loaded_at, batch.batch_id],
        )

    def _insert_quarantine(self, columns: list[str], batch: FileBatch, has_raw: bool) -> None:
        record = _record_json(columns, "source", has_raw)
        self.con.execute(
            f"insert into {raw_table(QUARANTINE)} "
            '(source, file, "row", reason, record, batch_id, quarantined_at) '
            f"select ?, ?, reasons._row, reasons.reason, {record}, ?, ? "
            f"from {REASONS_VIEW} as reasons "
            f"inner join {SOURCE_VIEW} as source on source.{ROW} = reasons._row",
            [batch.source, batch.file, batch.batch_id, batch.loaded_at],
        )

    def _quarantine_file(self, reader: FileReader, batch: FileBatch, reason: str) -> int:
        """Every row of a rejected file goes to quarantine with ``reason``; returns the count."""
        read = 0
        for chunk in reader.chunks():
            reasons = pa.table(
                {"_row": chunk.column(ROW), "reason": pa.repeat(pa.scalar(reason), chunk.num_rows)},
                schema=REASONS_SCHEMA,
            )
            self.con.register(SOURCE_VIEW, chunk)
            self.con.register(REASONS_VIEW, reasons)
            try:
                self._insert_quarantine(reader.columns, batch, RAW in chunk.column_names)
            finally:
                self.con.unregister(SOURCE_VIEW)
                self.con.unregister(REASONS_VIEW)
            read += chunk.num_rows
        return read

    # --- load tables ----------------------------------------------------------------------

    def _write_validation(self, batch: FileBatch, results: Sequence[ExpectationResult]) -> None:
        if not results:
            return
        self.con.executemany(
            f"insert into {raw_table(VALIDATION)} (batch_id, source, file, expectation_type, "
            "column_name, success, unexpected_count, unexpected_percent) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    batch.batch_id,
                    batch.source,
                    batch.file,
                    result.expectation_type,
                    result.column,
                    result.success,
                    result.unexpected_count,
                    result.unexpected_percent,
                ]
                for result in results
            ],
        )

    def _write_manifest(self, batch: FileBatch, report: FileLoadReport) -> None:
        self.con.execute(
            f"insert into {raw_table(MANIFEST)} (batch_id, source, file, sha256, size_bytes, "
            "rows_read, rows_loaded, rows_quarantined, status, message, loaded_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch.batch_id,
                batch.source,
                batch.file,
                batch.sha256,
                batch.size_bytes,
                report.rows_read,
                report.rows_loaded,
                report.rows_quarantined,
                report.status,
                report.message,
                batch.loaded_at,
            ],
        )

    def _record_only(self, batch: FileBatch, status: FileStatus, message: str) -> FileLoadReport:
        """A file that loads no rows (duplicate, rejected unread): just its manifest row."""
        report = FileLoadReport(
            batch.file, batch.sha256, status, message=message, batch_id=batch.batch_id
        )
        self.con.begin()
        try:
            self._write_manifest(batch, report)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        return report


def _progress_line(report: FileLoadReport) -> str:
    took = f"({report.seconds:.1f} s)"
    if report.status == "skipped_already_loaded":
        return f"{report.path}: skipped, already loaded {took}"
    if report.status == "duplicate_content":
        return f"{report.path}: not loaded, {report.message} {took}"
    counts = (
        f"{report.rows_read:,} read, {report.rows_loaded:,} loaded, "
        f"{report.rows_quarantined:,} quarantined {took}"
    )
    if report.status == "rejected":
        return f"{report.path}: REJECTED ({counts}): {report.message}"
    return f"{report.path}: {counts}"


def load_landing(
    warehouse_path: Path,
    landing_dir: Path,
    config: CampaignConfig,
    *,
    sources: Sequence[str] | None = None,
    progress: Progress = print,
    chunk_rows: int = CHUNK_ROWS,
) -> list[SourceLoadReport]:
    """Load every new file of the given sources (default: all) into the warehouse."""
    chosen = tuple(SOURCES if sources is None else sources)
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known sources: {list(SOURCES)}")
    specs = [load_spec(source) for source in chosen]
    with _connect(Path(warehouse_path)) as con:
        session = LoadSession(con, Path(landing_dir), config, progress, chunk_rows)
        return [session.load_source(spec) for spec in specs]


def load_source(
    warehouse_path: Path,
    landing_dir: Path,
    source: str,
    config: CampaignConfig,
    *,
    progress: Progress = print,
    chunk_rows: int = CHUNK_ROWS,
) -> SourceLoadReport:
    """Load every new file of one source into the warehouse."""
    (report,) = load_landing(
        warehouse_path,
        landing_dir,
        config,
        sources=[source],
        progress=progress,
        chunk_rows=chunk_rows,
    )
    return report
