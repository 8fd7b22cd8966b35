"""Guards: the logging setup redacts and caps frame loggers; production needs the confirmation
flag; a group/other-readable key file warns on ``live``; the dashboard defaults to loopback."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys

from thalex_mm.config.models import MonitoringConfig
from thalex_mm.logging_setup import configure_logging
from thalex_mm.protocol.auth import generate_rsa_keypair, make_login_token


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("THALEX_MM__", "THALEX_KEY", "THALEX_PRIVATE"))}
    return subprocess.run([sys.executable, "-m", "thalex_mm", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=timeout)


def test_configure_logging_at_debug_redacts_tokens_and_caps_websockets():
    pem, _public = generate_rsa_keypair()
    token = make_login_token("K1", pem, 1_700_000_000.0)
    buf = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        handler = configure_logging(MonitoringConfig(log_level="DEBUG"), stream=buf)
        logging.getLogger("websockets.client").debug("> TEXT '{\"method\":\"public/login\",\"params\":{\"token\":\"%s\"}}'", token)
        logging.getLogger("thalex_mm.test").debug("login with %s", token)
        logging.getLogger("thalex_mm.test").warning("key was %s", pem)
        try:
            raise RuntimeError(f"bad token {token}")
        except RuntimeError:
            logging.getLogger("thalex_mm.test").exception("failed")
        handler.flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
    text = buf.getvalue()
    assert logging.getLogger("websockets.client").getEffectiveLevel() == logging.INFO
    assert "public/login" not in text  # the websockets frame log is below its cap
    assert text.count("[redacted JWT]") == 2 and "[redacted PEM block]" in text
    assert token not in text and token.split(".")[2] not in text
    assert not any(line in text for line in pem.splitlines()[1:-1])


def test_live_on_prod_without_confirmation_exits_2_before_connecting(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text(generate_rsa_keypair()[0])
    key.chmod(0o600)
    r = _cli("live", "--network", "prod", "--db", str(tmp_path / "j.db"),
             env={"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})
    assert r.returncode == 2
    assert "--i-understand-this-trades-real-money" in r.stderr
    assert not (tmp_path / "j.db").exists()


def test_live_with_group_readable_key_file_warns(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text(generate_rsa_keypair()[0])
    key.chmod(0o644)
    # a bad config makes the run stop right after the credentials are read
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk]\nposition_hard_limit = -1\n")
    r = _cli("live", "--network", "test", "--config", str(bad),
             env={"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})
    assert r.returncode == 2
    r = _cli("live", "--network", "prod", env={"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})
    assert r.returncode == 2
    assert "KeyFilePermissionWarning" in r.stderr and "chmod 600" in r.stderr
    assert "PRIVATE KEY" not in r.stderr + r.stdout


def test_invalid_config_never_starts_trading(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[order]\nlevels = 0\n[market]\ninstrument = ""\n')
    # paper: exits 2 naming the keys, writes no journal
    r = _cli("paper", "--config", str(bad), "--duration", "5", "--db", str(tmp_path / "p.db"))
    assert r.returncode == 2
    assert "order.levels: got 0" in r.stderr and "market.instrument" in r.stderr
    assert not (tmp_path / "p.db").exists() and "summary" not in r.stdout
    # live: exits 2 and never opens a connection to the endpoint
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        srv.settimeout(0.5)
        port = srv.getsockname()[1]
        key = tmp_path / "k.pem"
        key.write_text(generate_rsa_keypair()[0])
        key.chmod(0o600)
        r = _cli("live", "--network", "test", "--url", f"ws://127.0.0.1:{port}/ws/api/v2", "--config", str(bad),
                 "--db", str(tmp_path / "l.db"), env={"THALEX_KEY_ID": "K1", "THALEX_PRIVATE_KEY_FILE": str(key)})
        assert r.returncode == 2 and "order.levels" in r.stderr
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            conn = None
        assert conn is None, "the bot connected to the exchange despite an invalid config"
    assert not (tmp_path / "l.db").exists()


def test_dashboard_defaults_to_loopback():
    assert MonitoringConfig().dashboard_host == "127.0.0.1"
