"""``thalex-mm sim --key-dir DIR`` prints an absolute PRIVATE_KEY_FILE, so a bot started from
another directory can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from thalex_mm.cli import main
from thalex_mm.sim.app import build_simulated_exchange


def test_build_when_key_dir_relative_returns_absolute_key_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _sim, keys = build_simulated_exchange(key_dir="kd")
    assert keys.private_key_path.is_absolute()
    assert keys.private_key_path == tmp_path.resolve() / "kd" / "sim_private_key.pem"
    assert stat.S_IMODE(os.stat(keys.private_key_path).st_mode) == 0o600
    assert "PRIVATE KEY" in keys.private_key_pem()


def test_sim_cli_when_key_dir_relative_prints_absolute_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sim", "--key-dir", "kd", "--duration", "0.1"]) == 0
    lines = dict(line.split(" ", 1) for line in capsys.readouterr().out.splitlines() if " " in line)
    path = lines["PRIVATE_KEY_FILE"]
    assert os.path.isabs(path)
    assert path == str(tmp_path.resolve() / "kd" / "sim_private_key.pem")
    monkeypatch.chdir("/")  # readable from anywhere
    assert Path(path).read_text().startswith("-----BEGIN")
