"""`cmart run` from the command line, re-run on a copy of the daily run's (dirty) data dir:
it succeeds, loads nothing twice and writes byte-identical channel lists, sales-force list and
contact history (which waits in the outbox for the next day: the re-run decides on the same
history as the first run)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from cmart.cli import main

# a second full `cmart run`: the crash test's final run already proves byte-identical lists
# after a re-run; this one adds the sales-force and write-back files (make test-all)
pytestmark = [pytest.mark.slow, pytest.mark.heavy]


def _list_digests(data_dir: Path, day: str) -> dict[str, str]:
    """sha256 of every list file of the day (the manifest carries the run id: left out) and of
    the day's contact-history write-back."""
    files = [
        *data_dir.glob(f"exports/*/{day}/*.csv"),
        *data_dir.glob(f"exports/*/{day}/*.parquet"),
        *data_dir.glob(f"outbox/contacts/nbo_{day}.parquet"),
    ]
    return {
        str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(files)
    }


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        ]
        return {
            name: con.execute(f'select count(*) from raw."{name}"').fetchone()[0] for name in tables
        }


def test_cmart_run_again_on_the_same_day_is_a_no_op_with_identical_lists(
    daily_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    assert daily_run.success
    source = daily_run.settings
    data_dir = tmp_path / "data"
    shutil.copytree(source.data_dir, data_dir, ignore=shutil.ignore_patterns("*.lock"))
    monkeypatch.setenv("DAGSTER_HOME", str(data_dir / "dagster"))
    monkeypatch.setenv("CMART_DATA_DIR", str(data_dir))
    day = source.run_date.isoformat()
    before_lists = _list_digests(data_dir, day)
    before_raw = _raw_counts(data_dir / "warehouse" / "campaign_mart.duckdb")
    # CSV + Parquet for each of the nine channels and the sales force, the contact history
    assert len(before_lists) >= 21

    rc = main(["run", "--data-dir", str(data_dir), "--run-date", day, "--log-level", "WARNING"])

    output = capsys.readouterr()
    assert rc == 0, output.err[-3000:]
    assert "succeeded" in output.out
    assert _raw_counts(data_dir / "warehouse" / "campaign_mart.duckdb") == before_raw
    assert _list_digests(data_dir, day) == before_lists
    assert not (data_dir / "landing" / "contacts" / f"nbo_{day}.parquet").exists()
