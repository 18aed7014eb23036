"""The live service for the sales screens (`cmart serve`): Starlette on the published snapshot.

- `GET /health` (no token): is a snapshot published, and of which day.
- `GET /customers/{id}`: the customer-360 card. 404 when unknown.
- `GET /customers/{id}/offers?channel=`: current offers, and the offers suppressed with the first
  reason (from decisioning.fct_offer_eligibility when the snapshot has it).
- `POST /responses`: one response (a JSON object) or a batch (a list), validated against the
  `responses` landing contract, appended as a new landing file (written under a dot-name, then
  renamed) in data/landing/responses/ for the pipeline to load. The service never writes the
  warehouse; it reads the published snapshot read-only.

Bad requests get a 4xx with a JSON body ``{"error": ...}``. With a token configured (env
CMART_API_TOKEN for `cmart serve`), every route but /health needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cmart.config import CampaignConfig, load_config
from cmart.offers import (
    PublishedSnapshot,
    SnapshotMissingError,
    customer_card,
    customer_offers,
    is_valid_customer_id,
    published_path,
)
from cmart.settings import Settings

TOKEN_ENV = "CMART_API_TOKEN"
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH = 500
RESPONSE_SOURCE = "responses"
API_FILE_PREFIX = "api_"
REQUIRED_FIELDS = ("response_id", "customer_id", "offer_id", "channel", "response_type")
OPTIONAL_ID_FIELDS = ("contact_id", "rep_id", "branch_id")
EARLIEST_RESPONSE = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ServiceState:
    settings: Settings
    config: CampaignConfig
    snapshot: PublishedSnapshot
    token: str | None


class BadRequest(HTTPException):
    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(status_code=status_code, detail=detail)


def _state(request: Request) -> ServiceState:
    return request.app.state.cmart


def _check_token(request: Request) -> None:
    expected = _state(request).token
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise HTTPException(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})


def _customer_id(request: Request) -> str:
    customer_id = request.path_params["customer_id"]
    if not is_valid_customer_id(customer_id):
        raise BadRequest(400, "customer id must be 1-64 letters, digits, '_' or '-'")
    return customer_id


def _channel(request: Request) -> str | None:
    channel = request.query_params.get("channel")
    if channel is None or channel == "":
        return None
    known = _state(request).config.channel_codes
    if channel not in known:
        raise BadRequest(400, f"unknown channel {channel[:40]!r}; known: {known}")
    return channel


def _snapshot_cursor(request: Request):
    """The worker thread's kept cursor on the snapshot (not to be closed)."""
    try:
        return _state(request).snapshot.thread_cursor()
    except SnapshotMissingError as error:
        raise HTTPException(503, str(error)) from error


# --- read routes (sync: Starlette runs them in its thread pool) --------------------------------


def health(request: Request) -> JSONResponse:
    state = _state(request)
    path = state.snapshot.path
    if not path.exists():
        return JSONResponse({"status": "no_snapshot", "published": str(path)}, status_code=503)
    con = _snapshot_cursor(request)
    found = con.execute("select max(run_date) from decisioning.nbo").fetchall()
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return JSONResponse(
        {
            "status": "ok",
            "run_date": found[0][0].isoformat() if found and found[0][0] else None,
            "published_at": modified.isoformat(timespec="seconds"),
        }
    )


def get_customer(request: Request) -> JSONResponse:
    _check_token(request)
    customer_id = _customer_id(request)
    con = _snapshot_cursor(request)
    card = customer_card(con, customer_id)
    if card is None:
        raise HTTPException(404, f"unknown customer {customer_id!r}")
    return JSONResponse(card)


def get_customer_offers(request: Request) -> JSONResponse:
    _check_token(request)
    customer_id = _customer_id(request)
    channel = _channel(request)
    con = _snapshot_cursor(request)
    answer = customer_offers(con, customer_id, channel)
    if answer is None:
        raise HTTPException(404, f"unknown customer {customer_id!r}")
    return JSONResponse(answer)


# --- POST /responses ---------------------------------------------------------------------------


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadRequest(413, f"body larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadRequest(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return bytes(body)


def _parse_timestamp(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > 40:
        raise BadRequest(422, f"{where}.responded_at must be an ISO 8601 timestamp string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(422, f"{where}.responded_at {value!r} is not ISO 8601") from error
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    moment = moment.astimezone(dt.UTC)
    if not EARLIEST_RESPONSE <= moment <= dt.datetime.now(dt.UTC) + CLOCK_SKEW:
        raise BadRequest(422, f"{where}.responded_at {value!r} is before 1990 or in the future")
    return moment.replace(tzinfo=None).isoformat()


def validate_response(item: object, where: str, config: CampaignConfig) -> dict[str, str | None]:
    """One response checked against the `responses` landing contract; a row for the file."""
    if not isinstance(item, dict):
        raise BadRequest(422, f"{where} must be a JSON object")
    allowed = {*REQUIRED_FIELDS, *OPTIONAL_ID_FIELDS, "responded_at"}
    unknown = sorted(str(key)[:40] for key in item if key not in allowed)
    if unknown:
        raise BadRequest(422, f"{where}: unknown field(s) {unknown}")
    row: dict[str, str | None] = {}
    for name in (*REQUIRED_FIELDS, *OPTIONAL_ID_FIELDS):
        value = item.get(name)
        if value is None and name in OPTIONAL_ID_FIELDS:
            row[name] = None
            continue
        if value is None:
            raise BadRequest(422, f"{where}.{name} is required")
        if not isinstance(value, str):
            raise BadRequest(422, f"{where}.{name} must be a string")
        if name not in ("channel", "response_type") and not is_valid_customer_id(value):
            raise BadRequest(422, f"{where}.{name} must be 1-64 letters, digits, '_' or '-'")
        row[name] = value
    if row["channel"] not in config.channel_codes:
        raise BadRequest(422, f"{where}.channel {row['channel']!r} is not a configured channel")
    types = [kind.response_type for kind in config.response_types]
    if row["response_type"] not in types:
        raise BadRequest(422, f"{where}.response_type {row['response_type']!r} not in {types}")
    row["responded_at"] = (
        _parse_timestamp(item["responded_at"], where)
        if "responded_at" in item
        else dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    )
    return row


def parse_responses(body: bytes, config: CampaignConfig) -> list[dict[str, str | None]]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(400, f"body is not valid JSON: {error}") from error
    items = document if isinstance(document, list) else [document]
    if not items or len(items) > MAX_BATCH:
        raise BadRequest(422, f"send 1 to {MAX_BATCH} responses")
    rows = [
        validate_response(item, f"responses[{index}]", config) for index, item in enumerate(items)
    ]
    ids = [row["response_id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise BadRequest(422, "duplicate response_id in the batch")
    return rows


def _unknown_ids(con: Any, relation: str, column: str, values: set[str]) -> list[str]:
    found = con.execute(
        f"select {column} from {relation} where {column} in (select unnest(?::varchar[]))",
        [sorted(values)],
    ).fetchall()
    return sorted(values - {row[0] for row in found})


def check_known(state: ServiceState, rows: list[dict[str, str | None]]) -> None:
    """Customers and offers must exist in the published snapshot (404 / 422)."""
    con = state.snapshot.cursor()
    with con:
        customers = {str(row["customer_id"]) for row in rows}
        offers = {str(row["offer_id"]) for row in rows}
        missing_customers = _unknown_ids(con, "core.dim_customer", "customer_id", customers)
        missing_offers = _unknown_ids(con, "core.dim_offer", "offer_id", offers)
    if missing_customers:
        raise HTTPException(404, f"unknown customer(s) {missing_customers[:10]}")
    if missing_offers:
        raise BadRequest(422, f"unknown offer(s) {missing_offers[:10]}")


def write_landing_file(landing_dir: Path, rows: list[dict[str, str | None]]) -> Path:
    """Append the responses as a new JSON-lines landing file, complete when it appears."""
    folder = landing_dir / RESPONSE_SOURCE
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    target = folder / f"{API_FILE_PREFIX}{stamp}_{digest}.jsonl"
    staged = folder / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with staged.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return target


async def post_responses(request: Request) -> JSONResponse:
    _check_token(request)
    state = _state(request)
    body = await _read_body(request)
    rows = parse_responses(body, state.config)
    try:
        await run_in_threadpool(check_known, state, rows)
    except SnapshotMissingError as error:
        raise HTTPException(503, str(error)) from error
    path = await run_in_threadpool(write_landing_file, state.settings.landing_dir, rows)
    return JSONResponse({"accepted": len(rows), "file": path.name}, status_code=202)


# --- the application ---------------------------------------------------------------------------


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return JSONResponse(
        {"error": error.detail, "status": error.status_code},
        status_code=error.status_code,
        headers=error.headers,
    )


@asynccontextmanager
async def _attach_at_start(app: Starlette) -> AsyncIterator[None]:
    """Attach the snapshot (and build its lookups) before the first request, not during it:
    with several workers, each would otherwise make its first callers wait."""
    # no snapshot yet: /health says so, and the first request after the first publish attaches
    with suppress(SnapshotMissingError):
        await run_in_threadpool(app.state.cmart.snapshot.cursor)
    yield


def create_app(
    settings: Settings,
    *,
    token: str | None = None,
    config: CampaignConfig | None = None,
    attach_at_start: bool = False,
) -> Starlette:
    app = Starlette(
        lifespan=_attach_at_start if attach_at_start else None,
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/customers/{customer_id}", get_customer, methods=["GET"]),
            Route("/customers/{customer_id}/offers", get_customer_offers, methods=["GET"]),
            Route("/responses", post_responses, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.cmart = ServiceState(
        settings=settings,
        config=config or load_config(settings.config_dirs),
        snapshot=PublishedSnapshot(published_path(settings.published_dir)),
        token=token or None,
    )
    return app


def app_from_environment() -> Starlette:
    """The app of a worker process (`cmart serve --workers N`): settings from the environment
    (CMART_DATA_DIR, set by :func:`serve`)."""
    return create_app(Settings.from_env(), token=os.environ.get(TOKEN_ENV), attach_at_start=True)


def serve(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1
) -> None:
    """Serve the API. One worker process answers one request at a time in Python (the lookups
    themselves run in DuckDB); more workers answer in parallel, each with its own read-only
    attachment of the snapshot."""
    import uvicorn

    if workers <= 1:
        app = create_app(settings, token=os.environ.get(TOKEN_ENV), attach_at_start=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    os.environ["CMART_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "cmart.api:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
