"""Benchmark of the response loop on a data dir where the daily run has already run.

    .venv/bin/python -m bench.response_loop --data-dir DIR [--run-date 2026-11-29] [--runs 2]
        [--requests 2000 --clients 8] [--skip-intraday] [--skip-latency]

1. *Landed → lists updated*: ``--runs`` times, one SMS accept for a pair of the day's
   call-centre list is dropped in landing/responses/, the `response_files` sensor is evaluated,
   the `intraday_responses` job runs in-process for the run date; reported per run: sensor
   time, run time, step times, and the time from the file landing to the re-issued lists (the
   intraday_reissue step's end). The first run of a day writes the snapshot in full.
2. *Offers latency*: `cmart serve` in a subprocess on 127.0.0.1, then ``--requests`` GETs of
   /customers/{id}/offers from ``--clients`` threads (keep-alive), over random customers of
   the published snapshot; reported: p50 / p95 / p99 / max in ms and the request rate.

The data dir is modified (a landing file, re-issued lists): run it on a copy.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow.parquet as pq

from cmart.settings import Settings

if TYPE_CHECKING:
    import dagster as dg

CHANNEL = "call_center"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _drop_accept(settings: Settings, customer_id: str, offer_id: str) -> float:
    """Land one SMS accept (staged, then renamed into place); returns the landing time."""
    landing = settings.landing_dir / "responses"
    staged = landing / ".bench_accept.csv.tmp"
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    with staged.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["response_id", "customer_id", "offer_id", "channel", "response_type", "responded_at"]
        )
        writer.writerow(
            [f"BENCH-{time.time_ns()}", customer_id, offer_id, "sms", "accepted", stamp]
        )
    landed = time.time()
    staged.rename(landing / f"bench_accept_{time.time_ns()}.csv")
    return landed


def _step_times(
    instance: dg.DagsterInstance, run_id: str
) -> tuple[dict[str, float], dict[str, float]]:
    logs = instance.all_logs(run_id)

    def times(event_type: str) -> dict[str, float]:
        return {
            entry.step_key: entry.timestamp
            for entry in logs
            if entry.dagster_event and entry.dagster_event.event_type_value == event_type
        }

    return times("STEP_START"), times("STEP_SUCCESS")


def intraday(settings: Settings, runs: int) -> list[dict[str, object]]:
    """``runs`` response files, one after the other, each answering another pair of the day's
    call-centre list. The job runs for the data dir's run date (the sensor's partition is the
    wall-clock date; a benchmark world may be of another day). The first run of a day also
    writes the snapshot in full; later runs show the steady state."""
    import dagster as dg

    from pipelines.assemble import build_definitions

    folder = settings.exports_dir / CHANNEL / settings.run_date.isoformat()
    listed = pq.read_table(folder / "offers.parquet", columns=["customer_id", "offer_id"])
    defs = build_definitions(settings)  # dbt parse: not part of the response path
    sensor = defs.resolve_sensor_def("response_files")
    cursor = sensor.evaluate_tick(dg.build_sensor_context(definitions=defs)).cursor
    results: list[dict[str, object]] = []
    for number in range(runs):
        customer_id = listed.column(0)[number].as_py()
        offer_id = listed.column(1)[number].as_py()
        landed = _drop_accept(settings, customer_id, offer_id)
        tick_started = time.monotonic()
        ticked = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=defs))
        sensor_seconds = time.monotonic() - tick_started
        cursor = ticked.cursor
        if len(ticked.run_requests) != 1:
            raise RuntimeError(f"the sensor asked for {len(ticked.run_requests)} runs, not 1")
        run_started = time.monotonic()
        instance = dg.DagsterInstance.ephemeral()
        result = defs.resolve_job_def("intraday_responses").execute_in_process(
            instance=instance,
            partition_key=settings.run_date.isoformat(),
            raise_on_error=False,
        )
        run_seconds = time.monotonic() - run_started
        starts, ends = _step_times(instance, result.run_id)
        reissued_at = ends.get("exports__intraday_reissue") or ends.get("intraday_reissue")
        manifest = json.loads((folder / "_manifest.json").read_text())
        results.append(
            {
                "run": number + 1,
                "success": str(result.success),
                "sensor_seconds": round(sensor_seconds, 3),
                "intraday_run_seconds": round(run_seconds, 1),
                "landed_to_lists_updated_seconds": (
                    round(reissued_at - landed, 1) if reissued_at else -1
                ),
                "call_center_version": int(manifest.get("version", 1)),
                "steps": len(ends),
                "step_seconds": {
                    key: round(ends[key] - starts[key], 1) for key in ends if key in starts
                },
            }
        )
        print(json.dumps(results[-1]), flush=True)
    return results


def _worker(port: int, paths: list[str], timings: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        timings.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(f"{path}: {response.status}")
    connection.close()


def _in_process_lookups(published: Path, customers: list[str], requests: int) -> dict[str, float]:
    """The query cost alone: the same lookups without HTTP, one after the other."""
    from cmart.offers import PublishedSnapshot, customer_offers

    started = time.perf_counter()
    con = PublishedSnapshot(published).cursor()
    attach_seconds = time.perf_counter() - started
    rng = random.Random(11)
    timings = []
    for _ in range(requests):
        customer_id = rng.choice(customers)
        begun = time.perf_counter()
        customer_offers(con, customer_id)
        timings.append(time.perf_counter() - begun)
    con.close()
    ordered = sorted(timings)
    return {
        "attach_and_build_lookups_seconds": round(attach_seconds, 2),
        "query_p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "query_p95_ms": round(ordered[int(0.95 * len(ordered))] * 1000, 2),
    }


def latency(
    settings: Settings, requests: int, clients: int, workers: int
) -> dict[str, float | int]:
    published = settings.published_dir / "campaign_mart.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        customers = [
            row[0]
            for row in con.execute(
                "select customer_id from core.customer_360 using sample 5000 rows"
            ).fetchall()
        ]
        channels = [
            row[0] for row in con.execute("select channel_code from config.channels").fetchall()
        ]
    in_process = _in_process_lookups(published, customers, requests)
    port = _free_port()
    env = {**os.environ, "CMART_API_TOKEN": ""}
    command = [sys.executable, "-m", "cmart.cli", "serve", "--data-dir", str(settings.data_dir)]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/health")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("cmart serve did not come up")
            time.sleep(0.2)
        rng = random.Random(7)
        paths = [
            f"/customers/{rng.choice(customers)}/offers"
            + (f"?channel={rng.choice(channels)}" if rng.random() < 0.5 else "")
            for _ in range(requests)
        ]
        timings: list[float] = []
        errors: list[str] = []
        threads = [
            threading.Thread(target=_worker, args=(port, paths[i::clients], timings, errors))
            for i in range(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    ordered = sorted(timings)

    def pick(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return {
        "requests": len(timings),
        "clients": clients,
        "workers": workers,
        "errors": len(errors),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(pick(0.95), 1),
        "p99_ms": round(pick(0.99), 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "requests_per_second": round(len(timings) / elapsed, 1),
        "published_mb": round(published.stat().st_size / 1e6, 1),
        **in_process,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--run-date", default="2026-11-29")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="`cmart serve --workers` (1)")
    parser.add_argument(
        "--runs", type=int, default=2, help="response files landed one after the other (2)"
    )
    parser.add_argument("--skip-intraday", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env(args.data_dir, run_date=dt.date.fromisoformat(args.run_date))
    os.environ["CMART_DATA_DIR"] = str(settings.data_dir)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    report: dict[str, object] = {"data_dir": str(settings.data_dir)}
    if not args.skip_intraday:
        report["intraday"] = intraday(settings, args.runs)
    if not args.skip_latency:
        report["offers_latency"] = latency(settings, args.requests, args.clients, args.workers)
        print(json.dumps(report["offers_latency"]), flush=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
