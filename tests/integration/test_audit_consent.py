"""Consent audit on the generated world after the whole daily graph ran (session fixture)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmart.audit import load_valid_rows
from cmart.cli import main
from cmart.config import load_config
from tests.conftest import RUN_DATE, PipelineRun


def _audit(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "consent", "--date", RUN_DATE.isoformat(), "--data-dir", str(data_dir)])
    return code, capsys.readouterr().out


def _opted_out_of_sms(run: PipelineRun) -> str:
    """A customer whose latest `all` event on sms is an opt-out, read from the landing files."""
    config = load_config(run.settings.config_dirs)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        load_valid_rows(con, run.settings.landing_dir, "consents", config, now)
        rows = con.sql(
            """
            select customer_id from landing_consents
            where channel = 'sms' and coalesce(topic, 'all') = 'all'
            qualify row_number() over (
                partition by customer_id order by recorded_at desc, status desc
            ) = 1 and status = 'opt_out'
            order by customer_id
            limit 1
            """
        ).fetchall()
    assert rows, "the generated world has no sms opt-out"
    return rows[0][0]


def test_consent_audit_of_a_real_run_finds_no_violation(
    daily_run: PipelineRun, capsys: pytest.CaptureFixture[str]
) -> None:
    assert daily_run.success
    code, out = _audit(daily_run.settings.data_dir, capsys)
    assert code == 0, out
    assert "no exported row violates consent" in out
    assert "sms" in out and "email" in out


def test_consent_audit_names_a_row_added_for_an_opted_out_customer(
    daily_run: PipelineRun, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    settings = daily_run.settings
    (tmp_path / "landing").symlink_to(settings.landing_dir)
    shutil.copytree(settings.exports_dir, tmp_path / "exports")
    customer = _opted_out_of_sms(daily_run)
    path = tmp_path / "exports" / "sms" / RUN_DATE.isoformat() / "offers.parquet"
    table = pq.read_table(path)
    assert table.num_rows > 0
    added = table.slice(0, 1).set_column(
        table.schema.get_field_index("customer_id"), "customer_id", pa.array([customer])
    )
    pq.write_table(pa.concat_tables([table, added]), path)
    code, out = _audit(tmp_path, capsys)
    assert code == 1
    assert f"sms customer {customer}" in out
    assert "consent: opted out of sms" in out
