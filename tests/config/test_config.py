"""BOT_CONFIG: loading, validation messages, environment overrides, secrets."""

from __future__ import annotations

import os
import stat
import tomllib
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from thalex_mm.cli import main
from thalex_mm.config import BotConfig, load_config, load_credentials
from thalex_mm.config.loader import config_to_toml
from thalex_mm.config.secrets import KeyFilePermissionWarning
from thalex_mm.errors import ConfigError
from thalex_mm.protocol.auth import generate_rsa_keypair

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_load_config_when_no_file_defaults_are_valid():
    cfg = load_config(None, env={})
    assert cfg.market.instrument == "BTC-PERPETUAL"
    # sizes, limits and γ are relative to the instrument unless set (core.instrument_scale)
    assert cfg.order.sizes is None and cfg.risk.position_soft_limit is None and cfg.avellaneda.gamma is None
    assert cfg.risk.soft_limit_orders < cfg.risk.hard_limit_orders


def test_config_when_one_position_limit_set_names_the_other(tmp_path):
    from thalex_mm.config.models import BotConfig

    with pytest.raises(ValueError, match=r"risk\.position_hard_limit set too"):
        BotConfig.model_validate({"risk": {"position_soft_limit": 0.5}})
    with pytest.raises(ValueError, match=r"risk\.soft_limit_orders"):
        BotConfig.model_validate({"risk": {"soft_limit_orders": 10, "hard_limit_orders": 10}})
    cfg = BotConfig.model_validate({"risk": {"position_soft_limit": 0.5, "position_hard_limit": 1.0}})
    assert cfg.risk.position_hard_limit == 1.0


def test_example_config_when_checked_passes(capsys):
    assert main(["config", "check", str(REPO / "config" / "example.toml")]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_config_check_when_typo_negative_size_and_inverted_limits_prints_three_lines(tmp_path, capsys):
    path = write(
        tmp_path,
        "[risk]\nmax_positon = 1\nposition_soft_limit = 0.2\nposition_hard_limit = 0.1\n"
        "[order]\nsizes = [-0.01]\n",
    )
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3, lines
    assert any(ln.startswith("risk.max_positon: got 1,") and "no such key" in ln for ln in lines)
    assert any(ln.startswith("order.sizes.0: got -0.01,") and "> 0" in ln for ln in lines)
    assert any(
        ln.startswith("risk.position_soft_limit: got 0.2,") and "< risk.position_hard_limit (0.1)" in ln
        for ln in lines
    )


def test_config_check_when_toml_syntax_error_names_file_and_line(tmp_path, capsys):
    path = write(tmp_path, "[order]\nlevels = 2\nlabel = \n")
    assert main(["config", "check", str(path)]) == 2
    out = capsys.readouterr().out
    assert str(path) in out and "line 3" in out


def test_config_check_when_unknown_section_reports_it(tmp_path):
    path = write(tmp_path, "[risky]\nx = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert exc.value.problems[0][0] == "risky"


def test_config_when_wrong_type_names_key_value_and_expected(tmp_path):
    path = write(tmp_path, '[avellaneda]\ngamma = "high"\nhorizon = "forever"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    probs = {k: (v, e) for k, v, e in exc.value.problems}
    assert probs["avellaneda.gamma"][0] == "high"
    assert probs["avellaneda.horizon"][0] == "forever"
    assert "finite" in probs["avellaneda.horizon"][1]


def test_config_when_min_spread_above_max_is_rejected():
    with pytest.raises(ConfigError) as exc:
        load_config(None, env={"THALEX_MM__QUOTING__MIN_SPREAD_TICKS": "50", "THALEX_MM__QUOTING__MAX_SPREAD_TICKS": "10"})
    assert exc.value.problems[0][0] == "quoting.min_spread_ticks"


def test_env_override_when_set_beats_the_file(tmp_path):
    path = write(tmp_path, "[avellaneda]\ngamma = 0.5\n")
    cfg = load_config(path, env={"THALEX_MM__AVELLANEDA__GAMMA": "0.25", "THALEX_MM__ORDER__SIZES": "[0.01, 0.02]", "THALEX_MM__ORDER__LEVELS": "2"})
    assert cfg.avellaneda.gamma == 0.25
    assert cfg.order.sizes == (0.01, 0.02)


def test_env_override_when_malformed_name_is_an_error():
    with pytest.raises(ConfigError) as exc:
        load_config(None, env={"THALEX_MM__GAMMA": "1"})
    assert exc.value.problems[0][0] == "THALEX_MM__GAMMA"


def test_config_show_when_round_tripped_gives_the_same_config(tmp_path, capsys):
    assert main(["config", "show", "--config", str(REPO / "config" / "example.toml")]) == 0
    text = capsys.readouterr().out
    again = write(tmp_path, text)
    assert load_config(again, env={}) == load_config(REPO / "config" / "example.toml", env={})
    assert config_to_toml(BotConfig()).startswith("[market]")


def test_config_when_frozen_cannot_be_mutated():
    cfg = BotConfig()
    with pytest.raises(ValidationError):
        cfg.avellaneda.gamma = 3.0  # type: ignore[misc]


PEM = generate_rsa_keypair(1024)[0]  # made at run time: no key material in the repository


def test_credentials_when_key_file_is_world_readable_warns_and_never_prints(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text(PEM)
    os.chmod(key, 0o644)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        creds = load_credentials({"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})
    assert any(issubclass(w.category, KeyFilePermissionWarning) for w in caught)
    assert creds.private_key.reveal() == PEM
    body = PEM.splitlines()[1]
    for shown in (repr(creds), str(creds.private_key), f"{creds.private_key}"):
        assert body not in shown and "PRIVATE KEY" not in shown


def test_credentials_when_key_file_is_private_does_not_warn(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text(PEM)
    os.chmod(key, stat.S_IRUSR | stat.S_IWUSR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_credentials({"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})


def test_credentials_when_missing_names_the_variables():
    with pytest.raises(ConfigError) as exc:
        load_credentials({})
    keys = [p[0] for p in exc.value.problems]
    assert keys == ["THALEX_KEY_ID", "THALEX_PRIVATE_KEY_FILE"]


def test_credentials_when_env_holds_garbage_does_not_echo_it():
    with pytest.raises(ConfigError) as exc:
        load_credentials({"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY": "sekrit-material"})
    assert "sekrit" not in str(exc.value)


def test_cli_help_when_run_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "config" in capsys.readouterr().out


def test_config_check_when_dashboard_host_public_without_token_names_key_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("THALEX_MM_DASHBOARD_TOKEN", raising=False)
    path = write(tmp_path, '[monitoring]\ndashboard_host = "0.0.0.0"\n')
    assert main(["config", "check", str(path)]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("monitoring.dashboard_host: got '0.0.0.0', expected a loopback address")
    assert "THALEX_MM_DASHBOARD_TOKEN" in lines[0]


def test_config_when_dashboard_host_public_is_ok_with_token_or_nothing_served():
    host = {"THALEX_MM__MONITORING__DASHBOARD_HOST": "0.0.0.0"}
    with pytest.raises(ConfigError) as err:
        load_config(None, env=host)
    assert [p[:2] for p in err.value.problems] == [("monitoring.dashboard_host", "0.0.0.0")]
    with pytest.raises(ConfigError):  # a blank token is no token
        load_config(None, env={**host, "THALEX_MM_DASHBOARD_TOKEN": "  "})
    assert load_config(None, env={**host, "THALEX_MM_DASHBOARD_TOKEN": "s3cret"}).monitoring.dashboard_host == "0.0.0.0"
    off = {**host, "THALEX_MM__MONITORING__DASHBOARD_ENABLED": "false"}
    assert load_config(None, env=off).monitoring.dashboard_enabled is False
    with pytest.raises(ConfigError):  # a metrics port binds the same host
        load_config(None, env={**off, "THALEX_MM__MONITORING__METRICS_PORT": "9100"})
    for loopback in ("127.0.0.2", "::1", "localhost"):
        load_config(None, env={"THALEX_MM__MONITORING__DASHBOARD_HOST": loopback})


def test_config_when_public_host_and_other_field_error_reports_both(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(None, env={"THALEX_MM__MONITORING__DASHBOARD_HOST": "0.0.0.0",
                               "THALEX_MM__ORDER__LEVELS": "0"})
    assert {p[0] for p in err.value.problems} == {"order.levels", "monitoring.dashboard_host"}


def test_paper_when_dashboard_host_public_without_token_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("THALEX_MM_DASHBOARD_TOKEN", raising=False)
    monkeypatch.setenv("THALEX_MM__MONITORING__DASHBOARD_HOST", "0.0.0.0")
    db = tmp_path / "p.sqlite"
    assert main(["paper", "--duration", "1", "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [captured.err.strip()]
    assert captured.err.startswith("monitoring.dashboard_host: got '0.0.0.0'")
    assert "Traceback" not in captured.err and not db.exists()


def test_config_show_when_printed_names_each_keys_unit_above_it() -> None:
    lines = config_to_toml(BotConfig()).splitlines()
    i = lines.index("max_drawdown_usd = 500.0")
    assert lines[i - 1].startswith("# ") and "quote currency" in lines[i - 1]
    unset = lines.index("# position_soft_limit is unset")  # a key without a value is documented too
    assert "contracts" in lines[unset - 1]
    j = next(n for n, line in enumerate(lines) if line.startswith("min_requote_interval_ms = "))
    assert "ms" in lines[j - 1] or "millisecond" in lines[j - 1]
    tomllib.loads("\n".join(lines))  # still valid TOML


def test_env_override_when_field_name_has_capitals_maps_case_insensitively():
    cfg = load_config(None, env={"THALEX_MM__AVELLANEDA__A": "5", "THALEX_MM__Avellaneda__K": "0.7"})
    assert cfg.avellaneda.A == 5.0 and cfg.avellaneda.k == 0.7


def test_env_override_when_key_is_unknown_names_it():
    with pytest.raises(ConfigError, match=r"avellaneda\.nope"):
        load_config(None, env={"THALEX_MM__AVELLANEDA__NOPE": "1"})


@pytest.mark.parametrize("key", ["max_drawdown_usd", "session_loss_limit_usd", "position_hard_limit", "max_notional_usd"])
def test_config_when_a_risk_limit_is_infinite_is_rejected_naming_the_key(tmp_path, key):
    path = write(tmp_path, f"[risk]\n{key} = inf\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path, env={})
    assert exc.value.problems[0][0] == f"risk.{key}"
    assert "finite" in exc.value.problems[0][2]
