"""``thalex-mm live``: which endpoints need the production confirmation (checked before anything
connects), what network the journal records, and ``--dashboard-port``. No test here opens a
socket: the session itself is replaced by a stub that records what it was given."""

from __future__ import annotations

import json
import os

import pytest

import thalex_mm.commands.live_cmd as live_cmd
from thalex_mm.cli import main
from thalex_mm.protocol.auth import generate_rsa_keypair
from thalex_mm.protocol.constants import PROD_URL, TEST_URL
from thalex_mm.store import JournalReader

FLAG = "--i-understand-this-trades-real-money"


@pytest.fixture
def creds_env(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("THALEX_MM__", "THALEX_KEY", "THALEX_PRIVATE")):
            monkeypatch.delenv(name)
    key = tmp_path / "k.pem"
    key.write_text(generate_rsa_keypair()[0])
    key.chmod(0o600)
    monkeypatch.setenv("THALEX_KEY_ID", "K1")
    monkeypatch.setenv("THALEX_PRIVATE_KEY_FILE", str(key))
    return tmp_path


@pytest.fixture
def session_stub(monkeypatch):
    """Replace the session: record (url, args) instead of connecting."""
    calls: list[tuple[str, object]] = []

    async def fake_run(config, url, creds, args) -> int:
        calls.append((url, args))
        return 0

    monkeypatch.setattr(live_cmd, "_run", fake_run)
    return calls


@pytest.mark.parametrize(("argv", "why"), [
    (["--network", "prod"], "--network prod"),
    (["--network", "prod", "--url", "wss://example.org/ws/api/v2"], "--network prod"),
    (["--network", "prod", "--url", "ws://127.0.0.1:9/ws/api/v2"], "--network prod"),
    (["--network", "test", "--url", PROD_URL], "is the production endpoint"),
    (["--network", "test", "--url", "wss://THALEX.com/ws/api/v2/"], "is the production endpoint"),
    (["--network", "test", "--url", "wss://example.org/ws/api/v2"], "is not a loopback or testnet address"),
    (["--network", "test", "--url", "ws://127.0.0.1.example.org/ws"], "is not a loopback or testnet address"),
    (["--network", "test", "--url", "ws://10.0.0.5:8080/ws"], "is not a loopback or testnet address"),
])
def test_live_when_target_is_production_without_flag_exits_2_before_any_session(
        argv, why, creds_env, session_stub, capsys):
    assert main(["live", *argv, "--db", str(creds_env / "j.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"refusing to trade on production without {FLAG}")
    assert why in err[0]
    assert session_stub == []
    assert not (creds_env / "j.db").exists()


def test_live_refusal_masks_a_password_in_the_url(creds_env, session_stub, capsys):
    assert main(["live", "--network", "test", "--url", "wss://u:hunter2@example.org/ws"]) == 2
    err = capsys.readouterr().err
    assert "wss://u:***@example.org/ws" in err and "hunter2" not in err


@pytest.mark.parametrize(("argv", "url"), [
    (["--network", "test"], TEST_URL),
    (["--network", "test", "--url", "ws://127.0.0.1:9000/ws/api/v2"], "ws://127.0.0.1:9000/ws/api/v2"),
    (["--network", "test", "--url", "ws://localhost:9000/ws/api/v2"], "ws://localhost:9000/ws/api/v2"),
    (["--network", "test", "--url", "ws://[::1]:9000/ws/api/v2"], "ws://[::1]:9000/ws/api/v2"),
    (["--network", "test", "--url", TEST_URL], TEST_URL),
    (["--network", "prod", FLAG], PROD_URL),
    (["--network", "test", "--url", "wss://example.org/ws", FLAG], "wss://example.org/ws"),
])
def test_live_when_not_production_or_confirmed_starts_the_session(argv, url, creds_env, session_stub):
    assert main(["live", *argv]) == 0
    assert [u for u, _ in session_stub] == [url]


@pytest.mark.parametrize(("network", "url", "want"), [
    ("test", None, "test"),
    ("prod", None, "prod"),
    ("test", TEST_URL, "test"),
    ("test", PROD_URL, "prod"),
    ("test", "ws://127.0.0.1:9000/ws/api/v2", "ws://127.0.0.1:9000/ws/api/v2"),
])
def test_journal_network_names_the_real_venue(network, url, want):
    assert live_cmd.journal_network(network, url) == want


class _FakeQuoter:
    """Stands in for AvellanedaQuoter: stops at once, never connects."""

    def __init__(self, config, url, creds, core, *, on_command, on_event, on_notices, latency=None) -> None:
        from thalex_mm.drivers.quoter import QuoterStats

        self.stats = QuoterStats()
        self.url = url

    async def run(self) -> str:
        return "duration reached"

    def request_stop(self, reason: str) -> None:
        pass

    def press_kill_switch(self, source: str) -> None:
        pass


@pytest.mark.parametrize(("argv", "network"), [
    (["--network", "test", "--url", "ws://127.0.0.1:9000/ws/api/v2"], "ws://127.0.0.1:9000/ws/api/v2"),
    (["--network", "test"], "test"),
])
def test_live_journals_the_network_from_the_command_line_and_passes_dashboard_port(
        argv, network, creds_env, monkeypatch, capsys):
    import thalex_mm.drivers.session as session

    ports: list[int | None] = []

    async def fake_monitoring(cfg, *, port=None):
        ports.append(port)

        async def stop() -> None:
            return None

        return None, stop, None

    monkeypatch.setattr(session, "AvellanedaQuoter", _FakeQuoter)
    monkeypatch.setattr(session, "start_monitoring", fake_monitoring)
    db = creds_env / "j.db"
    assert main(["live", *argv, "--db", str(db), "--dashboard-port", "0"]) == 0
    assert ports == [0]
    with JournalReader(db) as reader:
        (info,) = reader.list_runs()
    assert info.mode == "live" and info.network == network
    market = json.loads(info.config_json)["market"]
    assert market["network"] == "test"  # not the config default "sim"
    assert market["url"] == (None if "--url" not in argv else argv[-1])


@pytest.mark.parametrize("bad", ["-1", "65536", "http"])
def test_live_when_dashboard_port_bad_exits_2_naming_flag_value_and_range(bad, creds_env, session_stub, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["live", "--network", "test", "--dashboard-port", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --dashboard-port: got '{bad}', expected a port number 0..65535" in err
    assert session_stub == []
