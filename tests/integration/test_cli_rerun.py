"""`cmart run` from the command line, re-run on a copy of the daily run's (dirty) data dir:
it succeeds, loads nothing twice and writes byte-identical channel lists."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from cmart.cli import main

pytestmark = pytest.mark.slow


def _list_digests(exports_dir: Path, day: str) -> dict[str, str]:
    """sha256 of every list file of the day (the manifest carries the run id: left out)."""
    return {
        str(path.relative_to(exports_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(exports_dir.glob(f"*/{day}/offers.*"))
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
    before_lists = _list_digests(data_dir / "exports", day)
    before_raw = _raw_counts(data_dir / "warehouse" / "campaign_mart.duckdb")
    assert len(before_lists) >= 18  # CSV + Parquet for each of the nine channels

    rc = main(["run", "--data-dir", str(data_dir), "--run-date", day, "--log-level", "WARNING"])

    output = capsys.readouterr()
    assert rc == 0, output.err[-3000:]
    assert "succeeded" in output.out
    assert _raw_counts(data_dir / "warehouse" / "campaign_mart.duckdb") == before_raw
    assert _list_digests(data_dir / "exports", day) == before_lists
