"""Logs hold no personal data: the daily run's Dagster event log and console messages, dbt's
logs, and `cmart load`'s console output never show an e-mail address, a phone number, a
national id, a name or an address from the landing customer files."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from cmart.cli import main

pytestmark = pytest.mark.slow

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DIGIT_RUN = re.compile(r"\+?\d[\d .\-/]{6,}\d")
SAMPLED_TEXTS = 400  # names and addresses: searched as substrings, so a sample


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


@dataclass(frozen=True)
class PersonalData:
    emails: frozenset[str]
    numbers: frozenset[str]  # national ids and phones, digits only (national and +32 forms)
    texts: tuple[str, ...]  # full names and addresses (a sample)

    @classmethod
    def of_landing(cls, landing: Path, seed: int = 7) -> PersonalData:
        emails: set[str] = set()
        numbers: set[str] = set()
        texts: set[str] = set()
        columns = ["national_id", "first_name", "last_name", "email_home", "email_work"]
        columns += ["mobile_phone", "home_address", "work_address"]
        for path in sorted((landing / "customers").glob("*.csv")):
            options = pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()))
            rows = pacsv.read_csv(path, convert_options=options).select(columns).to_pylist()
            for row in rows:
                emails |= {row[k].lower() for k in ("email_home", "email_work") if row[k]}
                numbers |= cls._numbers(row["national_id"], row["mobile_phone"])
                if row["first_name"] and row["last_name"]:
                    texts.add(f"{row['first_name']} {row['last_name']}")
                texts |= {row[k] for k in ("home_address", "work_address") if row[k]}
        for path in sorted((landing / "crm_customers").glob("*.jsonl")):
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row.get("email"), str):
                    emails.add(row["email"].lower())
                numbers |= cls._numbers(row.get("national_id"), row.get("mobile_phone"))
                if isinstance(row.get("full_name"), str):
                    texts.add(row["full_name"])
        texts = {text for text in texts if len(text) >= 8}
        sample = random.Random(seed).sample(sorted(texts), min(SAMPLED_TEXTS, len(texts)))
        return cls(frozenset(emails), frozenset(numbers), tuple(sample))

    @staticmethod
    def _numbers(*values: object) -> set[str]:
        found = set()
        for value in values:
            digits = _digits(value) if isinstance(value, str) else ""
            if len(digits) >= 8:
                found.add(digits)
                if digits.startswith("0"):  # a national phone number, also as +32...
                    found.add("32" + digits[1:])
        return found

    def found_in(self, text: str) -> list[str]:
        hits = [m for m in EMAIL.findall(text) if m.lower() in self.emails]
        hits += [m for m in DIGIT_RUN.findall(text) if _digits(m) in self.numbers]
        hits += [value for value in self.texts if value in text]
        return hits


@pytest.fixture(scope="module")
def personal(daily_run) -> PersonalData:
    data = PersonalData.of_landing(daily_run.settings.landing_dir)
    assert len(data.emails) > 1000 and len(data.numbers) > 1000 and data.texts
    return data


def test_the_detector_finds_personal_data_when_it_is_there(personal):
    email = sorted(personal.emails)[0]
    number = sorted(personal.numbers)[0]
    text = f"row 12: {email} failed; phone {number}; name {personal.texts[0]}"
    assert len(personal.found_in(text)) == 3
    assert personal.found_in("loaded 2,940 rows in 3.2 s; run 0f3a9c1e-22aa") == []


def test_the_daily_runs_dagster_logs_hold_no_personal_data(daily_run, personal):
    assert daily_run.success
    log = daily_run.log_text
    assert "STEP_SUCCESS" in log and "ASSET_CHECK_EVALUATION" in log  # the real event log
    assert personal.found_in(log) == []


def test_dbt_logs_hold_no_personal_data(daily_run, personal):
    # dbt/logs/ (parse) and dbt/target/build/ (dagster-dbt puts the build's log next to its
    # target path)
    logs = sorted((daily_run.settings.data_dir / "dbt").rglob("*.log"))
    assert logs, f"no dbt log under {daily_run.settings.data_dir / 'dbt'}"
    text = "\n".join(path.read_text(errors="replace") for path in logs)
    assert " of " in text and "START" in text  # dbt's per-node lines are there
    assert personal.found_in(text) == []


def test_cmart_load_output_names_the_bad_rows_without_their_personal_data(tmp_path, capsys):
    """A quarantined row and a file rejected whole (a ragged row): the console says what and
    where, never the values."""
    email, phone, national_id = "jane.secret@private.example", "+32 470 99 88 77", "90010112345"
    header = (
        "customer_id,national_id,first_name,last_name,birth_date,gender,occupation,"
        "marital_status,income_band,city,region,home_branch_id,email_home,email_work,"
        "mobile_phone,home_address,work_address,updated_at"
    )
    good = f"C1,{national_id},Jane,Secret,1990-01-01,F,employee,single,high,Ghent,Flanders,"
    good += f"BR0001,{email},,{phone},Secretstraat 1,,2026-01-01T00:00:00"
    bad_date = good.replace("1990-01-01", "not-a-date").replace("C1,", "C2,")
    customers = tmp_path / "data" / "landing" / "customers"
    customers.mkdir(parents=True)
    (customers / "customers.csv").write_text(f"{header}\n{good}\n{bad_date}\n")
    ragged = f"C3,{national_id},Jane,Secret,{email},{phone}"  # too few columns: file rejected
    (customers / "customers_ragged.csv").write_text(f"{header}\n{good}\n{ragged}\n")

    code = main(["load", "--data-dir", str(tmp_path / "data"), "--source", "customers"])

    out = capsys.readouterr()
    console = out.out + out.err
    assert code == 0
    assert "1 quarantined" in console and "REJECTED" in console  # both cases were reported
    for value in (email, phone, national_id, "Secretstraat"):
        assert value not in console, console
