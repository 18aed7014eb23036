"""The landing sensor looks at the file system only and fires once per new set of files."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg

from pipelines.defs.exports.partitions import run_date_partitions
from pipelines.defs.jobs import build_landing_sensor, daily_job, daily_schedule, landing_fingerprint


@dg.asset(partitions_def=run_date_partitions)
def _a_day_partitioned_asset() -> None:
    """Stands in for the exports so that the daily job resolves (its runs are per day)."""


def _evaluate(sensor: dg.SensorDefinition, cursor: str | None):
    definitions = dg.Definitions(
        assets=[_a_day_partitioned_asset], jobs=[daily_job], sensors=[sensor]
    )
    context = dg.build_sensor_context(cursor=cursor, definitions=definitions)
    result = sensor.evaluate_tick(context)
    return result, result.cursor


def test_sensor_requests_a_run_only_when_complete_files_appear(tmp_path, monkeypatch):
    monkeypatch.setenv("CMART_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CMART_RUN_DATE", raising=False)  # the run date is today's
    sensor = build_landing_sensor(tmp_path)
    responses = tmp_path / "landing" / "complaints"
    responses.mkdir(parents=True)

    first, cursor = _evaluate(sensor, None)
    assert first.run_requests == []  # nothing landed yet: no run

    (responses / "r1.csv").write_text("response_id\n1\n")
    fired, cursor = _evaluate(sensor, cursor)
    assert len(fired.run_requests) == 1
    assert fired.run_requests[0].partition_key == dg.DailyPartitionsDefinition(
        start_date="2000-01-01"
    ).get_partition_key_for_timestamp(time.time())  # today's partition

    quiet, cursor_after = _evaluate(sensor, cursor)
    assert quiet.run_requests == []
    assert cursor_after == cursor

    (responses / ".r2.csv.tmp").write_text("in progress")  # a writer's temporary file
    still_quiet, _ = _evaluate(sensor, cursor)
    assert still_quiet.run_requests == []

    (responses / ".r2.csv.tmp").rename(responses / "r2.csv")
    fired_again, cursor = _evaluate(sensor, cursor)
    assert len(fired_again.run_requests) == 1

    contacts = tmp_path / "landing" / "contacts"
    contacts.mkdir()
    (contacts / "nbo_2026-11-28.parquet").write_bytes(b"x")  # the pipeline's own write-back
    ignored, _ = _evaluate(sensor, cursor)
    assert ignored.run_requests == []

    intraday = tmp_path / "landing" / "responses"
    intraday.mkdir()
    (intraday / "api_response_1.csv").write_text("response_id\n1\n")  # the intraday job's
    left_to_intraday, _ = _evaluate(sensor, cursor)
    assert left_to_intraday.run_requests == []


def test_fingerprint_ignores_unsupported_and_hidden_files(tmp_path):
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "a.csv").write_text("x")
    before = landing_fingerprint(tmp_path)
    (tmp_path / "contacts" / "notes.txt").write_text("x")
    (tmp_path / "contacts" / "_SUCCESS.csv").write_text("x")
    assert landing_fingerprint(tmp_path) == before
    (tmp_path / "contacts" / "c.parquet").write_bytes(b"x")
    assert landing_fingerprint(tmp_path) not in (before, None)


def test_fingerprint_is_none_without_landing_files(tmp_path):
    assert landing_fingerprint(tmp_path / "missing") is None
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / ".partial.csv").write_text("x")
    assert landing_fingerprint(tmp_path) is None


def test_daily_schedule_runs_the_partition_of_its_day():
    definitions = dg.Definitions(
        assets=[_a_day_partitioned_asset], jobs=[daily_job], schedules=[daily_schedule]
    )
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 29, 6, tzinfo=dt.UTC),
        repository_def=definitions.get_repository_def(),
    )
    [request] = daily_schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-11-29"
