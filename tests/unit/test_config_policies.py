"""Contact policies, channel rules per product, product tiers and arbitration weights:
defaults load, the `default` policy row fills channel rows, errors name file, row and field."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cmart.config import ConfigError, load_config, write_config_tables
from cmart.settings import DEFAULT_CONFIG_DIR

POLICY_HEADER = (
    "channel_code,max_contacts_7d,max_contacts_30d,decline_cooldown_days,"
    "suppress_while_complaint_open,min_days_between_same_product\n"
)


def _override(tmp_path: Path, name: str, text: str) -> list[Path]:
    override = tmp_path / "config"
    override.mkdir(exist_ok=True)
    (override / name).write_text(text)
    return [DEFAULT_CONFIG_DIR, override]


def test_shipped_defaults_have_a_policy_for_every_channel_and_default_weights():
    config = load_config([DEFAULT_CONFIG_DIR])
    call_center = config.contact_policy("call_center")
    email = config.contact_policy("email")
    assert call_center.max_contacts_7d == 1
    assert call_center.decline_cooldown_days == 60
    # e-mail has no row of its own: it follows `default`
    assert email.max_contacts_7d == 3
    assert email.suppress_while_complaint_open is True
    assert config.decisioning.propensity_weight == 1.0
    assert config.decisioning.value_weight == 1.0
    assert config.decisioning.separate_tiers is True
    assert {rule.product_id for rule in config.product_channels} >= {"private_banking"}


def test_channel_row_inherits_empty_cells_from_the_default_row(tmp_path):
    dirs = _override(
        tmp_path,
        "contact_policies.csv",
        POLICY_HEADER + "default,2,6,30,true,5\nsms,1,,,false,\n",
    )
    sms = load_config(dirs).contact_policy("sms")
    assert (sms.max_contacts_7d, sms.max_contacts_30d) == (1, 6)
    assert sms.decline_cooldown_days == 30
    assert sms.suppress_while_complaint_open is False
    assert sms.min_days_between_same_product == 5


def test_policies_without_a_file_are_unrestricted(tmp_path):
    import shutil

    only = tmp_path / "only"
    shutil.copytree(DEFAULT_CONFIG_DIR, only)
    for name in ("contact_policies.csv", "product_channels.csv", "product_tiers.csv"):
        (only / name).unlink()
    config = load_config([only])
    policy = config.contact_policy("sms")
    assert policy.max_contacts_7d is None and policy.max_contacts_30d is None
    assert policy.suppress_while_complaint_open is True
    assert config.product_channels == [] and config.product_tiers == []


def test_policy_for_unknown_channel_names_file_row_and_field(tmp_path):
    dirs = _override(
        tmp_path, "contact_policies.csv", POLICY_HEADER + "default,2,6,30,true,5\npigeon,1,2,,,\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(dirs)
    message = str(raised.value)
    assert "contact_policies.csv, row 3" in message
    assert "field 'channel_code'" in message
    assert "'pigeon'" in message


def test_policy_file_without_default_row_is_rejected(tmp_path):
    dirs = _override(tmp_path, "contact_policies.csv", POLICY_HEADER + "sms,1,2,,,\n")
    with pytest.raises(ConfigError, match=r"contact_policies\.csv: no 'default' row"):
        load_config(dirs)


def test_weekly_cap_above_monthly_cap_is_rejected(tmp_path):
    dirs = _override(tmp_path, "contact_policies.csv", POLICY_HEADER + "default,9,4,30,true,5\n")
    with pytest.raises(
        ConfigError, match=r"contact_policies\.csv, row 2: field 'max_contacts_7d': 9 is greater"
    ):
        load_config(dirs)


def test_negative_cool_down_names_file_row_and_field(tmp_path):
    dirs = _override(tmp_path, "contact_policies.csv", POLICY_HEADER + "default,2,6,-3,true,5\n")
    with pytest.raises(
        ConfigError, match=r"contact_policies\.csv, row 2: field 'decline_cooldown_days'"
    ):
        load_config(dirs)


def test_duplicate_policy_row_is_rejected(tmp_path):
    dirs = _override(
        tmp_path, "contact_policies.csv", POLICY_HEADER + "default,2,6,30,true,5\ndefault,1,2,,,\n"
    )
    with pytest.raises(ConfigError, match=r"contact_policies\.csv, row 3: duplicate channel_code"):
        load_config(dirs)


def test_product_channel_rule_for_unknown_channel_is_rejected(tmp_path):
    dirs = _override(
        tmp_path,
        "product_channels.csv",
        "product_id,channel_code,channel_order\nmortgage,branch,1\nmortgage,fax,2\n",
    )
    with pytest.raises(
        ConfigError, match=r"product_channels\.csv, row 3: field 'channel_code': unknown channel"
    ):
        load_config(dirs)


def test_product_channel_order_must_be_unique_per_product(tmp_path):
    dirs = _override(
        tmp_path,
        "product_channels.csv",
        "product_id,channel_code,channel_order\nmortgage,branch,1\nmortgage,email,1\n",
    )
    with pytest.raises(ConfigError, match=r"product_channels\.csv, row 3: duplicate"):
        load_config(dirs)


def test_unknown_tier_names_file_row_and_field(tmp_path):
    dirs = _override(tmp_path, "product_tiers.csv", "product_id,tier\nmortgage,gold\n")
    with pytest.raises(ConfigError) as raised:
        load_config(dirs)
    assert "product_tiers.csv, row 2: field 'tier'" in str(raised.value)
    assert "'gold'" in str(raised.value)


def test_bad_weight_in_settings_names_the_key(tmp_path):
    dirs = _override(tmp_path, "settings.yml", "decisioning:\n  propensity_weight: -1\n")
    with pytest.raises(ConfigError, match=r"field 'decisioning.propensity_weight'"):
        load_config(dirs)


def test_policy_files_change_the_configuration_version(tmp_path):
    default = load_config([DEFAULT_CONFIG_DIR])
    dirs = _override(tmp_path, "product_tiers.csv", "product_id,tier\nmortgage,premium\n")
    assert load_config(dirs).version != default.version


def test_policy_tables_are_written_one_resolved_row_per_channel(tmp_path):
    dirs = _override(tmp_path, "product_tiers.csv", "product_id,tier\nmortgage,premium\n")
    config = load_config(dirs)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        write_config_tables(con, config)
        policies = con.execute(
            "select channel_code, max_contacts_7d, decline_cooldown_days "
            "from config.contact_policies order by channel_code"
        ).fetchall()
        tiers = con.execute("select product_id, tier from config.product_tiers").fetchall()
        rules = con.execute("select count(*) from config.product_channels").fetchone()
        weights = con.execute(
            "select propensity_weight, value_weight, separate_tiers from config.decision_settings"
        ).fetchone()
    assert [code for code, *_ in policies] == sorted(config.channel_codes)
    assert ("call_center", 1, 60) in policies
    assert tiers == [("mortgage", "premium")]
    assert rules == (len(config.product_channels),)
    assert weights == (1.0, 1.0, True)
