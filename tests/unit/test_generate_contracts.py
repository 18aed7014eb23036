"""The generated landing files honour the contracts in ``expectations/*.yml``.

The checks read the files with DuckDB (not with the project's loader) and apply every rule of
every suite: required columns, types, not-null, code sets, pipe lists, ranges and key uniqueness.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
import yaml

from cmart.generate import generate_world
from cmart.settings import DEFAULT_CONFIG_DIR, EXPECTATIONS_DIR, Settings

END_DATE = dt.date(2026, 6, 30)
SQL_TYPES = {
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
    "double": "double",
    "integer": "bigint",
}


def _suites() -> dict[str, dict]:
    return {
        path.stem: yaml.safe_load(path.read_text())
        for path in sorted(EXPECTATIONS_DIR.glob("*.yml"))
    }


def _config_values(reference: str) -> list[str]:
    table, column = reference.removeprefix("config:").split(".")
    with (DEFAULT_CONFIG_DIR / f"{table}.csv").open(newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _reader(path: Path) -> str:
    name = path.name
    if name.endswith(".parquet"):
        return f"read_parquet('{path}')"
    if name.endswith(".jsonl"):
        return f"read_json('{path}', format='newline_delimited')"
    return f"read_csv('{path}', header=true, all_varchar=true, delim=',', quote='\"')"


def _view(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> list[str]:
    """Create view ``name`` over one file; return its column names."""
    con.execute(f"create or replace view {name} as select * from {_reader(path)}")
    return [column[0] for column in con.execute(f"select * from {name} limit 0").description]


def _literal(value: object, kind: str, end_date: dt.date) -> str:
    if value == "today":
        return f"date '{end_date.isoformat()}'"
    if value == "now":
        return f"timestamp '{end_date.isoformat()} 00:00:00'"
    if kind in ("date", "timestamp"):
        return f"{kind} '{value}'"
    return str(value)


def _column_problems(
    con: duckdb.DuckDBPyConnection, view: str, column: str, rule: dict, end_date: dt.date
) -> dict[str, int]:
    kind = rule.get("type", "varchar")
    sql_type = SQL_TYPES.get(kind)
    typed = f"try_cast({column} as {sql_type})" if sql_type else f"{column}::varchar"
    checks: dict[str, str] = {}
    if rule.get("not_null"):
        checks["not_null"] = f"{column} is null"
    if sql_type:
        checks["type"] = f"{column} is not null and {typed} is null"
    if "in_set" in rule:
        values = rule["in_set"]
        allowed = _config_values(values) if isinstance(values, str) else values
        checks["in_set"] = f"{column} is not null and {column}::varchar not in {tuple(allowed)!r}"
    if "pipe_list_in_set" in rule:
        allowed = _config_values(rule["pipe_list_in_set"])
        checks["pipe_list_in_set"] = (
            f"{column} is not null and not list_has_all({allowed!r}, string_split({column}, '|'))"
        )
    if "min" in rule:
        checks["min"] = f"{typed} < {_literal(rule['min'], kind, end_date)}"
    if "max" in rule:
        bound = _literal(rule["max"], kind, end_date)
        # "now" is the exclusive end of the history: the run date's midnight.
        checks["max"] = f"{typed} {'>=' if rule['max'] == 'now' else '>'} {bound}"
    if not checks:
        return {}
    selects = ", ".join(f"count(*) filter (where {sql}) as {name}" for name, sql in checks.items())
    row = con.execute(f"select {selects} from {view}").fetchall()[0]
    return {name: count for name, count in zip(checks, row, strict=True) if count}


def contract_problems(landing: Path, end_date: dt.date) -> Counter[str]:
    """``source.column.rule`` -> number of violating rows, over all files of every source."""
    problems: Counter[str] = Counter()
    con = duckdb.connect()
    for source, suite in _suites().items():
        folder = landing / source
        files = _files(folder) if folder.is_dir() else []
        if not files:
            problems[f"{source}.*.no_file"] += 1
            continue
        for index, path in enumerate(files):
            view = f"{source}_{index}"
            columns = _view(con, view, path)
            for column, rule in suite["columns"].items():
                if column not in columns:
                    if rule.get("required"):
                        problems[f"{source}.{column}.required"] += 1
                    continue
                for name, count in _column_problems(con, view, column, rule, end_date).items():
                    problems[f"{source}.{column}.{name}"] += count
        key = list(suite["key"])
        if suite.get("order_by") and suite["order_by"] not in key:
            key.append(suite["order_by"])
        union = " union all ".join(
            f"select {', '.join(f'{c}::varchar as {c}' for c in key)} from {source}_{i}"
            for i in range(len(files))
        )
        total, distinct = con.execute(
            f"select count(*), count(distinct ({', '.join(key)})) from ({union})"
        ).fetchall()[0]
        if total != distinct:
            problems[f"{source}.key.unique"] += total - distinct
    return problems


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("clean"), run_date=END_DATE)
    generate_world(settings, customers=3_000, seed=11, days=90, progress=lambda _: None)
    return settings


@pytest.fixture(scope="module")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("dirty"), run_date=END_DATE)
    generate_world(
        settings, customers=1_500, seed=12, days=60, dirty_rate=0.05, progress=lambda _: None
    )
    return settings


def test_every_source_is_written_with_its_required_columns(clean_world: Settings) -> None:
    con = duckdb.connect()
    for source, suite in _suites().items():
        files = _files(clean_world.landing_dir / source)
        assert files, f"no file written for source {source}"
        required = {c for c, rule in suite["columns"].items() if rule.get("required")}
        for path in files:
            missing = required - set(_view(con, "probe", path))
            assert not missing, f"{path.name} lacks required columns {missing}"


def test_clean_world_passes_every_contract_rule(clean_world: Settings) -> None:
    assert contract_problems(clean_world.landing_dir, END_DATE) == Counter()


def test_sources_use_a_mix_of_file_formats(clean_world: Settings) -> None:
    suffixes = {
        path.name.split(".", 1)[1] for path in clean_world.landing_dir.rglob("*") if path.is_file()
    }
    assert suffixes == {"csv", "csv.gz", "jsonl", "parquet"}


def test_csv_timestamps_and_dates_are_iso_with_a_t(clean_world: Settings) -> None:
    table = pa_csv.read_csv(
        clean_world.landing_dir / "customers" / "customers.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={"updated_at": "string", "birth_date": "string"}
        ),
    )
    updated = table.column("updated_at").to_pylist()
    born = table.column("birth_date").to_pylist()
    assert all(len(v) == 19 and v[10] == "T" for v in updated)
    assert all(dt.date.fromisoformat(v) for v in born)


def test_dirty_world_breaks_the_contract_with_every_kind_of_fault(dirty_world: Settings) -> None:
    problems = contract_problems(dirty_world.landing_dir, END_DATE)
    rules = {name.rsplit(".", 1)[1] for name in problems}
    assert {"not_null", "in_set", "type", "unique"} <= rules
    assert {"min", "max"} & rules
    assert problems["contacts.channel.in_set"] > 0  # channel `fax`
    assert problems["products.value.min"] > 0  # a negative value


def test_dirty_truth_lists_every_fault_kind_for_every_source(dirty_world: Settings) -> None:
    table = pa_csv.read_csv(dirty_world.truth_dir / "dirty_rows.csv")
    faults = set(table.column("fault").to_pylist())
    assert faults == {"missing_key", "unknown_code", "bad_date", "negative_value", "duplicate"}
    assert set(table.column("source").to_pylist()) == set(_suites())


def test_dirty_rate_is_roughly_the_share_of_bad_rows(dirty_world: Settings) -> None:
    table = pa_csv.read_csv(dirty_world.truth_dir / "dirty_rows.csv")
    contacts_bad = sum(1 for s in table.column("source").to_pylist() if s == "contacts")
    con = duckdb.connect()
    total = con.execute(
        f"select count(*) from read_parquet('{dirty_world.landing_dir}/contacts/*.parquet')"
    ).fetchall()[0][0]
    assert 0.04 < contacts_bad / total < 0.06


def test_dirt_never_wipes_out_a_small_reference_table() -> None:
    """A twelve-row catalogue gets every fault kind on appended copies: its own rows survive."""
    from cmart.generate.dirty import Dirt

    offers = pa.table(
        {
            "offer_id": [f"OF{i:02d}" for i in range(12)],
            "product_id": ["savings"] * 12,
            "channels": ["sms|email"] * 12,
            "valid_from": ["2026-11-01"] * 12,
            "valid_to": ["2026-12-31"] * 12,
            "control_rate": [0.1] * 12,
        }
    )
    dirt = Dirt(seed=3, rate=0.02)
    dirty = dirt.apply("offers", "offers.csv", offers, text=True)
    assert dirty.slice(0, 12).equals(offers)  # the real rows are untouched
    faults = set(dirt.truth().column("fault").to_pylist())
    assert faults == {"missing_key", "unknown_code", "bad_date", "negative_value", "duplicate"}
    assert min(dirt.truth().column("row_number").to_pylist()) > 12
