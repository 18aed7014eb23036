"""``generate_responses``: incremental response batches continue the generated world."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from cmart.generate import generate_responses, generate_world
from cmart.settings import Settings

END_DATE = dt.date(2026, 6, 30)
SINCE = dt.date(2026, 6, 1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path, run_date=END_DATE)
    generate_world(settings, customers=1_500, seed=5, days=60, progress=lambda _: None)
    return settings


def _responses(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"create view batch as select * from read_csv('{path}', all_varchar=true)")
    con.execute(
        f"create view contacts as select * from read_parquet('{path.parent.parent}/contacts/*')"
    )
    con.execute(
        f"create view world as select * from read_parquet('{path.parent}/responses.parquet')"
    )
    return con


def test_responses_only_batch_has_new_unique_ids_for_recent_contacts(settings: Settings) -> None:
    messages: list[str] = []
    report = generate_responses(settings, since=SINCE, seed=43, progress=messages.append)
    path = settings.landing_dir / "responses" / "responses_inc_2026-06-01_43.csv"
    assert report.files == [path]
    assert report.rows["responses"] > 100
    assert messages and messages[0].startswith("generated responses: ")
    con = _responses(path)
    total, distinct, clashes = con.execute(
        "select count(*), count(distinct response_id), "
        "(select count(*) from batch join world using (response_id)) from batch"
    ).fetchall()[0]
    assert total == distinct == report.rows["responses"] and clashes == 0
    early, before_since, late = con.execute(
        f"""
        select count(*) filter (where b.responded_at::timestamp < c.contacted_at),
               count(*) filter (where c.contacted_at < date '{SINCE}'),
               (select count(*) from batch where responded_at::timestamp >= date '{END_DATE}')
        from batch b join contacts c using (contact_id)
        """
    ).fetchall()[0]
    assert (early, before_since, late) == (0, 0, 0)


def test_responses_only_batch_is_deterministic_and_seed_dependent(settings: Settings) -> None:
    first = generate_responses(settings, since=SINCE, seed=7, progress=lambda _: None).files[0]
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    again = generate_responses(settings, since=SINCE, seed=7, progress=lambda _: None).files[0]
    assert again == first and hashlib.sha256(again.read_bytes()).hexdigest() == digest
    other = generate_responses(settings, since=SINCE, seed=8, progress=lambda _: None).files[0]
    assert other != first
    ids = set(pa_csv.read_csv(first).column("response_id").to_pylist())
    assert ids.isdisjoint(pa_csv.read_csv(other).column("response_id").to_pylist())


def test_responses_only_answers_contacts_the_pipeline_wrote_later(settings: Settings) -> None:
    run_date = END_DATE + dt.timedelta(days=10)
    size = 3_000
    exported = pa.table(
        {
            "contact_id": [f"PIPE{i:06d}" for i in range(size)],
            "customer_id": [f"C{(i % 1_500) + 1:08d}" for i in range(size)],
            "offer_id": ["OF0001"] * size,
            "channel": ["email"] * size,
            "contacted_at": ["2026-06-30T06:00:00"] * size,
            "cell": ["A"] * size,
            "is_control": ["false"] * size,
        }
    )
    pa_csv.write_csv(exported, settings.landing_dir / "contacts" / "contact_history_2026-06-30.csv")
    report = generate_responses(
        settings, since=END_DATE, seed=1, end_date=run_date, progress=lambda _: None
    )
    batch = pa_csv.read_csv(
        report.files[0],
        convert_options=pa_csv.ConvertOptions(
            column_types={"responded_at": pa.string()}, strings_can_be_null=True
        ),
    )
    assert batch.num_rows > 0
    linked = [c for c in batch.column("contact_id").to_pylist() if c is not None]
    assert linked and all(c.startswith("PIPE") for c in linked)
    assert max(batch.column("responded_at").to_pylist()) < run_date.isoformat()


def test_responses_only_needs_a_generated_world(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, run_date=END_DATE)
    with pytest.raises(FileNotFoundError, match="run `cmart generate`"):
        generate_responses(settings, since=SINCE, progress=lambda _: None)
