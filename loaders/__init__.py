"""Landing files → DuckDB raw schema, validated with Great Expectations.

Knows files and the raw schema, nothing of Dagster or dbt. See :mod:`loaders.load`.
"""

from expectations.spec import SOURCES
from loaders.load import CHUNK_ROWS, load_landing, load_source
from loaders.reports import ExpectationResult, FileLoadReport, SourceLoadReport
from loaders.schema import ensure_raw_schema

__all__ = [
    "CHUNK_ROWS",
    "SOURCES",
    "ExpectationResult",
    "FileLoadReport",
    "SourceLoadReport",
    "ensure_raw_schema",
    "load_landing",
    "load_source",
]
