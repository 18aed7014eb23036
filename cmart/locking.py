"""One writer: an exclusive lock on the warehouse for the length of a pipeline run.

DuckDB allows one read-write process per file. A second run started while one is going on
either waits (``timeout`` seconds) or refuses with a message that says who holds the lock —
never two writers on one file.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

LOCK_FILE = ".pipeline.lock"


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse lock."""


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOCK_FILE


HOLDER_WAIT_SECONDS = 2.0  # how long a refused run waits for the holder to write its details


def _read_holder(handle: IO[str]) -> dict[str, object]:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        return {}  # caught mid-write
    return info if isinstance(info, dict) else {}


def _holder(handle: IO[str], wait: float = HOLDER_WAIT_SECONDS) -> str:
    """Who holds the lock. The holder writes its details just after taking the lock, so a
    run refused in between finds the file empty: read again for up to ``wait`` seconds."""
    deadline = time.monotonic() + wait
    info = _read_holder(handle)
    while "pid" not in info and time.monotonic() < deadline:
        time.sleep(0.05)
        info = _read_holder(handle)
    if "pid" not in info:
        return "an unknown process"
    return f"pid {info['pid']} ({info.get('what', '?')}) since {info.get('since', '?')}"


@contextmanager
def warehouse_lock(warehouse_dir: Path, *, what: str, timeout: float = 0.0) -> Iterator[None]:
    """Hold the exclusive pipeline lock; wait up to ``timeout`` seconds for it."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse_dir)
    with path.open("a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"the warehouse {warehouse_dir} is busy: another pipeline run holds "
                        f"{path} ({_holder(handle)}). Wait for it to finish, or pass "
                        "--wait SECONDS to queue behind it."
                    ) from None
                time.sleep(0.5)
        try:
            handle.seek(0)
            handle.truncate()
            since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            handle.write(json.dumps({"pid": os.getpid(), "what": what, "since": since}))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
