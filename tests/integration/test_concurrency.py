"""Concurrency: analysts read the published file while the pipeline publishes; two runs
started at once get a lock, not a corrupted warehouse.

(The API serving while the pipeline publishes: tests/integration/test_api.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import suppress
from pathlib import Path

import duckdb
import pytest

from cmart.locking import lock_path
from cmart.publish import PUBLISHED_FILE, publish_snapshot
from cmart.settings import REPO_ROOT, Settings
from tests.crash.harness import child_env, loads_are_atomic, lock_is_free, table_counts

pytestmark = pytest.mark.slow

CMART = str(Path(sys.executable).parent / "cmart")

# An analyst's process. "held": one read-only connection open for the whole session, queried
# in a loop. "fresh": a new connection per query (DuckDB shares one open database per path
# within a process, so a new connection sees a new file only in a process holding no other).
READER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import duckdb

    published, stop, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    QUERY = (
        "select (select generation from core.publish_probe), "
        "(select generation from campaign.publish_probe), "
        "(select count(*) from campaign.fct_contact), "
        "(select count(*) from core.dim_customer)"
    )
    held = duckdb.connect(str(published), read_only=True) if mode == "held" else None
    seen = []  # [number of queries, row] per distinct answer, in order
    print("reading", flush=True)
    while True:
        last = stop.exists()
        if held is not None:
            row = list(held.execute(QUERY).fetchone())
        else:
            with duckdb.connect(str(published), read_only=True) as fresh:
                row = list(fresh.execute(QUERY).fetchone())
        if seen and seen[-1][1] == row:
            seen[-1][0] += 1
        else:
            seen.append([1, row])
        if last:
            break
    print(json.dumps(seen), flush=True)
    """
)


def _set_generation(warehouse: Path, generation: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for schema in ("core", "campaign"):
            con.execute(
                f"create or replace table {schema}.publish_probe as select ? as generation",
                [generation],
            )


def test_readers_never_fail_and_always_see_one_whole_snapshot_while_the_pipeline_publishes(
    daily_run, tmp_path
):
    assert daily_run.success
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(daily_run.settings.warehouse_path, warehouse)
    published_dir = tmp_path / "published"
    published = published_dir / PUBLISHED_FILE
    _set_generation(warehouse, 0)
    publish_snapshot(warehouse, published_dir)
    stop = tmp_path / "stop"
    readers = {
        mode: subprocess.Popen(
            [sys.executable, "-c", READER, str(published), str(stop), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("held", "fresh")
    }
    outputs = {}
    took = []
    try:
        for reader in readers.values():
            assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
        for generation in range(1, 5):
            _set_generation(warehouse, generation)
            started = time.monotonic()
            report = publish_snapshot(warehouse, published_dir)  # what the publish asset calls
            took.append(time.monotonic() - started)
            assert report.tables["core.publish_probe"] == 1
            time.sleep(1.0)
        stop.touch()
        for mode, reader in readers.items():
            outputs[mode] = reader.communicate(timeout=120)
    finally:
        stop.touch()
        for reader in readers.values():
            if reader.poll() is None:
                reader.kill()
                reader.wait()
    for mode, reader in readers.items():
        assert reader.returncode == 0, f"{mode} reader failed: {outputs[mode][1][-3000:]}"
    runs = {mode: json.loads(out.strip().splitlines()[-1]) for mode, (out, _) in outputs.items()}
    counts = table_counts(published, ("campaign", "core"))
    whole = [counts["campaign.fct_contact"], counts["core.dim_customer"]]
    # every query saw one whole snapshot: both probes of one publish, every table complete
    for mode, run in runs.items():
        assert all(row[0] == row[1] and row[2:] == whole for _, row in run), (mode, run)
    # a connection held open keeps the snapshot it opened, through 4 publishes
    assert [row for _, row in runs["held"]] == [[0, 0, *whole]], runs["held"]
    # new connections see the publishes in order, up to the last one
    generations = [row[0] for _, row in runs["fresh"]]
    assert generations == sorted(generations) and generations[-1] == 4, runs["fresh"]
    assert len(generations) >= 3, f"the fresh reader saw too few publishes: {runs['fresh']}"
    assert max(took) < 120, f"a publish took {max(took):.0f}s while readers were reading"
    assert not list(published_dir.glob(".*")), "a publish left a temporary file"


def _cmart(settings: Settings, *args: str, log: Path) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen(
            [
                str(Path(sys.executable).parent / "cmart"),
                *args,
                "--data-dir",
                str(settings.data_dir),
            ],
            cwd=REPO_ROOT,
            env=child_env(settings),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _kill(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_two_cmart_runs_started_at_once_one_runs_the_other_refuses_or_waits(daily_run, tmp_path):
    assert daily_run.success
    source = daily_run.settings
    data_dir = tmp_path / "data"
    shutil.copytree(source.data_dir, data_dir, ignore=shutil.ignore_patterns("*.lock"))
    settings = Settings(data_dir=data_dir, run_date=source.run_date)
    day = settings.run_date.isoformat()
    raw_before = table_counts(settings.warehouse_path, ("raw",))
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b", "load", "waiter")}
    run = ("run", "--run-date", day, "--log-level", "INFO")
    first = _cmart(settings, *run, log=logs["a"])
    second = _cmart(settings, *run, log=logs["b"])
    processes = [first, second]
    try:
        _wait_for(lambda: first.poll() is not None or second.poll() is not None, 600, "a loser")
        loser, winner = (first, second) if first.poll() is not None else (second, first)
        loser_log = logs["a" if loser is first else "b"].read_text()
        assert loser.returncode == 2, loser_log[-3000:]
        assert "busy" in loser_log and "--wait" in loser_log, loser_log[-3000:]
        assert f"pid {winner.pid}" in loser_log  # it names the run that holds the lock
        _wait_for(
            lambda: "dagster run" in lock_path(settings.warehouse_dir).read_text(),
            600,
            "the winner's job to hold the lock",
        )
        assert winner.poll() is None, "the winner stopped as well"

        # a manual load (refused too) and a run that queues, started together: their
        # start-ups (imports) overlap instead of adding up
        load = _cmart(settings, "load", log=logs["load"])
        waiter_started = time.monotonic()
        waiter = _cmart(settings, *run, "--wait", "600", log=logs["waiter"])
        processes += [load, waiter]
        assert load.wait(timeout=300) == 2
        assert "busy" in logs["load"].read_text()
        time.sleep(max(0.0, 5 - (time.monotonic() - waiter_started)))
        assert waiter.poll() is None, logs["waiter"].read_text()[-3000:]
        assert "campaign-mart: daily run" not in logs["waiter"].read_text()  # still queued
        _kill(winner)  # the first run dies: its lock goes with it, the waiter goes ahead
        _wait_for(
            lambda: "campaign-mart: daily run" in logs["waiter"].read_text(), 120, "the waiter"
        )
        _kill(waiter)
    finally:
        for process in processes:
            _kill(process)
    assert lock_is_free(settings.warehouse_dir) == []
    assert loads_are_atomic(settings.warehouse_path) == []
    assert table_counts(settings.warehouse_path, ("raw",)) == raw_before
