"""Loaders: landing files → raw schema, validated, idempotent, nothing lost."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmart.config import CampaignConfig, load_config
from cmart.settings import DEFAULT_CONFIG_DIR
from loaders import SOURCES, SourceLoadReport, ensure_raw_schema, load_landing, load_source
from loaders.load import LoadSession

CONTACT_COLUMNS = [
    "contact_id",
    "customer_id",
    "offer_id",
    "channel",
    "contacted_at",
    "cell",
    "is_control",
    "rep_id",
    "branch_id",
]
GOOD_CONTACTS = [
    ["K1", "C1", "O1", "sms", "2025-06-01T08:15:00", "A", "false", "R1", "B1"],
    ["K2", "C2", "O1", "email", "2025-06-02T09:30:00", "B", "true", "", ""],
]
CUSTOMER_COLUMNS = ["customer_id", "national_id", "birth_date", "gender", "updated_at"]


@dataclass
class Landing:
    """A landing dir and a warehouse in a temp dir, with helpers to write files and load."""

    root: Path
    config: CampaignConfig

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse" / "campaign_mart.duckdb"

    def path(self, source: str, name: str) -> Path:
        folder = self.landing_dir / source
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def csv(self, source: str, name: str, header: Sequence[str], rows: Sequence[Sequence]) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        path = self.path(source, name)
        data = buffer.getvalue().encode()
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        return path

    def jsonl(self, source: str, name: str, records: Sequence[dict | str]) -> Path:
        lines = [item if isinstance(item, str) else json.dumps(item) for item in records]
        path = self.path(source, name)
        path.write_text("\n".join(lines) + "\n")
        return path

    def parquet(self, source: str, name: str, table: pa.Table) -> Path:
        path = self.path(source, name)
        pq.write_table(table, path)
        return path

    def load(self, sources: Sequence[str] | None = None, **options) -> list[SourceLoadReport]:
        options.setdefault("progress", lambda _: None)
        return load_landing(
            self.warehouse, self.landing_dir, self.config, sources=sources, **options
        )

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def quarantine(self) -> dict[tuple[str, int], str]:
        rows = self.query('select file, "row", reason from raw._quarantine')
        return {(file, row): reason for file, row, reason in rows}

    def state(self) -> dict[str, list[tuple]]:
        """Everything the loads wrote, without load times (which differ between runs)."""
        tables = {
            "contacts": "select * exclude (_loaded_at) from raw.contacts",
            "customers": "select * exclude (_loaded_at) from raw.customers",
            "quarantine": "select * exclude (quarantined_at) from raw._quarantine",
            "manifest": "select * exclude (loaded_at) from raw._load_manifest",
            "validation": "select * from raw._validation_result",
        }
        return {name: sorted(self.query(sql), key=repr) for name, sql in tables.items()}


@pytest.fixture(scope="module")
def config() -> CampaignConfig:
    return load_config([DEFAULT_CONFIG_DIR])


@pytest.fixture
def landing(tmp_path: Path, config: CampaignConfig) -> Landing:
    return Landing(tmp_path, config)


def _contacts_table(rows: Sequence[Sequence[str]]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {name: list(values) for name, values in zip(CONTACT_COLUMNS, columns, strict=True)}
    )


def _contact_records(rows: Sequence[Sequence[str]]) -> list[dict]:
    return [dict(zip(CONTACT_COLUMNS, row, strict=True)) for row in rows]


def _only_file(reports: list[SourceLoadReport]):
    (report,) = reports
    (file,) = report.files
    return file


EXPECTED_CONTACTS = [
    ("K1", "C1", "O1", "sms", dt.datetime(2025, 6, 1, 8, 15), "A", False, "R1", "B1", 1),
    ("K2", "C2", "O1", "email", dt.datetime(2025, 6, 2, 9, 30), "B", True, None, None, 2),
]
CONTACT_SELECT = f"select {', '.join(CONTACT_COLUMNS)}, _row from raw.contacts order by _row"


@pytest.mark.parametrize("extension", [".csv", ".csv.gz", ".jsonl", ".parquet"])
def test_each_landing_format_loads_the_same_typed_rows(landing: Landing, extension: str):
    name = f"contacts_001{extension}"
    if extension == ".jsonl":
        records = _contact_records(GOOD_CONTACTS)
        records[0]["is_control"] = False  # JSON's own boolean
        for record in records:
            record.update({key: None for key, value in record.items() if value == ""})
        landing.jsonl("contacts", name, records)
    elif extension == ".parquet":
        rows = [[value or None for value in row] for row in GOOD_CONTACTS]
        landing.parquet("contacts", name, _contacts_table(rows))
    else:
        landing.csv("contacts", name, CONTACT_COLUMNS, GOOD_CONTACTS)

    file = _only_file(landing.load(["contacts"]))

    assert (file.status, file.rows_read, file.rows_loaded, file.rows_quarantined) == (
        "loaded",
        2,
        2,
        0,
    )
    assert landing.query(CONTACT_SELECT) == EXPECTED_CONTACTS
    assert landing.query("select distinct _file from raw.contacts") == [(f"contacts/{name}",)]


def test_parquet_with_native_types_is_converted_not_reparsed(landing: Landing):
    paris = pa.array([dt.datetime(2025, 6, 1, 6, 15)], pa.timestamp("us", tz="UTC")).cast(
        pa.timestamp("us", tz="Europe/Paris")
    )
    table = pa.table(
        {
            "customer_id": ["C1"],
            "national_id": ["N1"],
            "birth_date": pa.array([dt.date(1980, 2, 29)], pa.date32()),
            "updated_at": paris,
            "loyalty_points": pa.array([12], pa.int64()),
        }
    )
    landing.parquet("customers", "customers.parquet", table)

    file = _only_file(landing.load(["customers"]))

    assert file.rows_loaded == 1
    rows = landing.query("select birth_date, updated_at, _extra from raw.customers")
    assert rows == [(dt.date(1980, 2, 29), dt.datetime(2025, 6, 1, 6, 15), '{"loyalty_points":12}')]


def test_loading_twice_changes_nothing(landing: Landing):
    landing.csv("contacts", "contacts_001.csv", CONTACT_COLUMNS, GOOD_CONTACTS)
    landing.csv("customers", "customers.csv", ["customer_id"], [["C1"]])  # rejected whole
    landing.load()
    before = landing.state()

    reports = landing.load()

    assert landing.state() == before
    statuses = {file.status for report in reports for file in report.files}
    assert statuses == {"skipped_already_loaded"}


def test_the_same_content_under_two_names_loads_once(landing: Landing):
    landing.csv("contacts", "contacts_001.csv", CONTACT_COLUMNS, GOOD_CONTACTS)
    landing.csv("contacts", "contacts_002.csv", CONTACT_COLUMNS, GOOD_CONTACTS)

    (report,) = landing.load(["contacts"])

    assert [(file.path, file.status) for file in report.files] == [
        ("contacts/contacts_001.csv", "loaded"),
        ("contacts/contacts_002.csv", "duplicate_content"),
    ]
    assert "same content as contacts/contacts_001.csv" in report.files[1].message
    assert landing.query("select count(*) from raw.contacts") == [(2,)]
    manifest = landing.query(
        "select file, status, rows_loaded from raw._load_manifest order by file"
    )
    assert manifest == [
        ("contacts/contacts_001.csv", "loaded", 2),
        ("contacts/contacts_002.csv", "duplicate_content", 0),
    ]


def test_file_missing_required_columns_is_rejected_and_its_rows_quarantined(landing: Landing):
    landing.csv("customers", "customers_02.csv", ["customer_id", "first_name"], [["C1", "Ann"]] * 3)

    file = _only_file(landing.load(["customers"]))

    expected = (
        "customers/customers_02.csv: missing required column(s) national_id, updated_at "
        "(found: customer_id, first_name). Fix the export and land the file again."
    )
    assert (file.status, file.message) == ("rejected", expected)
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (3, 0, 3)
    assert set(landing.quarantine().values()) == {expected}
    assert landing.query("select count(*) from raw.customers") == [(0,)]
    records = landing.query("select record from raw._quarantine order by row limit 1")
    assert json.loads(records[0][0]) == {"customer_id": "C1", "first_name": "Ann"}


def test_bad_rows_are_quarantined_with_their_reason_and_the_rest_loads(landing: Landing):
    landing.csv(
        "contacts",
        "contacts.csv",
        CONTACT_COLUMNS,
        [
            GOOD_CONTACTS[0],
            ["K2", "", "O1", "sms", "2025-06-01T08:15:00", "A", "", "", ""],
            ["K3", "C3", "O1", "fax", "2025-06-01T08:15:00", "A", "", "", ""],
            ["K4", "C4", "O1", "sms", "yesterday", "A", "", "", ""],
        ],
    )
    landing.csv(
        "customers",
        "customers.csv",
        CUSTOMER_COLUMNS,
        [
            ["C1", "N1", "1850-01-01", "F", "2025-06-01T00:00:00"],
            ["C2", "N2", "1980-05-17", "M", "2025-06-01T00:00:00"],
        ],
    )

    reports = landing.load(["contacts", "customers"])

    quarantine = landing.quarantine()
    assert quarantine[("contacts/contacts.csv", 2)] == "not_null: customer_id is empty"
    assert quarantine[("contacts/contacts.csv", 3)].startswith(
        "in_set: channel='fax' is not one of branch, atm, internet"
    )
    assert quarantine[("contacts/contacts.csv", 4)] == (
        "parse: contacted_at='yesterday' is not a valid timestamp"
    )
    assert quarantine[("customers/customers.csv", 1)] == (
        "range: birth_date=1850-01-01 is before 1900-01-01"
    )
    assert len(quarantine) == 4
    assert landing.query("select contact_id from raw.contacts") == [("K1",)]
    assert landing.query("select customer_id from raw.customers") == [("C2",)]
    assert [report.rows_loaded for report in reports] == [1, 1]


def test_a_row_with_several_faults_lists_every_reason(landing: Landing):
    landing.csv(
        "contacts",
        "contacts.csv",
        CONTACT_COLUMNS,
        [["", "C1", "O1", "fax", "2025-06-01T08:15:00", "A", "maybe", "", ""]],
    )

    landing.load(["contacts"])

    (reason,) = landing.quarantine().values()
    parts = reason.split("; ")
    assert parts[0] == "parse: is_control='maybe' is not a valid boolean"
    assert parts[1] == "not_null: contact_id is empty"
    assert parts[2].startswith("in_set: channel='fax'")


def test_timestamps_with_offsets_are_stored_in_utc(landing: Landing):
    stamps = [
        "2025-06-01T08:15:00+02:00",
        "2025-06-01T06:15:00Z",
        "2025-06-01T00:45:00-05:30",
        "2025-06-01T06:15:00",
        "2025-06-01 06:15:00.000000",
    ]
    rows = [[f"K{i}", "C1", "O1", "sms", stamp, "", "", "", ""] for i, stamp in enumerate(stamps)]
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, rows)

    landing.load(["contacts"])

    stored = landing.query("select distinct contacted_at from raw.contacts")
    assert stored == [(dt.datetime(2025, 6, 1, 6, 15),)]
    assert landing.query("select count(*) from raw.contacts") == [(len(stamps),)]


def test_booleans_accept_true_false_one_zero_yes_no_in_any_case(landing: Landing):
    words = ["TRUE", "false", "1", "0", "Yes", "NO", ""]
    rows = [
        [f"K{i}", "C1", "O1", "sms", "2025-06-01T08:15:00", "", w, "", ""]
        for i, w in enumerate(words)
    ]
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, rows)

    landing.load(["contacts"])

    stored = landing.query("select is_control from raw.contacts order by _row")
    assert [value for (value,) in stored] == [True, False, True, False, True, False, None]


def test_unknown_columns_are_kept_as_json_in_extra(landing: Landing):
    header = [*CONTACT_COLUMNS, " Campaign Wave ", "agent_note"]
    rows = [GOOD_CONTACTS[0] + ["w1", "called twice"], GOOD_CONTACTS[1] + ["", "n/a"]]
    landing.csv("contacts", "contacts.csv", header, rows)

    landing.load(["contacts"])

    extras = [
        json.loads(value)
        for (value,) in landing.query("select _extra from raw.contacts order by _row")
    ]
    assert extras == [
        {"campaign wave": "w1", "agent_note": "called twice"},
        {"campaign wave": None, "agent_note": "n/a"},
    ]


def test_quoted_values_may_hold_commas_quotes_and_newlines(landing: Landing):
    header = ["branch_id", "branch_name", "city", "region"]
    rows = [["B1", 'Main "Old" Street, 1\nupstairs', "Lyon", "ARA"]]
    landing.csv("branches", "branches.csv", header, rows)

    landing.load(["branches"])

    assert landing.query("select branch_name from raw.branches") == [
        ('Main "Old" Street, 1\nupstairs',)
    ]


def test_header_only_file_loads_no_rows_and_an_empty_file_is_rejected(landing: Landing):
    landing.csv("reps", "reps_001.csv", ["rep_id", "rep_name", "branch_id"], [])
    landing.path("reps", "reps_002.csv").write_bytes(b"")

    (report,) = landing.load(["reps"])

    header_only, empty = report.files
    assert (header_only.status, header_only.rows_read) == ("loaded", 0)
    assert (empty.status, empty.message) == (
        "rejected",
        "reps/reps_002.csv: the file is empty (no header row). Export it again and land it.",
    )


def test_extra_is_null_when_the_file_has_no_unknown_columns(landing: Landing):
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, GOOD_CONTACTS)
    landing.load(["contacts"])
    assert landing.query("select count(*) from raw.contacts where _extra is null") == [(2,)]


def test_missing_optional_column_loads_as_null(landing: Landing):
    header = CONTACT_COLUMNS[:5]
    landing.csv("contacts", "contacts.csv", header, [row[:5] for row in GOOD_CONTACTS])

    landing.load(["contacts"])

    assert landing.query("select count(*) from raw.contacts where is_control is null") == [(2,)]


def test_later_row_for_the_same_key_is_loaded_too(landing: Landing):
    update = ["K1", "C1", "O1", "email", "2025-06-03T08:15:00", "A", "false", "R1", "B1"]
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, [GOOD_CONTACTS[0], update])
    landing.load(["contacts"])
    assert landing.query("select count(*) from raw.contacts where contact_id = 'K1'") == [(2,)]


def test_rows_read_equal_loaded_plus_quarantined_for_every_file(landing: Landing):
    bad = ["K9", "", "O1", "fax", "never", "", "perhaps", "", ""]
    landing.csv("contacts", "contacts_001.csv", CONTACT_COLUMNS, [*GOOD_CONTACTS, bad])
    landing.csv("contacts", "contacts_002.csv.gz", CONTACT_COLUMNS, [bad, bad])
    landing.jsonl("contacts", "contacts_003.jsonl", [*_contact_records(GOOD_CONTACTS), "{oops"])
    landing.csv("customers", "customers.csv", ["customer_id"], [["C1"], ["C2"]])

    reports = landing.load(["contacts", "customers"])

    for file in (file for report in reports for file in report.files):
        assert file.rows_read == file.rows_loaded + file.rows_quarantined, file
    manifest = landing.query(
        "select rows_read, rows_loaded, rows_quarantined from raw._load_manifest"
    )
    assert len(manifest) == 4
    assert all(read == loaded + quarantined for read, loaded, quarantined in manifest)
    loaded = landing.query("select count(*) from raw.contacts")[0][0]
    quarantined = landing.query("select count(*) from raw._quarantine")[0][0]
    assert (loaded, quarantined) == (4, 6)


def test_crash_mid_file_leaves_no_partial_rows_and_a_rerun_completes(
    landing: Landing, config: CampaignConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bad = ["K9", "C9", "O1", "fax", "2025-06-01T08:15:00", "", "", "", ""]
    files = {
        "contacts_001.csv": GOOD_CONTACTS,
        "contacts_002.csv": [["K3", "C3", "O2", "sms", "2025-06-03T08:15:00", "", "", "", ""], bad],
    }
    for name, rows in files.items():
        landing.csv("contacts", name, CONTACT_COLUMNS, rows)
    insert_rows = LoadSession._insert_rows

    def crash_on_second_file(self, spec, batch, anti_join):
        insert_rows(self, spec, batch, anti_join)
        if batch.file.endswith("002.csv"):
            raise RuntimeError("simulated crash after the raw insert")

    monkeypatch.setattr(LoadSession, "_insert_rows", crash_on_second_file)
    with pytest.raises(RuntimeError, match="simulated crash"):
        landing.load(["contacts"])

    assert landing.query("select distinct _file from raw.contacts") == [
        ("contacts/contacts_001.csv",)
    ]
    assert landing.query("select file from raw._load_manifest") == [("contacts/contacts_001.csv",)]
    assert landing.query("select count(*) from raw._quarantine") == [(0,)]
    assert landing.query("select distinct file from raw._validation_result") == [
        ("contacts/contacts_001.csv",)
    ]

    monkeypatch.setattr(LoadSession, "_insert_rows", insert_rows)
    (report,) = landing.load(["contacts"])
    assert [file.status for file in report.files] == ["skipped_already_loaded", "loaded"]

    uninterrupted = Landing(tmp_path / "uninterrupted", config)
    for name, rows in files.items():
        uninterrupted.csv("contacts", name, CONTACT_COLUMNS, rows)
    uninterrupted.load(["contacts"])
    assert landing.state() == uninterrupted.state()


def test_corrupt_parquet_and_truncated_gzip_are_rejected_without_stopping_other_files(
    landing: Landing,
):
    landing.path("contacts", "contacts_001.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    lines = [",".join(row) for row in [CONTACT_COLUMNS, *GOOD_CONTACTS * 2000]]
    good_gzip = gzip.compress("\n".join(lines).encode())
    landing.path("contacts", "contacts_002.csv.gz").write_bytes(good_gzip[: len(good_gzip) // 2])
    landing.csv("contacts", "contacts_003.csv", CONTACT_COLUMNS, GOOD_CONTACTS)

    (report,) = landing.load(["contacts"])

    statuses = {file.path: (file.status, file.rows_loaded) for file in report.files}
    assert statuses == {
        "contacts/contacts_001.parquet": ("rejected", 0),
        "contacts/contacts_002.csv.gz": ("rejected", 0),
        "contacts/contacts_003.csv": ("loaded", 2),
    }
    parquet, gz = report.files[0].message, report.files[1].message
    assert parquet.startswith("contacts/contacts_001.parquet: cannot be read as Parquet")
    assert gz.startswith("contacts/contacts_002.csv.gz: cannot be read as CSV")
    assert "export it again and land the new file" in gz
    assert landing.query("select count(*) from raw.contacts") == [(2,)]
    rejected = landing.query("select file from raw._load_manifest where status = 'rejected'")
    assert len(rejected) == 2


def test_non_utf8_csv_is_rejected_with_a_clear_message(landing: Landing):
    text = "contact_id,customer_id,offer_id,channel,contacted_at\nK1,Jos\xe9,O1,sms,2025-06-01\n"
    landing.path("contacts", "contacts.csv").write_bytes(text.encode("latin-1"))

    file = _only_file(landing.load(["contacts"]))

    assert file.status == "rejected"
    assert "not UTF-8" in file.message


def test_unsupported_extension_is_rejected_and_hidden_files_are_ignored(landing: Landing):
    landing.path("contacts", "contacts.xlsx").write_bytes(b"PK\x03\x04")
    landing.csv("contacts", ".contacts_tmp.csv", CONTACT_COLUMNS, GOOD_CONTACTS)
    landing.csv("contacts", "_incoming.csv", CONTACT_COLUMNS, GOOD_CONTACTS)

    file = _only_file(landing.load(["contacts"]))

    assert (file.path, file.status) == ("contacts/contacts.xlsx", "rejected")
    assert "unsupported extension" in file.message
    assert landing.query("select count(*) from raw.contacts") == [(0,)]


def test_broken_json_line_is_quarantined_and_the_other_lines_load(landing: Landing):
    records = [*_contact_records(GOOD_CONTACTS[:1]), '{"contact_id": "K2", "customer_', "[1, 2]"]
    records.append(_contact_records(GOOD_CONTACTS[1:])[0])
    landing.jsonl("contacts", "contacts.jsonl", records)

    file = _only_file(landing.load(["contacts"]))

    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (4, 2, 2)
    quarantined = landing.query('select "row", reason, record from raw._quarantine order by "row"')
    assert [(row, reason) for row, reason, _ in quarantined] == [
        (2, "parse: line is not a valid JSON object"),
        (3, "parse: line is not a valid JSON object"),
    ]
    assert json.loads(quarantined[0][2]) == {"_line": '{"contact_id": "K2", "customer_'}


def test_empty_json_lines_file_is_rejected_for_its_missing_columns(landing: Landing):
    landing.path("contacts", "contacts.jsonl").write_bytes(b"")

    file = _only_file(landing.load(["contacts"]))

    assert (file.status, file.rows_read) == ("rejected", 0)
    assert "missing required column(s) contact_id, customer_id" in file.message
    assert "(found: none)" in file.message


def test_csv_with_a_byte_order_mark_and_crlf_line_ends_loads(landing: Landing):
    text = ",".join(CONTACT_COLUMNS) + "\r\n" + ",".join(GOOD_CONTACTS[0]) + "\r\n"
    landing.path("contacts", "contacts.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())

    file = _only_file(landing.load(["contacts"]))

    assert (file.status, file.rows_loaded) == ("loaded", 1)
    assert landing.query("select contact_id, branch_id from raw.contacts") == [("K1", "B1")]


@pytest.mark.parametrize("extension", [".csv", ".jsonl", ".parquet"])
def test_a_file_read_in_several_chunks_loads_like_one(landing: Landing, extension: str):
    bad = ["K9", "C9", "O1", "fax", "2025-06-01T08:15:00", "", "", "", ""]
    rows = [GOOD_CONTACTS[0], GOOD_CONTACTS[1], bad, GOOD_CONTACTS[0], GOOD_CONTACTS[1]]
    name = f"contacts{extension}"
    if extension == ".csv":
        landing.csv("contacts", name, CONTACT_COLUMNS, rows)
    elif extension == ".jsonl":
        landing.jsonl("contacts", name, _contact_records(rows))
    else:
        landing.parquet("contacts", name, _contacts_table(rows))

    file = _only_file(landing.load(["contacts"], chunk_rows=2))

    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (5, 4, 1)
    assert landing.query("select _row from raw.contacts order by _row") == [(1,), (2,), (4,), (5,)]
    assert list(landing.quarantine()) == [(f"contacts/{name}", 3)]
    in_set = next(r for r in file.validation if r.expectation_type.endswith("to_be_in_set"))
    assert (in_set.element_count, in_set.unexpected_count, in_set.success) == (5, 1, False)


def test_offer_listing_an_unknown_channel_is_quarantined(landing: Landing):
    header = [
        "offer_id",
        "campaign_id",
        "product_id",
        "offer_name",
        "channels",
        "valid_from",
        "valid_to",
    ]
    rows = [
        ["OF1", "CA1", "savings", "Save", "sms|email", "2025-01-01", "2025-12-31"],
        ["OF2", "CA1", "savings", "Save", "sms|fax", "2025-01-01", "2025-12-31"],
    ]
    landing.csv("offers", "offers.csv", header, rows)

    landing.load(["offers"])

    (reason,) = landing.quarantine().values()
    assert reason.startswith("pipe_list_in_set: channels='sms|fax' has element(s) not in branch")
    assert reason.endswith(": fax")
    assert landing.query("select offer_id from raw.offers") == [("OF1",)]


def test_timestamp_beyond_now_plus_a_day_of_skew_is_quarantined(landing: Landing):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    soon, later = now + dt.timedelta(hours=6), now + dt.timedelta(days=3)
    rows = [
        ["K1", "C1", "O1", "sms", soon.isoformat(), "", "", "", ""],
        ["K2", "C1", "O1", "sms", later.isoformat(), "", "", "", ""],
    ]
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, rows)

    landing.load(["contacts"])

    (reason,) = landing.quarantine().values()
    assert reason.startswith(f"range: contacted_at={later.isoformat()} is after ")
    assert landing.query("select contact_id from raw.contacts") == [("K1",)]


def test_validation_results_are_recorded_per_file_and_reported_per_source(landing: Landing):
    bad = ["K9", "C9", "O1", "fax", "2025-06-01T08:15:00", "", "", "", ""]
    landing.csv("contacts", "contacts_001.csv", CONTACT_COLUMNS, [*GOOD_CONTACTS, bad])
    landing.csv("contacts", "contacts_002.csv", CONTACT_COLUMNS, [bad])

    (report,) = landing.load(["contacts"])

    in_set = next(r for r in report.validation if r.expectation_type.endswith("to_be_in_set"))
    assert (in_set.column, in_set.success, in_set.unexpected_count) == ("channel", False, 2)
    assert in_set.examples[0] == "fax"
    recorded = landing.query(
        "select file, unexpected_count, unexpected_percent from raw._validation_result "
        "where expectation_type = 'expect_column_values_to_be_in_set' order by file"
    )
    assert recorded == [
        ("contacts/contacts_001.csv", 1, pytest.approx(100 / 3)),
        ("contacts/contacts_002.csv", 1, 100.0),
    ]
    header_checks = landing.query(
        "select count(*) from raw._validation_result "
        "where expectation_type = 'expect_table_columns_to_match_set' and success"
    )
    assert header_checks == [(2,)]


def test_progress_reports_one_line_per_file(landing: Landing):
    landing.csv("contacts", "contacts.csv", CONTACT_COLUMNS, GOOD_CONTACTS)
    lines: list[str] = []
    load_source(
        landing.warehouse, landing.landing_dir, "contacts", landing.config, progress=lines.append
    )
    (line,) = lines
    assert line.startswith("contacts/contacts.csv: 2 read, 2 loaded, 0 quarantined (")


def test_source_without_a_landing_folder_loads_nothing(landing: Landing):
    (report,) = landing.load(["reps"])
    assert (report.source, report.files, report.rows_loaded) == ("reps", [], 0)


def test_unknown_source_is_an_error(landing: Landing):
    with pytest.raises(ValueError, match="unknown source"):
        landing.load(["fax_logs"])


def test_ensure_raw_schema_is_idempotent_and_adds_columns_new_in_the_contract(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        ensure_raw_schema(con)
        con.execute("alter table raw.reps drop column rep_name")
        ensure_raw_schema(con)
        ensure_raw_schema(con)
        columns = [row[0] for row in con.execute("describe raw.reps").fetchall()]
        tables = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    assert "rep_name" in columns
    assert tables == [(len(SOURCES) + 3,)]
