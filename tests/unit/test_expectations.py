"""The landing contract as YAML specs, and the GX suites built from them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from expectations.checks import (
    CLOCK_SKEW,
    pipe_list_regex,
    resolve_bound,
    resolve_value_set,
    row_checks,
)
from expectations.spec import SOURCES, SpecError, load_spec, load_specs, parse_spec
from expectations.suites import columns_suite, ephemeral_context, rows_suite

LOAD_TIME = dt.datetime(2026, 11, 29, 8, 15)
CONTRACT_SOURCES = {
    "customers": ("customer_id", "national_id", "updated_at"),
    "crm_customers": ("crm_id", "updated_at"),
    "products": ("product_id", "product_name", "category", "tier", "value"),
    "holdings": ("customer_id", "product_id", "status", "opened_at"),
    "campaigns": ("campaign_id", "campaign_name", "start_date", "end_date"),
    "offers": (
        "offer_id",
        "campaign_id",
        "product_id",
        "offer_name",
        "channels",
        "valid_from",
        "valid_to",
    ),
    "contacts": ("contact_id", "customer_id", "offer_id", "channel", "contacted_at"),
    "responses": (
        "response_id",
        "customer_id",
        "offer_id",
        "channel",
        "response_type",
        "responded_at",
    ),
    "consents": ("customer_id", "channel", "status", "recorded_at"),
    "preferences": ("customer_id", "key", "value", "recorded_at"),
    "complaints": ("complaint_id", "customer_id", "opened_at"),
    "life_events": ("customer_id", "event_type", "event_date"),
    "scores": ("customer_id", "score_name", "score_value", "scored_at"),
    "branches": ("branch_id", "branch_name", "city", "region"),
    "reps": ("rep_id", "rep_name", "branch_id"),
}


def _config() -> SimpleNamespace:
    channels = [SimpleNamespace(channel_code=code) for code in ("sms", "email", "branch")]
    responses = [SimpleNamespace(response_type=kind) for kind in ("opened", "accepted")]
    return SimpleNamespace(channels=channels, response_types=responses)


def _spec(columns: dict, **extra) -> dict:
    return {"source": "things", "key": ["thing_id"], "columns": columns, **extra}


def test_sources_are_the_fifteen_landing_sources_of_the_contract():
    assert set(SOURCES) == set(CONTRACT_SOURCES)


@pytest.mark.parametrize("source", sorted(CONTRACT_SOURCES))
def test_required_columns_are_the_bold_columns_of_the_contract(source):
    assert set(load_spec(source).required_columns) == set(CONTRACT_SOURCES[source])


def test_every_spec_resolves_against_the_shipped_configuration():
    from cmart.config import load_config
    from cmart.settings import DEFAULT_CONFIG_DIR

    config = load_config([DEFAULT_CONFIG_DIR])
    for spec in load_specs().values():
        assert all(
            check.column.name in spec.column_names for check in row_checks(spec, config, LOAD_TIME)
        )


def test_unknown_column_key_is_an_error_naming_file_and_column():
    raw = _spec({"thing_id": {"type": "varchar", "requird": True}})
    with pytest.raises(SpecError, match=r"things\.yml: column thing_id: unknown key.*requird"):
        parse_spec("things.yml", raw)


def test_unknown_type_is_an_error():
    with pytest.raises(SpecError, match="type 'text' is not one of"):
        parse_spec("things.yml", _spec({"thing_id": {"type": "text"}}))


def test_bound_that_is_not_a_date_is_an_error():
    raw = _spec({"thing_id": {"type": "varchar"}, "born": {"type": "date", "min": "01/01/1900"}})
    with pytest.raises(SpecError, match=r"column born\.min: bound '01/01/1900' is not"):
        parse_spec("things.yml", raw)


def test_value_set_on_a_date_column_is_an_error():
    raw = _spec({"thing_id": {"type": "varchar"}, "day": {"type": "date", "in_set": ["x"]}})
    with pytest.raises(SpecError, match="only apply to varchar"):
        parse_spec("things.yml", raw)


def test_key_must_name_spec_columns():
    with pytest.raises(SpecError, match=r"not found: \['other_id'\]"):
        parse_spec("things.yml", {**_spec({"thing_id": {}}), "key": ["other_id"]})


def test_spec_file_must_name_its_own_source(tmp_path: Path):
    (tmp_path / "things.yml").write_text(yaml.safe_dump(_spec({"thing_id": {}}) | {"source": "x"}))
    with pytest.raises(SpecError, match="source is 'x', expected 'things'"):
        load_spec("things", tmp_path)


def test_config_value_set_is_the_configured_codes():
    assert resolve_value_set("config:channels.channel_code", _config()) == (
        "sms",
        "email",
        "branch",
    )


def test_config_value_set_naming_an_unknown_table_is_an_error():
    with pytest.raises(SpecError, match="no table 'segments'"):
        resolve_value_set("config:segments.segment_code", _config())


def test_now_and_today_bounds_allow_one_day_of_clock_skew():
    assert resolve_bound("now", "max", LOAD_TIME) == LOAD_TIME + CLOCK_SKEW
    assert resolve_bound("today", "max", LOAD_TIME) == dt.datetime(2026, 11, 30)
    assert resolve_bound(dt.date(1990, 1, 1), "min", LOAD_TIME) == dt.datetime(1990, 1, 1)
    assert resolve_bound(0.0, "min", LOAD_TIME) == 0.0


def test_pipe_list_regex_accepts_only_lists_of_known_codes():
    pattern = re.compile(pipe_list_regex(["sms", "email", "call.center"]))
    assert pattern.search("sms") and pattern.search("sms|email")
    assert not pattern.search("sms|fax")
    assert not pattern.search("sms||email")
    assert not pattern.search("callxcenter")


def test_row_checks_follow_the_spec_column_by_column():
    checks = row_checks(load_spec("responses"), _config(), LOAD_TIME)
    kinds = [(check.kind, check.column.name) for check in checks]
    assert kinds[:4] == [
        ("not_null", "response_id"),
        ("not_null", "customer_id"),
        ("not_null", "offer_id"),
        ("not_null", "channel"),
    ]
    assert ("in_set", "response_type") in kinds
    responded = next(check for check in checks if check.kind == "range")
    assert responded.max == LOAD_TIME + CLOCK_SKEW


def test_rows_suite_numbers_its_expectations_in_check_order():
    ephemeral_context()  # GX builds suites against the active context
    checks = row_checks(load_spec("offers"), _config(), LOAD_TIME)
    suite = rows_suite("offers", checks)
    assert [expectation.meta["check"] for expectation in suite.expectations] == list(
        range(len(checks))
    )
    types = {expectation.expectation_type for expectation in suite.expectations}
    assert "expect_column_values_to_match_regex" in types  # channels: pipe_list_in_set


def test_columns_suite_fails_a_header_without_a_required_column():
    context = ephemeral_context()
    batches = (
        context.data_sources.add_pandas("landing")
        .add_dataframe_asset("reps")
        .add_batch_definition_whole_dataframe("header")
    )
    suite = context.suites.add(columns_suite(load_spec("reps")))
    header = pd.DataFrame(columns=["rep_id", "rep_name", "nickname"])
    result = batches.get_batch(batch_parameters={"dataframe": header}).validate(suite)
    assert not result.success
    assert result.results[0].result["details"]["mismatched"]["missing"] == ["branch_id"]
