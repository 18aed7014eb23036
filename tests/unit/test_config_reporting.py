"""The `reporting:` section of settings.yml: defaults, validation naming file and field."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cmart.config import ConfigError, load_config, write_config_tables
from cmart.settings import DEFAULT_CONFIG_DIR


def _settings(tmp_path: Path, text: str) -> list[Path]:
    override = tmp_path / "config"
    override.mkdir(exist_ok=True)
    (override / "settings.yml").write_text(text)
    return [DEFAULT_CONFIG_DIR, override]


def test_shipped_reporting_settings_and_their_config_table(tmp_path):
    config = load_config([DEFAULT_CONFIG_DIR])
    assert config.reporting.alert_min_contacts == 500
    assert config.reporting.pii_columns["national_id"] == "hash"
    assert config.reporting.pii_columns["first_name"] == "redact"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        write_config_tables(con, config)
        row = con.execute(
            "select alert_min_contacts, alert_warning_rate_ratio, alert_critical_rate_ratio, "
            "alert_on_negative_lift, lift_min_contacts from config.reporting_settings"
        ).fetchall()
    assert row == [(500, 0.5, 0.25, True, 100)]


def test_a_section_left_out_takes_the_defaults(tmp_path):
    config = load_config(_settings(tmp_path, "decisioning:\n  top_n_offers: 4\n"))
    assert config.reporting.alert_warning_rate_ratio == 0.5


def test_critical_ratio_above_warning_ratio_is_an_error_naming_the_file(tmp_path):
    text = "reporting:\n  alert_warning_rate_ratio: 0.3\n  alert_critical_rate_ratio: 0.6\n"
    with pytest.raises(ConfigError, match=r"settings\.yml.*alert_critical_rate_ratio"):
        load_config(_settings(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("reporting:\n  alert_min_contacts: 0\n", "reporting.alert_min_contacts"),
        ("reporting:\n  alert_treshold: 3\n", "reporting.alert_treshold"),
        ("reporting:\n  pii_columns: {national_id: scramble}\n", "reporting.pii_columns"),
    ],
)
def test_bad_reporting_values_name_the_field(tmp_path, text: str, field: str):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_config(_settings(tmp_path, text))
