"""Configuration: defaults load, overrides replace whole files, errors name file/row/field."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from cmart.config import ConfigError, load_config, write_config_tables
from cmart.settings import DEFAULT_CONFIG_DIR


def _override(tmp_path: Path, name: str, text: str) -> list[Path]:
    override = tmp_path / "config"
    override.mkdir(exist_ok=True)
    (override / name).write_text(text)
    return [DEFAULT_CONFIG_DIR, override]


def test_shipped_defaults_load_with_nine_channels():
    config = load_config([DEFAULT_CONFIG_DIR])
    assert config.channel_codes == [
        "branch", "atm", "internet", "mobile", "email", "sms", "call_center", "statement",
        "direct_mail",
    ]  # fmt: skip
    assert {c.channel_code for c in config.channels if c.requires_opt_in} >= {
        "email",
        "sms",
        "call_center",
    }
    assert config.decisioning.top_n_offers == 3


def test_override_file_replaces_default_and_changes_version(tmp_path):
    default = load_config([DEFAULT_CONFIG_DIR])
    dirs = _override(tmp_path, "settings.yml", "decisioning:\n  top_n_offers: 5\n")
    overridden = load_config(dirs)
    assert overridden.decisioning.top_n_offers == 5
    assert overridden.version != default.version
    assert overridden.files["settings.yml"].startswith(str(tmp_path))


def test_bad_channel_row_names_file_row_and_field(tmp_path):
    text = (
        (DEFAULT_CONFIG_DIR / "channels.csv")
        .read_text()
        .replace("sms,SMS,true,,0.05", "sms,SMS,maybe,,0.05")
    )
    dirs = _override(tmp_path, "channels.csv", text)
    with pytest.raises(ConfigError) as raised:
        load_config(dirs)
    message = str(raised.value)
    assert "channels.csv, row 7" in message
    assert "field 'requires_opt_in'" in message
    assert "'maybe'" in message


def test_product_path_for_unknown_segment_is_rejected(tmp_path):
    text = (DEFAULT_CONFIG_DIR / "product_paths.csv").read_text() + "astronauts,savings,1\n"
    dirs = _override(tmp_path, "product_paths.csv", text)
    with pytest.raises(ConfigError, match=r"product_paths.csv, row \d+: field 'segment_code'"):
        load_config(dirs)


def test_unknown_settings_key_is_rejected(tmp_path):
    dirs = _override(tmp_path, "settings.yml", "decisioning:\n  top_n_ofers: 5\n")
    with pytest.raises(ConfigError, match=r"field 'decisioning.top_n_ofers'"):
        load_config(dirs)


def test_missing_column_is_reported_with_expected_header(tmp_path):
    dirs = _override(tmp_path, "response_types.csv", "response_type,funnel_step\nopened,1\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['response_class'\]"):
        load_config(dirs)


def test_missing_file_names_searched_folders(tmp_path):
    only = tmp_path / "partial"
    shutil.copytree(DEFAULT_CONFIG_DIR, only)
    (only / "segments.csv").unlink()
    with pytest.raises(ConfigError, match=r"segments\.csv not found"):
        load_config([only])


def test_config_tables_are_written_to_the_warehouse(tmp_path):
    config = load_config([DEFAULT_CONFIG_DIR])
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        write_config_tables(con, config)
        write_config_tables(con, config)  # idempotent: replaces, never appends
        channels = con.execute("select count(*) from config.channels").fetchone()
        version = con.execute("select config_version from config.config_version").fetchone()
        sms = con.execute(
            "select requires_opt_in, contact_fields from config.channels where channel_code = 'sms'"
        ).fetchone()
    assert channels == (9,)
    assert version == (config.version,)
    assert sms == (True, "mobile_phone")
