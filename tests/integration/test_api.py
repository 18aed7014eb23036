"""The sales screens' HTTP API on the published snapshot of the daily run (Starlette client)."""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest
from starlette.testclient import TestClient

from cmart.api import MAX_BODY_BYTES, create_app
from cmart.cli import main
from cmart.settings import Settings

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def served(daily_run, tmp_path_factory) -> Settings:
    """A data dir holding a copy of the published snapshot (POSTs land in its landing dir)."""
    assert daily_run.success
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(daily_run.settings.published_dir, root / "published")
    return Settings(data_dir=root, run_date=daily_run.settings.run_date)


@pytest.fixture(scope="module")
def client(served: Settings) -> TestClient:
    return TestClient(create_app(served))


@pytest.fixture(scope="module")
def offered(served: Settings) -> tuple[str, str, str]:
    """(customer_id, offer_id, channel) of a non-control row of today's nbo."""
    path = served.published_dir / "campaign_mart.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "select customer_id, offer_id, channel from decisioning.nbo where not is_control "
            "order by customer_id, rank limit 1"
        ).fetchone()
    assert row is not None
    return row


def _response(customer: str, offer: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "response_id": "API-R1",
        "customer_id": customer,
        "offer_id": offer,
        "channel": "sms",
        "response_type": "accepted",
        "responded_at": "2026-11-29T09:30:00",
    }
    body.update(changes)
    return body


def test_health_reports_the_published_day(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["run_date"] == "2026-11-29"


def test_customer_card_is_the_customer_360_row(client: TestClient, offered) -> None:
    answer = client.get(f"/customers/{offered[0]}")
    assert answer.status_code == 200
    card = answer.json()
    assert card["customer_id"] == offered[0]
    assert "segment_code" in card and "consent_status_by_channel" in card
    assert card["consent_status_by_channel"] is None or isinstance(
        card["consent_status_by_channel"], dict
    )


def test_unknown_customer_is_a_json_404(client: TestClient) -> None:
    for path in ("/customers/NO_SUCH_CUSTOMER", "/customers/NO_SUCH_CUSTOMER/offers"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "unknown customer" in answer.json()["error"]


def test_path_like_or_oversized_ids_are_rejected(client: TestClient) -> None:
    for customer_id in ("..", "a.b", "x" * 65, "a%00b"):
        answer = client.get(f"/customers/{customer_id}")
        assert answer.status_code in (400, 404), customer_id
        assert "error" in answer.json()
    assert client.get("/customers/a.b").status_code == 400


def test_offers_list_current_offers_and_suppression_reasons(client: TestClient, offered) -> None:
    customer_id, offer_id, channel = offered
    answer = client.get(f"/customers/{customer_id}/offers").json()
    assert answer["run_date"] == "2026-11-29"
    assert (offer_id, channel) in {(o["offer_id"], o["channel"]) for o in answer["offers"]}
    assert isinstance(answer["suppressed"], list)
    assert all(row["reason"] != "eligible" for row in answer["suppressed"])
    only = client.get(f"/customers/{customer_id}/offers", params={"channel": channel}).json()
    assert only["offers"] and {o["channel"] for o in only["offers"]} == {channel}
    assert {row["channel"] for row in only["suppressed"]} <= {channel}


def test_unknown_channel_is_a_400(client: TestClient, offered) -> None:
    answer = client.get(f"/customers/{offered[0]}/offers", params={"channel": "pigeon"})
    assert answer.status_code == 400
    assert "unknown channel" in answer.json()["error"]


def test_post_response_appends_a_landing_file(client: TestClient, served, offered) -> None:
    answer = client.post("/responses", json=_response(offered[0], offered[1]))
    assert answer.status_code == 202, answer.text
    path = served.landing_dir / "responses" / answer.json()["file"]
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [
        {
            "branch_id": None,
            "channel": "sms",
            "contact_id": None,
            "customer_id": offered[0],
            "offer_id": offered[1],
            "rep_id": None,
            "response_id": "API-R1",
            "response_type": "accepted",
            "responded_at": "2026-11-29T09:30:00",
        }
    ]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"response_id": "R1", ', 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b'"just a string"', 422, "must be a JSON object"),
        (b"[]", 422, "send 1 to"),
    ],
)
def test_malformed_bodies_are_rejected(client: TestClient, body, status, message) -> None:
    answer = client.post("/responses", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert message in answer.json()["error"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer_id": 123}, "customer_id must be a string"),
        ({"offer_id": None}, "offer_id is required"),
        ({"response_type": ["accepted"]}, "response_type must be a string"),
        ({"responded_at": 1764408600}, "ISO 8601"),
        ({"responded_at": "yesterday"}, "not ISO 8601"),
        ({"responded_at": "2999-01-01T00:00:00"}, "in the future"),
        ({"channel": "pigeon"}, "not a configured channel"),
        ({"response_type": "maybe"}, "response_type"),
        ({"response_id": "../../etc/passwd"}, "response_id must be"),
        ({"colour": "red"}, "unknown field"),
        ({"offer_id": "NO_SUCH_OFFER"}, "unknown offer"),
    ],
)
def test_invalid_responses_are_422(client: TestClient, offered, changes, message) -> None:
    answer = client.post("/responses", json=_response(offered[0], offered[1], **changes))
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["error"]


def test_response_of_unknown_customer_is_404(client: TestClient, offered) -> None:
    answer = client.post("/responses", json=_response("NO_SUCH_CUSTOMER", offered[1]))
    assert answer.status_code == 404


def test_oversized_body_is_413_and_writes_nothing(client: TestClient, served, offered) -> None:
    before = set((served.landing_dir / "responses").glob("*"))
    padding = "x" * (MAX_BODY_BYTES + 1)
    answer = client.post(
        "/responses", content=padding.encode(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert set((served.landing_dir / "responses").glob("*")) == before


def test_token_is_required_when_configured(served: Settings, offered) -> None:
    guarded = TestClient(create_app(served, token=TOKEN))
    assert guarded.get("/health").status_code == 200
    assert guarded.get(f"/customers/{offered[0]}").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert guarded.get(f"/customers/{offered[0]}", headers=wrong).status_code == 401
    assert guarded.post("/responses", json={}, headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get(f"/customers/{offered[0]}", headers=right).status_code == 200


def test_a_replaced_snapshot_is_read_after_publish(served: Settings, tmp_path, offered) -> None:
    data = tmp_path / "data"
    shutil.copytree(served.published_dir, data / "published")
    settings = Settings(data_dir=data, run_date=served.run_date)
    fresh = TestClient(create_app(settings))
    assert fresh.get(f"/customers/{offered[0]}").status_code == 200
    target = settings.published_dir / "campaign_mart.duckdb"
    staged = target.with_name(".next.duckdb")
    shutil.copyfile(target, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute("delete from core.customer_360 where customer_id = ?", [offered[0]])
    os.replace(staged, target)  # as publish does
    # the request that notices the new file is answered from the previous snapshot while the
    # new one is attached in the background; once attached, the new file answers
    assert fresh.get(f"/customers/{offered[0]}").status_code == 200
    assert fresh.app.state.cmart.snapshot.refresh(timeout=120)
    assert fresh.get(f"/customers/{offered[0]}").status_code == 404
    assert fresh.get(f"/customers/{offered[0]}/offers").status_code == 404


def test_cli_offers_prints_the_same_answer(served: Settings, offered, capsys) -> None:
    client = TestClient(create_app(served))
    expected = client.get(f"/customers/{offered[0]}/offers", params={"channel": offered[2]})
    data_dir = str(served.data_dir)
    code = main(["offers", offered[0], "--channel", offered[2], "--json", "--data-dir", data_dir])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == expected.json()
    assert main(["offers", offered[0], "--data-dir", data_dir]) == 0
    text = capsys.readouterr().out
    assert offered[1] in text and "suppressed" in text
    assert main(["offers", "NO_SUCH_CUSTOMER", "--data-dir", data_dir]) == 1


def test_api_keeps_serving_while_the_pipeline_publishes(daily_run, tmp_path, offered) -> None:
    """Requests in a loop while publish replaces the snapshot three times: every answer is a
    200 with the customer's card, none fails, and the publishes neither block nor fail."""
    import threading

    from cmart.publish import publish_snapshot

    settings = Settings(data_dir=tmp_path / "data", run_date=daily_run.settings.run_date)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(daily_run.settings.warehouse_path, warehouse)
    publish_snapshot(warehouse, settings.published_dir)
    client = TestClient(create_app(settings))
    statuses: list[int] = []
    done = threading.Event()

    def ask() -> None:
        while not done.is_set():
            statuses.append(client.get(f"/customers/{offered[0]}/offers").status_code)

    reader = threading.Thread(target=ask)
    reader.start()
    try:
        for _ in range(3):
            publish_snapshot(warehouse, settings.published_dir)
    finally:
        done.set()
        reader.join(timeout=60)
    assert len(statuses) > 3
    assert set(statuses) == {200}


def test_the_served_app_attaches_the_snapshot_before_the_first_request(served: Settings) -> None:
    app = create_app(served, attach_at_start=True)
    assert app.state.cmart.snapshot._attached is None
    with TestClient(app) as started:  # runs the lifespan, as uvicorn does
        assert app.state.cmart.snapshot._attached is not None
        assert started.get("/health").status_code == 200
