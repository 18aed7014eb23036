"""Atomic, deterministic file writers for landing and truth files.

Every file is written to a hidden temporary name in its folder (``.<name>.tmp``) and renamed, so a
reader never sees a half-written file. Output bytes depend only on the table: Parquet without the
Arrow schema blob (dictionary columns read back as plain strings), gzip with mtime 0 and no name.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cmart.generate.dirty import Dirt
from cmart.generate.textfmt import json_lines, textual

FileFormat = Literal["csv", "csv.gz", "jsonl", "parquet"]
TEXT_FORMATS: tuple[FileFormat, ...] = ("csv", "csv.gz", "jsonl")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling path starting with ``.``; rename it to ``path`` on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def csv_bytes(table: pa.Table) -> bytes:
    """UTF-8 CSV with a header, empty field for null, ISO dates/timestamps, true/false."""
    sink = io.BytesIO()
    pa_csv.write_csv(textual(table), sink)
    return sink.getvalue()


def write_table(table: pa.Table, path: Path, file_format: FileFormat) -> None:
    """Write ``table`` to ``path`` atomically in the given format."""
    with atomic_path(path) as temporary:
        if file_format == "parquet":
            pq.write_table(table, temporary, compression="zstd", store_schema=False)
        elif file_format == "csv":
            temporary.write_bytes(csv_bytes(table))
        elif file_format == "csv.gz":
            with (
                temporary.open("wb") as raw,
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) as gz,
            ):
                gz.write(csv_bytes(table))
        elif file_format == "jsonl":
            temporary.write_bytes(json_lines(table))
        else:  # pragma: no cover - the Literal type rules this out
            raise ValueError(f"unknown file format {file_format!r}")


def write_json(document: dict[str, Any], path: Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


@dataclass
class Sink:
    """Writes landing files (dirtied first when a :class:`Dirt` is given), counts rows per source
    and reports progress."""

    landing_dir: Path
    progress: Callable[[str], None]
    dirt: Dirt | None = None
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def write(
        self, source: str, parts: Iterable[tuple[str, pa.Table]], file_format: FileFormat
    ) -> list[Path]:
        """Write one source as one or more files ``<landing>/<source>/<stem>.<ext>``."""
        written = []
        count = 0
        for stem, table in parts:
            name = f"{stem}.{file_format}"
            text = file_format in TEXT_FORMATS
            if self.dirt is not None:
                table = self.dirt.apply(source, name, textual(table) if text else table, text)
            path = self.landing_dir / source / name
            write_table(table, path, file_format)
            written.append(path)
            count += table.num_rows
        self.files.extend(written)
        self.rows[source] = self.rows.get(source, 0) + count
        noun = "file" if len(written) == 1 else "files"
        self.progress(f"generated {source}: {count:,} rows in {len(written)} {noun}")
        return written
