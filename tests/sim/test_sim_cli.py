"""``thalex-mm sim`` as a subprocess: the three start lines, a login with the official client
using the printed key file, and a clean stop on SIGINT / after ``--duration``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
from types import SimpleNamespace

import thalex


def _start(*args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "thalex_mm", "sim", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
    fields = dict(line.split(" ", 1) for line in lines)
    assert list(fields) == ["URL", "KEY_ID", "PRIVATE_KEY_FILE"], lines
    return proc, fields


async def _login(url: str, kid: str, pem: str) -> dict:
    tlx = thalex.Thalex(thalex.Network.TEST)
    tlx.net = SimpleNamespace(value=url)
    await tlx.connect()
    try:
        await tlx.login(kid, pem, id=1)
        while True:
            msg = json.loads(await asyncio.wait_for(tlx.receive(), 5))
            if msg.get("id") == 1:
                return msg
    finally:
        await tlx.disconnect()


def test_sim_cli_prints_url_key_and_stops_cleanly_on_sigint(tmp_path):
    proc, f = _start("--key-dir", str(tmp_path / "keys"), "--seed", "4")
    try:
        assert f["URL"].startswith("ws://127.0.0.1:") and f["URL"].endswith("/ws/api/v2")
        key_file = f["PRIVATE_KEY_FILE"]
        assert os.path.dirname(key_file) == str(tmp_path / "keys")
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        with open(key_file) as fh:
            pem = fh.read()
        msg = asyncio.run(_login(f["URL"], f["KEY_ID"], pem))
        assert msg["result"]["account_number"].startswith("A")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sim_cli_duration_and_fault_flags(tmp_path):
    proc, f = _start("--key-dir", str(tmp_path), "--duration", "0.5",
                     "--fault", "response_delay_s=0.1", "--fault", "drop_after_messages=50")
    assert f["KEY_ID"].startswith("K") and f["URL"].startswith("ws://127.0.0.1:")
    assert proc.wait(timeout=10) == 0


def test_sim_cli_bad_fault_names_key_and_exits_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "thalex_mm", "sim", "--key-dir", str(tmp_path), "--fault", "error_share=2"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 2
    assert "error_share" in out.stderr and "[0, 1]" in out.stderr
    assert out.stdout == ""


def test_sim_cli_when_official_client_runs_its_full_session_every_step_is_answered(tmp_path):
    """The issue's done-when: the official client's whole session (login, COD, subscribe,
    insert, amend, cancel, MMP, mass quote, cancel_session) against ``thalex-mm sim`` itself."""
    from test_official_client import official_session

    proc, f = _start("--key-dir", str(tmp_path / "keys"), "--seed", "5")
    try:
        with open(f["PRIVATE_KEY_FILE"]) as fh:
            pem = fh.read()
        notes = asyncio.run(official_session(f["URL"], f["KEY_ID"], pem))
        assert any(n["channel_name"] == "ticker.BTC-PERPETUAL.raw" for n in notes)  # a live market
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
