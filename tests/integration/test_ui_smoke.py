"""`cmart ui` starts the Dagster webserver on the project's definitions."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cmart.settings import Settings
from tests.conftest import reuse_dbt_manifest

pytestmark = pytest.mark.slow

ASSETS_QUERY = "{ assetNodes { assetKey { path } groupName } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _wait_for_assets(port: int, process: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"cmart ui exited early with code {process.returncode}")
        try:
            answer = _graphql(port, ASSETS_QUERY)
            if answer.get("data", {}).get("assetNodes"):
                return answer
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            last_error = error
        time.sleep(1)
    raise AssertionError(f"the UI did not answer within {timeout}s: {last_error}")


def test_cmart_ui_serves_the_asset_graph_over_graphql(tmp_path: Path, dbt_manifest: Path):
    # the session's parsed dbt manifest: the UI starts without a `dbt parse` of its own
    reuse_dbt_manifest(dbt_manifest, Settings(data_dir=tmp_path / "data"))
    port = _free_port()
    cmart = Path(sys.executable).parent / "cmart"
    log = (tmp_path / "ui.log").open("w")
    process = subprocess.Popen(
        [str(cmart), "ui", "--data-dir", str(tmp_path / "data"), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "CMART_DATA_DIR": str(tmp_path / "data")},
    )
    try:
        answer = _wait_for_assets(port, process, timeout=180)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    keys = {"/".join(node["assetKey"]["path"]) for node in answer["data"]["assetNodes"]}
    groups = {node["groupName"] for node in answer["data"]["assetNodes"]}
    assert {
        "raw/customers",
        "raw/responses",
        "config/channels",
        "decisioning/nbo",
        "exports/sms",
    } <= keys
    assert {"ingest", "staging", "decisioning", "exports"} <= groups
