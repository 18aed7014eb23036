"""The response loop end to end: an SMS accept lands, the sensor fires, the intraday job runs,
the call centre's list of the day is re-issued without the pair (versioned, with a delta saying
why) and the fulfilment request leaves the outbox once, even when the file is replayed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from cmart.config import load_config
from cmart.decision_scope import FULL_SCOPE
from cmart.exports import contact_history_name
from cmart.list_versions import delta_name, revision_delta_name
from cmart.outbox import batch_files, fulfilment_folder, publish_outbox, read_ledger
from cmart.settings import DEFAULT_CONFIG_DIR, Settings
from pipelines.assemble import build_definitions
from pipelines.lib.dbt import dbt_command, dbt_env

pytestmark = pytest.mark.slow

CHANNEL = "call_center"
RESPONSE_ID = "SMS-ACCEPT-1"


@pytest.fixture
def world(daily_run, tmp_path, monkeypatch) -> Settings:
    """A private copy of the daily run's data dir (the intraday job writes to it)."""
    assert daily_run.success
    data = tmp_path / "data"
    shutil.copytree(daily_run.settings.data_dir, data, ignore=shutil.ignore_patterns("dagster"))
    settings = Settings(data_dir=data, run_date=daily_run.settings.run_date)
    for name in ("CMART_DATA_DIR", "CMART_WAREHOUSE_PATH", "DBT_LOG_PATH"):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setenv("CMART_DATA_DIR", str(data))
    return settings


def _call_centre_pair(settings: Settings) -> tuple[str, str, bool]:
    """A (customer, offer) of today's call-centre list, an offer with a fulfilment action first."""
    folder = settings.exports_dir / CHANNEL / settings.run_date.isoformat()
    listed = pq.read_table(folder / "offers.parquet", columns=["customer_id", "offer_id"])
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.register("listed", listed)
        row = con.execute(
            """
            select listed.customer_id, listed.offer_id, offers.has_fulfilment_action
            from listed
            inner join core.dim_offer as offers on listed.offer_id = offers.offer_id
            order by offers.has_fulfilment_action desc, listed.customer_id
            limit 1
            """
        ).fetchone()
    assert row is not None, "the call-centre list of the daily run is empty"
    return row


RESPONSE_HEADER = [
    "response_id",
    "customer_id",
    "offer_id",
    "channel",
    "response_type",
    "responded_at",
]


def _land_responses(settings: Settings, name: str, rows: list[list[str]]) -> Path:
    """A response file in the landing zone, complete when it appears (CONTRACTS.md)."""
    folder = settings.landing_dir / "responses"
    staged = folder / f".{name}.tmp"
    with staged.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESPONSE_HEADER)
        writer.writerows(rows)
    target = folder / name
    staged.rename(target)
    return target


def _drop_response(settings: Settings, name: str, customer_id: str, offer_id: str) -> Path:
    return _land_responses(
        settings,
        name,
        [[RESPONSE_ID, customer_id, offer_id, "sms", "accepted", "2026-11-29T09:30:00"]],
    )


def _tick(defs: dg.Definitions, cursor: str | None):
    sensor = defs.resolve_sensor_def("response_files")
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=defs))
    return result.run_requests, result.cursor


# The replay re-runs the response path only (load, response facts, fulfilment requests,
# outbox, re-issue): the whole intraday job once more would double the test's time.
REPLAY_PATH = [
    dg.AssetKey(["raw", "responses"]),
    dg.AssetKey(["staging", "stg_campaign__responses"]),
    dg.AssetKey(["intermediate", "int_response_attributed"]),
    dg.AssetKey(["campaign", "fct_response"]),
    dg.AssetKey(["campaign", "fct_fulfilment_request"]),
    dg.AssetKey(["outbox", "fulfilment"]),
    dg.AssetKey(["exports", "intraday_reissue"]),
]


def _run(
    defs: dg.Definitions, request: dg.RunRequest, only: list[dg.AssetKey] | None = None
) -> float:
    started = time.monotonic()
    result = defs.resolve_job_def("intraday_responses").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=request.partition_key,
        tags={"dagster/run_key": request.run_key or ""},
        asset_selection=only,
        raise_on_error=False,
    )
    assert result.success
    return time.monotonic() - started


def _requests_for(settings: Settings, response_id: str) -> list[dict]:
    emitted = []
    for path in batch_files(fulfilment_folder(settings.outbox_dir)):
        emitted += [json.loads(line) for line in path.read_text().splitlines()]
    return [row for row in emitted if row["response_id"] == response_id]


def test_sms_accept_leaves_the_call_centre_list_and_fulfils_once(world: Settings) -> None:
    customer_id, offer_id, fulfils = _call_centre_pair(world)
    defs = build_definitions(world)
    _requests, cursor = _tick(defs, None)  # the responses the daily run loaded
    quiet, cursor = _tick(defs, cursor)
    assert quiet == []

    _drop_response(world, "sms_accept.csv", customer_id, offer_id)
    fired, cursor = _tick(defs, cursor)
    assert len(fired) == 1 and fired[0].partition_key == "2026-11-29"

    seconds = _run(defs, fired[0])
    print(f"intraday run after one response file: {seconds:.1f}s")

    folder = world.exports_dir / CHANNEL / "2026-11-29"
    current = pq.read_table(folder / "offers.parquet").to_pylist()
    assert (customer_id, offer_id) not in {(r["customer_id"], r["offer_id"]) for r in current}
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["version"] == 2 and manifest["row_count"] == len(current)
    first = pq.read_table(folder / "versions" / "1" / "offers.parquet").to_pylist()
    assert (customer_id, offer_id) in {(r["customer_id"], r["offer_id"]) for r in first}
    assert len(first) == len(current) + 1
    with (folder / delta_name(1)).open() as handle:
        delta = list(csv.DictReader(handle))
    assert delta == [
        {"customer_id": customer_id, "offer_id": offer_id, "reason": "responded_recently"}
    ]

    if fulfils:
        assert len(_requests_for(world, RESPONSE_ID)) == 1
    ledger_before = read_ledger(fulfilment_folder(world.outbox_dir)).num_rows

    # the same response file delivered again under another name: a new run, nothing new out
    _drop_response(world, "sms_accept_replayed.csv", customer_id, offer_id)
    replay, cursor = _tick(defs, cursor)
    assert len(replay) == 1
    _run(defs, replay[0], only=REPLAY_PATH)
    assert len(_requests_for(world, RESPONSE_ID)) == (1 if fulfils else 0)
    ledger = read_ledger(fulfilment_folder(world.outbox_dir))
    assert ledger.num_rows == ledger_before
    assert len(set(ledger.column("idempotency_key").to_pylist())) == ledger.num_rows
    # and the list is not re-issued again: nothing new is suppressed
    assert json.loads((folder / "_manifest.json").read_text())["version"] == 2

    # a crash after the batch files were renamed into place, before the ledger was written:
    # the next run adopts the files instead of emitting their requests a second time
    outbox = fulfilment_folder(world.outbox_dir)
    files = batch_files(outbox)
    (outbox / "_published.parquet").unlink(missing_ok=True)
    report = publish_outbox(world.warehouse_path, world.outbox_dir, world.run_date)
    assert (report.emitted, report.recovered) == (0, ledger_before)
    assert batch_files(outbox) == files


def _decision(settings: Settings) -> dict[str, list[tuple]]:
    """The day's eligibility log and nbo, sorted."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {
            "eligibility": con.execute(
                f"select {ELIGIBILITY_COLUMNS} from decisioning.fct_offer_eligibility "
                "where run_date = ? order by all",
                [settings.run_date],
            ).fetchall(),
            "nbo": con.execute(
                "select customer_id, offer_id, channel, is_control from decisioning.nbo "
                "order by all"
            ).fetchall(),
        }


ELIGIBILITY_COLUMNS = (
    "customer_id, offer_id, channel, eligibility_status, is_selected, "
    "has_responded_recently, days_since_decline"
)


def _listed_pairs(settings: Settings, channels: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """One listed (customer, offer, channel) per channel, from different customers."""
    picked: list[tuple[str, str, str]] = []
    for channel in channels:
        folder = settings.exports_dir / channel / settings.run_date.isoformat()
        if not (folder / "offers.parquet").exists():
            continue
        for row in pq.read_table(folder / "offers.parquet").to_pylist():
            if row["customer_id"] not in {customer for customer, _, _ in picked}:
                picked.append((row["customer_id"], row["offer_id"], channel))
                break
    return picked


def _full_redecision(settings: Settings, tmp_path: Path) -> list[tuple]:
    """int_offer_candidates decided in full (every customer, as the daily run would) on a copy
    of the warehouse: the per-candidate rules the intraday run must agree with."""
    copy = Settings(data_dir=tmp_path / "full", run_date=settings.run_date)
    copy.warehouse_dir.mkdir(parents=True)
    shutil.copy2(settings.warehouse_path, copy.warehouse_path)
    command = dbt_command(
        copy, "run", "--select", "int_offer_candidates", target_path=tmp_path / "full_target"
    )
    env = {**os.environ, **dbt_env(copy, decision_scope=FULL_SCOPE)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(copy.warehouse_path), read_only=True) as con:
        return con.execute(f"select {CANDIDATE_COLUMNS} from {CANDIDATES} order by all").fetchall()


CANDIDATES = "intermediate.int_offer_candidates"
INTERRUPTED_AFTER_CANDIDATES = [
    dg.AssetKey(["raw", "responses"]),
    dg.AssetKey(["staging", "stg_campaign__responses"]),
    dg.AssetKey(["intermediate", "int_offer_candidates"]),
]
CANDIDATE_COLUMNS = (
    "customer_id, offer_id, channel, suppression_reason, has_responded_recently, "
    "days_since_decline, score"
)


def test_intraday_redecides_only_those_who_answered(world: Settings, tmp_path: Path) -> None:
    """The intraday decision re-evaluates the rules of the customers who answered and nobody
    else's, agrees with a full re-decision on those rules, and keeps the day's arbitration:
    nbo loses exactly the rows a response now suppresses."""
    defs = build_definitions(world)
    _requests, cursor = _tick(defs, None)
    before = _decision(world)
    answers = _listed_pairs(world, (CHANNEL, "email", "sms", "branch"))
    assert len(answers) >= 2, "the daily run listed too few customers"
    responses = [
        (f"INTRADAY-{number}", customer_id, offer_id, channel, response_type)
        for number, ((customer_id, offer_id, channel), response_type) in enumerate(
            zip(answers, ["accepted", "declined", "clicked", "declined"], strict=False)
        )
    ]
    _land_responses(world, "several.csv", [[*row, "2026-11-29T10:00:00"] for row in responses])
    fired, cursor = _tick(defs, cursor)
    assert len(fired) == 1
    # a first attempt stops after the candidates were re-decided (as if killed there); the
    # re-run must end where an uninterrupted run would
    _run(defs, fired[0], only=INTERRUPTED_AFTER_CANDIDATES)
    _run(defs, fired[0])
    after = _decision(world)

    answered = {customer_id for _, customer_id, _, _, _ in responses}
    # nobody else was touched
    untouched_before = [row for row in before["eligibility"] if row[0] not in answered]
    untouched_after = [row for row in after["eligibility"] if row[0] not in answered]
    assert untouched_after == untouched_before
    # those who answered: the rules agree with a full re-decision
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        scoped = con.execute(f"select {CANDIDATE_COLUMNS} from {CANDIDATES} order by all")
        scoped_rows = scoped.fetchall()
    assert scoped_rows == _full_redecision(world, tmp_path)
    # every answered pair is flagged on every channel, suppressed on the listed one, and no
    # longer selected anywhere
    listed = {
        (customer_id, offer_id): channel for _, customer_id, offer_id, channel, _ in responses
    }
    for customer_id, offer_id, channel, status, selected, responded, _ in after["eligibility"]:
        if (customer_id, offer_id) in listed:
            assert responded and not selected
            if channel == listed[(customer_id, offer_id)]:
                assert status == "responded_recently"
    # nbo: the morning's rows minus those a per-candidate rule now suppresses
    now_suppressed = {
        (row[0], row[1], row[2]) for row in scoped_rows if row[0] in answered and row[3]
    }
    expected_nbo = [row for row in before["nbo"] if (row[0], row[1], row[2]) not in now_suppressed]
    assert after["nbo"] == expected_nbo
    assert len(after["nbo"]) < len(before["nbo"])
    # the arbitration is kept: nothing is newly selected
    selected_before = {(row[0], row[1], row[2]) for row in before["eligibility"] if row[4]}
    selected_after = {(row[0], row[1], row[2]) for row in after["eligibility"] if row[4]}
    assert selected_after <= selected_before


def _revise_after_response_after_an_upgrade(settings: Settings) -> None:
    """The CRM team turns revisions on during the day, after a code upgrade that added the
    setting: the warehouse's configuration is still the morning's, of the code before (no
    column). The intraday job must read the configuration again, not fail."""
    text = (DEFAULT_CONFIG_DIR / "settings.yml").read_text()
    assert "revise_after_response: false" in text
    settings.config_override_dir.mkdir(parents=True, exist_ok=True)
    (settings.config_override_dir / "settings.yml").write_text(
        text.replace("revise_after_response: false", "revise_after_response: true")
    )
    assert load_config(settings.config_dirs).decisioning.revise_after_response
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("alter table config.decision_settings drop column revise_after_response")
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'config' and table_name = 'decision_settings' "
                "order by ordinal_position"
            ).fetchall()
        ]
        con.execute(
            "create or replace view staging.stg_config__decision_settings as "
            f"select {', '.join(columns)} from config.decision_settings"
        )


def _revisable_pairs(settings: Settings, wanted: int) -> list[tuple[str, str, str]]:
    """Listed (customer, offer, channel) whose customer has another eligible offer of another
    product on the same channel: what a revision could replace the pair with."""
    listed = [
        code
        for code in ("sms", "email", CHANNEL, "branch", "mobile", "internet")
        if (settings.exports_dir / code / settings.run_date.isoformat()).is_dir()
    ]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            f"""
            with chosen as (
                select customer_id, offer_id, channel, product_id
                from decisioning.nbo
                where not is_control and list_contains(?::varchar[], channel)
            ),
            revisable as (
                select chosen.customer_id, chosen.offer_id, chosen.channel
                from chosen
                where exists (
                    select 1
                    from {CANDIDATES} as options
                    where options.customer_id = chosen.customer_id
                        and options.channel = chosen.channel
                        and options.suppression_reason is null
                        and options.has_contact_details
                        and options.score is not null
                        and options.product_id not in (
                            select product_id from chosen as held
                            where held.customer_id = chosen.customer_id
                        )
                )
            )
            select customer_id, any_value(offer_id order by offer_id),
                any_value(channel order by offer_id)
            from revisable
            group by customer_id
            order by customer_id
            limit ?
            """,
            [listed, wanted],
        ).fetchall()
    return [tuple(row) for row in rows]


def test_a_configured_revision_replaces_the_answered_pair_on_its_channel(
    world: Settings,
) -> None:
    """revise_after_response (turned on during the day): the answered pair leaves its list and
    the customer's next-best offer takes its slot on the same channel (list version 2, a
    revision delta, the eligibility log and the contact history say so); a re-run adds nothing
    twice."""
    _revise_after_response_after_an_upgrade(world)
    defs = build_definitions(world)
    _requests, cursor = _tick(defs, None)
    before = _decision(world)
    picks = _revisable_pairs(world, 4)
    assert len(picks) >= 2, "the daily run left too few revisable pairs"
    _land_responses(
        world,
        "revise.csv",
        [
            [f"REVISE-{number}", customer_id, offer_id, channel, "accepted", "2026-11-29T11:00"]
            for number, (customer_id, offer_id, channel) in enumerate(picks)
        ],
    )
    fired, cursor = _tick(defs, cursor)
    assert len(fired) == 1
    _run(defs, fired[0])

    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        revisions = con.execute(
            "select customer_id, offer_id, channel, product_id, replaced_offer_id, replaced_reason "
            "from intermediate.int_offer_revised order by all"
        ).fetchall()
        morning_products = set(
            con.execute(
                "select customer_id, product_id from intermediate.int_offer_arbitrated "
                "where is_selected"
            ).fetchall()
        )
    assert revisions, "no answered pair was revised"
    picked = {(customer_id, offer_id): channel for customer_id, offer_id, channel in picks}
    for customer_id, _offer_id, channel, product_id, replaced, reason in revisions:
        assert picked[(customer_id, replaced)] == channel and reason == "responded_recently"
        assert (customer_id, product_id) not in morning_products
    # nbo: the morning's rows minus the answered ones, plus the replacements
    after = _decision(world)
    answered = {(c, o, ch) for (c, o), ch in picked.items()}
    expected = sorted(
        [row for row in before["nbo"] if (row[0], row[1], row[2]) not in answered]
        + [(c, o, ch, False) for c, o, ch, _, _, _ in revisions]
    )
    assert after["nbo"] == expected
    revised_pairs = {(c, o, ch) for c, o, ch, _, _, _ in revisions}
    noted = {
        (row[0], row[1], row[2]): row[4]
        for row in after["eligibility"]
        if (row[0], row[1], row[2]) in revised_pairs
    }
    assert noted == dict.fromkeys(revised_pairs, True)
    # the lists: the replacement in the current version and in the revision delta
    for customer_id, offer_id, channel in sorted(revised_pairs):
        day = world.exports_dir / channel / "2026-11-29"
        assert (customer_id, offer_id) in {
            (r["customer_id"], r["offer_id"])
            for r in pq.read_table(day / "offers.parquet").to_pylist()
        }
        with (day / revision_delta_name(1)).open() as handle:
            assert (customer_id, offer_id) in {
                (r["customer_id"], r["offer_id"]) for r in csv.DictReader(handle)
            }
    history = pq.read_table(
        world.outbox_dir / "contacts" / contact_history_name(world.run_date)
    ).to_pylist()
    recorded = {(r["customer_id"], r["offer_id"], r["channel"]) for r in history}
    assert revised_pairs <= recorded and answered <= recorded

    # the same run again (e.g. after a crash at the end): nothing is revised twice
    versions = {
        ch: json.loads((world.exports_dir / ch / "2026-11-29" / "_manifest.json").read_text())[
            "version"
        ]
        for _, _, ch in revised_pairs
    }
    _run(defs, fired[0])
    assert _decision(world)["nbo"] == after["nbo"]
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        again = con.execute(
            "select customer_id, offer_id, channel, product_id, replaced_offer_id, replaced_reason "
            "from intermediate.int_offer_revised order by all"
        ).fetchall()
    assert again == revisions
    for channel, version in versions.items():
        manifest = json.loads(
            (world.exports_dir / channel / "2026-11-29" / "_manifest.json").read_text()
        )
        assert manifest["version"] == version
    assert len(
        pq.read_table(world.outbox_dir / "contacts" / contact_history_name(world.run_date))
    ) == len(history)
