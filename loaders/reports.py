"""What a load did, per file and per source (returned to the CLI and to Dagster)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

FileStatus = Literal["loaded", "skipped_already_loaded", "duplicate_content", "rejected"]
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's verdict on a file (or, in a source report, on all new files).

    ``expectation_type`` is the GX type (``expect_column_values_to_be_in_set``, ...) or
    ``column_values_parse_as_type`` for the loader's own parse check. ``unexpected_percent`` is
    relative to ``evaluated_count`` (non-null values, except for not-null expectations).
    """

    expectation_type: str
    column: str | None
    success: bool
    element_count: int
    evaluated_count: int
    unexpected_count: int
    examples: tuple[str, ...] = ()

    @property
    def unexpected_percent(self) -> float:
        return 100.0 * self.unexpected_count / self.evaluated_count if self.evaluated_count else 0.0

    def combine(self, other: ExpectationResult) -> ExpectationResult:
        """This result and ``other`` (same expectation, another chunk or file) as one."""
        return replace(
            self,
            success=self.success and other.success,
            element_count=self.element_count + other.element_count,
            evaluated_count=self.evaluated_count + other.evaluated_count,
            unexpected_count=self.unexpected_count + other.unexpected_count,
            examples=(*self.examples, *other.examples)[:MAX_EXAMPLES],
        )


def combine_results(results: Sequence[ExpectationResult]) -> list[ExpectationResult]:
    """Merge results of the same (expectation type, column), keeping first-seen order."""
    merged: dict[tuple[str, str | None], ExpectationResult] = {}
    for result in results:
        key = (result.expectation_type, result.column)
        merged[key] = merged[key].combine(result) if key in merged else result
    return list(merged.values())


@dataclass(frozen=True)
class FileLoadReport:
    """One landing file: ``rows_read == rows_loaded + rows_quarantined`` always holds."""

    path: str  # relative to the landing dir, e.g. "customers/customers_02.csv"
    sha256: str
    status: FileStatus
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    batch_id: str = ""
    seconds: float = 0.0
    validation: tuple[ExpectationResult, ...] = ()


@dataclass(frozen=True)
class SourceLoadReport:
    """All files of one source seen by one load call."""

    source: str
    files: list[FileLoadReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(item.rows_read for item in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(item.rows_loaded for item in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(item.rows_quarantined for item in self.files)

    @property
    def validation(self) -> list[ExpectationResult]:
        """Per expectation, over the files validated by this call."""
        return combine_results([result for item in self.files for result in item.validation])
