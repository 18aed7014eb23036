"""The landing sensor looks at the file system only and fires once per new set of files."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.jobs import build_landing_sensor, landing_fingerprint


def _evaluate(sensor: dg.SensorDefinition, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor)
    result = sensor.evaluate_tick(context)
    return result, result.cursor


def test_sensor_requests_a_run_only_when_complete_files_appear(tmp_path, monkeypatch):
    monkeypatch.setenv("CMART_DATA_DIR", str(tmp_path))
    sensor = build_landing_sensor(tmp_path)
    responses = tmp_path / "landing" / "responses"
    responses.mkdir(parents=True)

    first, cursor = _evaluate(sensor, None)
    assert first.run_requests == []  # nothing landed yet: no run

    (responses / "r1.csv").write_text("response_id\n1\n")
    fired, cursor = _evaluate(sensor, cursor)
    assert len(fired.run_requests) == 1

    quiet, cursor_after = _evaluate(sensor, cursor)
    assert quiet.run_requests == []
    assert cursor_after == cursor

    (responses / ".r2.csv.tmp").write_text("in progress")  # a writer's temporary file
    still_quiet, _ = _evaluate(sensor, cursor)
    assert still_quiet.run_requests == []

    (responses / ".r2.csv.tmp").rename(responses / "r2.csv")
    fired_again, _ = _evaluate(sensor, cursor)
    assert len(fired_again.run_requests) == 1


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
