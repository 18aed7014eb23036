"""Live lookups on the published snapshot: the customer-360 card and a customer's offers.

Read-only by construction: the snapshot (data/published/campaign_mart.duckdb) is attached
READ_ONLY into a private in-memory DuckDB, so the pipeline (the one writer) is never blocked.
`publish` renames a new file into place; :class:`PublishedSnapshot` notices the new inode and
attaches it afresh in the background (a plain ``duckdb.connect(path)`` would return the
process-wide cached instance of the old file). On attach, each customer's offers and
suppression reasons of the day are rendered once into an indexed in-memory lookup, so a
request is one index probe. The HTTP service and `cmart offers` share these functions.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cmart.publish import PUBLISHED_FILE
from loaders.schema import table_columns

CUSTOMER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CARD_RELATION = "core.customer_360"
NBO_RELATION = "decisioning.nbo"
ELIGIBILITY_RELATION = "decisioning.fct_offer_eligibility"
OFFER_RELATION = "core.dim_offer"
ALIAS = "published"
LOGGER = logging.getLogger(__name__)


class SnapshotMissingError(RuntimeError):
    """No published snapshot yet (the daily run has not published)."""


@dataclass(frozen=True)
class _Attached:
    connection: duckdb.DuckDBPyConnection
    stamp: tuple[int, int, int]


def is_valid_customer_id(value: str) -> bool:
    """Letters, digits, `_` and `-`, 1-64 characters: nothing path-like, nothing long."""
    return bool(CUSTOMER_ID_PATTERN.fullmatch(value))


def published_path(published_dir: Path) -> Path:
    return published_dir / PUBLISHED_FILE


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


# The in-memory lookup, built once per attached file: one row per customer holding the
# day's offers and suppression reasons as JSON text, with an ART index on customer_id. A
# request is then one index probe and a `json.loads` (about 0.6 ms at 1M customers, against
# 5 ms for three probes of row-per-offer tables). Control-group rows are not offers.
LOOKUP_SCHEMA = "memory.lookup"
ANSWERS = f"{LOOKUP_SCHEMA}.answers"
_DECIDED = f"(select max(run_date) from {NBO_RELATION})"
_OFFERS = f"""
    select
        nbo.customer_id,
        to_json(list(struct_pack(
            offer_id := nbo.offer_id,
            offer_name := offers.offer_name,
            campaign_id := nbo.campaign_id,
            product_id := nbo.product_id,
            channel := nbo.channel,
            rank := nbo.rank,
            score := case when isfinite(nbo.score) then nbo.score end,
            cell := nbo.cell
        ) order by nbo.rank, nbo.offer_id)) as offers
    from {NBO_RELATION} as nbo
    left join {OFFER_RELATION} as offers
        on nbo.offer_id = offers.offer_id
    where nbo.run_date = {_DECIDED} and not nbo.is_control
    group by nbo.customer_id
"""
_SUPPRESSED = f"""
    select
        customer_id,
        to_json(list(struct_pack(
            offer_id := offer_id,
            channel := channel,
            reason := eligibility_status
        ) order by offer_id, channel)) as suppressed
    from {ELIGIBILITY_RELATION}
    where run_date = {_DECIDED} and eligibility_status <> 'eligible'
    group by customer_id
"""


def _answers_query(with_suppressed: bool) -> str:
    """One row per known customer: the decision date, offers and suppressed pairs (JSON text;
    suppressed is NULL for everyone when the snapshot has no eligibility log)."""
    if with_suppressed:
        suppressed_column = "coalesce(suppressed.suppressed, '[]')"
        suppressed_join = f"""left join ({_SUPPRESSED}) as suppressed
            on customers.customer_id = suppressed.customer_id"""
    else:
        suppressed_column, suppressed_join = "null::varchar", ""
    return f"""
        select
            customers.customer_id,
            {_DECIDED} as run_date,
            coalesce(offers.offers, '[]') as offers,
            {suppressed_column} as suppressed
        from {CARD_RELATION} as customers
        left join ({_OFFERS}) as offers
            on customers.customer_id = offers.customer_id
        {suppressed_join}
    """


def _build_lookups(connection: duckdb.DuckDBPyConnection, with_suppressed: bool) -> None:
    connection.execute(f"create schema {LOOKUP_SCHEMA}")
    connection.execute(f"create table {ANSWERS} as {_answers_query(with_suppressed)}")
    connection.execute(f"create index answers_by_customer on {ANSWERS} (customer_id)")


def _attach(path: Path, stamp: tuple[int, int, int]) -> _Attached:
    connection = duckdb.connect()
    connection.execute(f"attach '{path}' as {ALIAS} (read_only)")
    connection.execute(f"use {ALIAS}")
    has_log = bool(table_columns(connection, *ELIGIBILITY_RELATION.split(".")))
    _build_lookups(connection, with_suppressed=has_log)
    return _Attached(connection, stamp)


class PublishedSnapshot:
    """A read-only view of the published file, re-attached when the file is replaced.

    The first attachment makes its caller wait. A replaced file is attached in a background
    thread while requests go on being answered from the previous snapshot, so a re-publish
    never stalls the service for the time the lookup takes to build (tens of seconds at 1M).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._attached: _Attached | None = None
        self._pending: tuple[int, int, int] | None = None  # stamp being attached in background
        self._failed: tuple[int, int, int] | None = None  # stamp whose attachment failed
        self._per_thread = threading.local()  # (stamp, cursor) kept by thread_cursor()

    def _current(self) -> _Attached:
        stamp = _stamp(self.path)
        if stamp is None:
            raise SnapshotMissingError(f"no published snapshot at {self.path}")
        with self._lock:
            attached = self._attached
            if attached is None:
                self._attached = _attach(self.path, stamp)
                return self._attached
            if attached.stamp != stamp and stamp not in (self._pending, self._failed):
                self._pending = stamp
                threading.Thread(
                    target=self._attach_in_background,
                    args=(stamp,),
                    name="cmart-snapshot-attach",
                    daemon=True,
                ).start()
            # the previous connection is left to readers still using it; it closes when the
            # last cursor goes (the old inode lives until then)
            return attached

    def _attach_in_background(self, stamp: tuple[int, int, int]) -> None:
        try:
            attached = _attach(self.path, stamp)
        except Exception:
            LOGGER.exception("could not attach the new snapshot %s; serving the previous", stamp)
            with self._lock:
                self._pending, self._failed = None, stamp
            return
        with self._lock:
            if self._pending == stamp:
                self._attached, self._pending = attached, None

    def refresh(self, timeout: float = 600.0) -> bool:
        """Wait until the file on disk is the one attached (True), or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            stamp = _stamp(self.path)
            if stamp is not None and self._current().stamp == stamp:
                return True
            if time.monotonic() >= deadline or stamp == self._failed:
                return False
            time.sleep(0.05)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own (thread-safe use)."""
        attached = self._current()
        cursor = attached.connection.cursor()
        cursor.execute(f"use {ALIAS}")
        return cursor

    def thread_cursor(self) -> duckdb.DuckDBPyConnection:
        """The calling thread's cursor, kept while the file stays the same (opening one per
        request costs about a millisecond). The caller must not close it."""
        attached = self._current()
        kept = getattr(self._per_thread, "kept", None)
        if kept is None or kept[0] != attached.stamp:
            cursor = attached.connection.cursor()
            cursor.execute(f"use {ALIAS}")
            kept = (attached.stamp, cursor)
            self._per_thread.kept = kept
        return kept[1]


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN / infinity
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def rows_as_json(table: pa.Table) -> list[dict[str, Any]]:
    """Arrow rows as JSON-ready dicts (maps become objects, dates ISO strings)."""
    maps = {field.name for field in table.schema if pa.types.is_map(field.type)}
    rows = table.to_pylist()
    for row in rows:
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
    return [{key: _json_value(value) for key, value in row.items()} for row in rows]


def customer_card(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, Any] | None:
    """The customer-360 row of one customer, or None when unknown."""
    table = con.sql(
        f"select * from {CARD_RELATION} where customer_id = ?", params=[customer_id]
    ).to_arrow_table()
    rows = rows_as_json(table)
    return {key: _parsed_json_text(value) for key, value in rows[0].items()} if rows else None


def _parsed_json_text(value: Any) -> Any:
    """The marts keep maps as JSON text (portable SQL): hand them out as JSON objects."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _rows_on(rows: list[dict[str, Any]], channel: str | None) -> list[dict[str, Any]]:
    return rows if channel is None else [row for row in rows if row["channel"] == channel]


def customer_offers(
    con: duckdb.DuckDBPyConnection, customer_id: str, channel: str | None = None
) -> dict[str, Any] | None:
    """Current offers and suppression reasons of one customer (the first reason per offer and
    channel; None without an eligibility log); None when the customer is unknown."""
    found = con.execute(
        f"select run_date, offers, suppressed from {ANSWERS} where customer_id = ?",
        [customer_id],
    ).fetchone()
    if found is None:
        return None
    run_date, offers, suppressed = found
    answer: dict[str, Any] = {
        "customer_id": customer_id,
        "run_date": run_date.isoformat() if run_date else None,
        "channel": channel,
        "offers": [],
        "suppressed": None,
    }
    if run_date is None:
        return answer
    answer["offers"] = _rows_on(json.loads(offers), channel)
    if suppressed is not None:
        answer["suppressed"] = _rows_on(json.loads(suppressed), channel)
    return answer


def format_offers(answer: dict[str, Any]) -> str:
    """The answer of :func:`customer_offers` as terminal text."""
    scope = f" on {answer['channel']}" if answer["channel"] else ""
    lines = [f"customer {answer['customer_id']}: offers of {answer['run_date']}{scope}"]
    if not answer["offers"]:
        lines.append("  (no offer)")
    for offer in answer["offers"]:
        lines.append(
            f"  {offer['rank']:>2}. {offer['offer_id']:<10} {offer['channel']:<12} "
            f"score {offer['score']:.4f}  {offer.get('offer_name') or ''}".rstrip()
        )
    suppressed = answer["suppressed"]
    if suppressed is None:
        lines.append("suppressed: (no eligibility log in the published snapshot)")
    elif suppressed:
        lines.append("suppressed:")
        lines += [
            f"  {row['offer_id']:<10} {row['channel']:<12} {row['reason']}" for row in suppressed
        ]
    return "\n".join(lines)
