"""One writer: a second pipeline run refuses (or waits) while another holds the warehouse."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from cmart.cli import main
from cmart.locking import WarehouseBusyError, warehouse_lock


def test_second_holder_is_refused_with_a_message_naming_the_first(tmp_path):
    refused = pytest.raises(WarehouseBusyError, match=r"pid \d+ \(first run\)")
    with (
        warehouse_lock(tmp_path, what="first run"),
        refused,
        warehouse_lock(tmp_path, what="second run"),
    ):
        pass
    with warehouse_lock(tmp_path, what="third run"):  # released: free again
        pass


def test_a_run_refused_before_the_holder_wrote_its_details_still_names_it(tmp_path):
    """The holder takes the lock, then writes who it is: a run refused in between waits for
    the details instead of printing 'pid ?'."""
    import fcntl
    import json
    import threading

    from cmart.locking import lock_path

    with lock_path(tmp_path).open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # taken, nothing written yet

        def write_details() -> None:
            time.sleep(0.3)
            handle.write(json.dumps({"pid": 4242, "what": "slow starter", "since": "now"}))
            handle.flush()

        writer = threading.Thread(target=write_details)
        writer.start()
        with (
            pytest.raises(WarehouseBusyError, match=r"pid 4242 \(slow starter\)"),
            warehouse_lock(tmp_path, what="second run"),
        ):
            pass
        writer.join()


def test_waiting_holder_gets_the_lock_when_the_first_releases(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import time
                from pathlib import Path
                from cmart.locking import warehouse_lock
                with warehouse_lock(Path({str(tmp_path)!r}), what="holder"):
                    print("locked", flush=True)
                    time.sleep(2)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseBusyError), warehouse_lock(tmp_path, what="impatient"):
            pass
        started = time.monotonic()
        with warehouse_lock(tmp_path, what="patient", timeout=30):
            waited = time.monotonic() - started
        assert 0.2 < waited < 30
    finally:
        holder.wait(timeout=30)


def test_cmart_run_refuses_while_another_run_holds_the_warehouse(tmp_path, capsys):
    data_dir = tmp_path / "data"
    with warehouse_lock(data_dir / "warehouse", what="dagster run abc"):
        code = main(["run", "--data-dir", str(data_dir), "--run-date", "2026-11-29"])
    assert code == 2
    error = capsys.readouterr().err
    assert "busy" in error and "dagster run abc" in error and "--wait" in error


def test_cmart_load_refuses_while_a_run_holds_the_warehouse(tmp_path, capsys):
    data_dir = tmp_path / "data"
    with warehouse_lock(data_dir / "warehouse", what="dagster run abc"):
        code = main(["load", "--data-dir", str(data_dir)])
    assert code == 2
    error = capsys.readouterr().err
    assert "busy" in error and "dagster run abc" in error
    assert not (data_dir / "warehouse" / "campaign_mart.duckdb").exists()  # nothing written


def test_republish_refuses_while_a_run_holds_the_warehouse(tmp_path, capsys):
    from cmart.republish import main as republish

    data_dir = tmp_path / "data"
    with warehouse_lock(data_dir / "warehouse", what="dagster run abc"):
        code = republish(["--data-dir", str(data_dir), "--run-date", "2026-11-29"])
    assert code == 2
    assert "dagster run abc" in capsys.readouterr().out
