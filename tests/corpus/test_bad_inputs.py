"""Bad-input corpus: every kind of broken landing file ends loaded or quarantined/rejected.

Each folder of ``bad_inputs/`` holds landing files under ``<source>/`` and ``expected.yml``:
the decision, per file the manifest status, rows read/loaded/quarantined and a substring of the
manifest message and/or of every quarantine reason; ``caught_downstream`` says where a
cross-source fault (that a per-file loader cannot see) is caught. The files are loaded with the
real loader into a temporary warehouse.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml

from cmart.config import CampaignConfig, load_config
from cmart.exports import neutralise_formulas, write_channel_export
from cmart.settings import DBT_PROJECT_DIR, DEFAULT_CONFIG_DIR
from loaders import load_landing

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
KINDS = sorted(path.name for path in CORPUS.iterdir() if (path / "expected.yml").is_file())
DECISIONS = {"loaded", "quarantined", "rejected", "duplicate"}
STATUSES = {"loaded", "rejected", "duplicate_content", "skipped_already_loaded"}
INJECTION = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def config() -> CampaignConfig:
    return load_config([DEFAULT_CONFIG_DIR])


def _expected(kind: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / kind / "expected.yml").read_text(encoding="utf-8"))


def _landing_copy(kind: str, root: Path) -> tuple[Path, list[str]]:
    """Copy the kind's source folders into ``root/landing``; return it and the sources."""
    landing = root / "landing"
    sources = sorted(path.name for path in (CORPUS / kind).iterdir() if path.is_dir())
    for source in sources:
        shutil.copytree(CORPUS / kind / source, landing / source)
    return landing, sources


def _load(warehouse: Path, landing: Path, sources: list[str], config: CampaignConfig) -> None:
    load_landing(warehouse, landing, config, sources=sources, progress=lambda _: None)


def _manifest(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    rows = con.execute(
        "select file, status, rows_read, rows_loaded, rows_quarantined, coalesce(message, '') "
        "from raw._load_manifest"
    ).fetchall()
    names = ("status", "rows_read", "rows_loaded", "rows_quarantined", "message")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def _raw_rows(con: duckdb.DuckDBPyConnection, source: str, file: str) -> list[tuple[Any, ...]]:
    query = f'select _row, _extra from raw."{source}" where _file = ?'
    return con.execute(query, [file]).fetchall()


def test_corpus_covers_at_least_25_kinds_each_with_a_stated_decision() -> None:
    assert len(KINDS) >= 25
    for kind in KINDS:
        expected = _expected(kind)
        assert expected["decision"] in DECISIONS, kind
        assert expected["kind"], kind
        assert {item["status"] for item in expected["files"].values()} <= STATUSES, kind


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_ends_with_expected_outcome_and_every_row_accounted(
    kind: str, tmp_path: Path, config: CampaignConfig
) -> None:
    expected = _expected(kind)
    landing, sources = _landing_copy(kind, tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    _load(warehouse, landing, sources, config)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        manifest = _manifest(con)
        assert set(manifest) == set(expected["files"])
        for file, want in expected["files"].items():
            got = manifest[file]
            for field in ("status", "rows_read", "rows_loaded", "rows_quarantined"):
                assert got[field] == want[field], f"{kind}: {file} {field}"
            assert got["rows_read"] == got["rows_loaded"] + got["rows_quarantined"]
            assert want.get("message", "") in got["message"], f"{kind}: {file} message"
            source = file.split("/")[0]
            raw = _raw_rows(con, source, file)
            assert len(raw) == got["rows_loaded"]
            quarantined = con.execute(
                'select source, file, "row", reason from raw._quarantine where file = ?', [file]
            ).fetchall()
            assert len(quarantined) == got["rows_quarantined"]
            for q_source, q_file, q_row, reason in quarantined:
                assert (q_source, q_file) == (source, file)
                assert q_row is not None and q_row >= 1 and reason
                assert want.get("quarantine_reason", "") in reason, f"{kind}: {reason}"
            loaded_rows = {row for row, _ in raw}
            assert loaded_rows.isdisjoint(row for *_, row, _ in quarantined)
            for key in want.get("extra_keys", []):
                assert all(key in json.loads(extra) for _, extra in raw)


@pytest.mark.parametrize("kind", ["same_file_twice", "null_keys", "truncated_gzip"])
def test_loading_the_corpus_again_changes_nothing(
    kind: str, tmp_path: Path, config: CampaignConfig
) -> None:
    landing, sources = _landing_copy(kind, tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    _load(warehouse, landing, sources, config)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        before = _manifest(con), con.execute("select count(*) from raw._quarantine").fetchone()
    again = load_landing(warehouse, landing, config, sources=sources, progress=lambda _: None)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        after = _manifest(con), con.execute("select count(*) from raw._quarantine").fetchone()
    assert {item.status for report in again for item in report.files} == {"skipped_already_loaded"}
    assert after == before


def test_formula_names_are_neutralised_in_the_csv_export_but_kept_in_parquet(
    tmp_path: Path,
) -> None:
    table = pa.table(
        {
            "customer_id": ["C1", "C2"],
            "offer_id": ["O1", "O1"],
            "postal_address": [INJECTION, "+32 2 123 45 67"],
            "email": ["@SUM(A1:A9)", "ann@example.com"],
        }
    )
    export = write_channel_export(
        table,
        "direct_mail",
        dt.date(2026, 11, 29),
        tmp_path,
        run_id="test",
        config_version="v",
    )
    written = pacsv.read_csv(export.folder / "offers.csv").to_pydict()
    assert written["postal_address"] == ["'" + INJECTION, "+32 2 123 45 67"]
    assert written["email"] == ["'@SUM(A1:A9)", "ann@example.com"]
    parquet = pq.read_table(export.folder / "offers.parquet")
    assert parquet.column("postal_address").to_pylist()[0] == INJECTION


def test_every_formula_prefix_of_the_corpus_names_is_neutralised() -> None:
    names = ["=cmd|' /C calc'!A0", "@SUM(A1:A9)", '+HYPERLINK("http://x")', "-cmd|x", "\t=1"]
    safe = neutralise_formulas(pa.table({"name": names})).column("name").to_pylist()
    assert all(value.startswith("'") for value in safe)


def test_cross_source_faults_are_caught_where_expected_yml_says() -> None:
    """The per-file loader loads them; the dbt project must hold the check that catches them."""
    models = yaml.safe_load(
        (DBT_PROJECT_DIR / "models/marts/campaign/_campaign__models.yml").read_text()
    )
    (fct_response,) = [model for model in models["models"] if model["name"] == "fct_response"]
    columns = {column["name"]: column for column in fct_response["columns"]}

    def relationship_target(column: str) -> str:
        tests = columns[column].get("data_tests", [])
        (rel,) = [test["relationships"] for test in tests if isinstance(test, dict)]
        return rel["arguments"]["to"]

    assert relationship_target("customer_id") == "ref('dim_customer')"
    assert relationship_target("offer_id") == "ref('dim_offer')"
    attribution = (DBT_PROJECT_DIR / "models/intermediate/int_response_attributed.sql").read_text()
    assert "contacts.contacted_at > responses_classified.responded_at" in attribution
    for kind in ("response_unknown_customer_or_offer", "response_before_contact"):
        assert _expected(kind)["caught_downstream"]
