"""The response-files sensor fires on new complete response files only (file system only)."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.exports.partitions import run_date_partitions
from pipelines.defs.intraday.jobs import (
    AFTER_DECISION_KEYS,
    CONFIG_KEYS,
    DAILY_ONLY_KEYS,
    DECISION_KEYS,
    intraday_job,
)
from pipelines.defs.intraday.sensors import build_response_sensor


@dg.asset(key=["raw", "responses"])
def raw_responses() -> None: ...


def _stub(key: dg.AssetKey) -> dg.AssetsDefinition:
    @dg.asset(key=key, deps=[raw_responses], partitions_def=run_date_partitions)
    def _asset() -> None: ...

    return _asset


@dg.asset(
    key=["exports", "intraday_reissue"],
    group_name="intraday",
    deps=[*DECISION_KEYS],
    partitions_def=run_date_partitions,
)
def intraday_reissue() -> None: ...


STUBS = [
    raw_responses,
    *(_stub(key) for key in (*DECISION_KEYS, *AFTER_DECISION_KEYS, *DAILY_ONLY_KEYS, *CONFIG_KEYS)),
]


def _tick(sensor: dg.SensorDefinition, cursor: str | None):
    defs = dg.Definitions(assets=[*STUBS, intraday_reissue], jobs=[intraday_job], sensors=[sensor])
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=defs))
    return result.run_requests, result.cursor


def test_only_new_complete_response_files_start_the_intraday_job(tmp_path, monkeypatch):
    monkeypatch.setenv("CMART_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CMART_RUN_DATE", "2026-11-29")
    sensor = build_response_sensor(tmp_path)
    landing = tmp_path / "landing"
    (landing / "responses").mkdir(parents=True)
    (landing / "contacts").mkdir()

    requests, cursor = _tick(sensor, None)
    assert requests == []

    (landing / "contacts" / "c.csv").write_text("contact_id\n1\n")  # another source
    requests, cursor = _tick(sensor, cursor)
    assert requests == []

    (landing / "responses" / ".api_1.jsonl.tmp-1").write_text("{}")  # being written
    requests, cursor = _tick(sensor, cursor)
    assert requests == []

    (landing / "responses" / ".api_1.jsonl.tmp-1").rename(landing / "responses" / "api_1.jsonl")
    requests, cursor = _tick(sensor, cursor)
    assert len(requests) == 1
    assert requests[0].partition_key == "2026-11-29"
    assert requests[0].job_name in (None, "intraday_responses")

    requests, _ = _tick(sensor, cursor)
    assert requests == []


def test_the_intraday_job_leaves_the_daily_only_models_to_the_daily_run(tmp_path):
    sensor = build_response_sensor(tmp_path)
    defs = dg.Definitions(assets=[*STUBS, intraday_reissue], jobs=[intraday_job], sensors=[sensor])
    selected = defs.resolve_job_def("intraday_responses").asset_layer.selected_asset_keys
    assert set(DECISION_KEYS) <= selected
    assert set(CONFIG_KEYS) <= selected  # the configuration is re-read
    assert not set(DAILY_ONLY_KEYS) & selected
