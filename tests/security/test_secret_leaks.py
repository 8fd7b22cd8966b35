"""Secret hygiene end to end: a paper session and a live session against ``thalex-mm sim``, with
logging at DEBUG, every login token recorded as it is built; then every output is searched for
the tokens and the private key lines: stdout/stderr, the journal (db, -wal, -shm), ``runs`` and
``report`` output and files, and the dashboard's ``/``, ``/api/status`` and ``/metrics``. The
config also names a PostgreSQL journal URL with a password (``--db`` overrides it): the password
must appear nowhere either, the URL only as ``user:***@host``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from recovery_procs import bot_env, start_sim, stop_process

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
DASHBOARD = re.compile(r"dashboard:?\s+(http://\S+)")
DB_PASSWORD = "hunter2-db-pass"
DB_URL_ENV = {"THALEX_MM__MONITORING__JOURNAL_PATH": f"postgresql://mm:{DB_PASSWORD}@127.0.0.1:5432/db"}


def _run_capturing(args: list[str], record: Path, env: dict[str, str], tmp_path: Path, name: str) -> tuple[str, str, list[bytes]]:
    """Run the CLI through capture_cli.py; fetch the dashboard pages while it runs."""
    proc = subprocess.Popen([sys.executable, str(HERE / "capture_cli.py"), str(record), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out_lines: list[str] = []
    pages: list[bytes] = []
    err_chunks: list[str] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    try:
        for line in proc.stdout:
            out_lines.append(line)
            m = DASHBOARD.search(line)
            if m and not pages:
                time.sleep(3.0)  # let the session log in and trade first
                for path in ("/", "/api/status", "/metrics"):
                    with urllib.request.urlopen(m.group(1).rstrip("/") + path, timeout=5) as resp:
                        pages.append(resp.read())
        proc.wait(timeout=60)
    finally:
        stop_process(proc, signal.SIGKILL, 5)
    reader.join(timeout=10)
    (tmp_path / f"{name}.out").write_text("".join(out_lines))
    return "".join(out_lines), "".join(err_chunks), pages


def _secrets(record: Path, *extra_pems: str) -> tuple[list[str], list[str]]:
    entries = [json.loads(line) for line in record.read_text().splitlines()]
    tokens = sorted({e["token"] for e in entries})
    pems = {e["pem"] for e in entries} | set(extra_pems)
    key_lines = sorted({ln.strip() for pem in pems for ln in pem.splitlines()
                        if ln.strip() and not ln.startswith("-----") and len(ln.strip()) >= 16})
    return tokens, key_lines


def _haystack(tmp_path: Path, texts: list[str], pages: list[bytes]) -> list[tuple[str, bytes]]:
    items = [(f"text#{i}", t.encode()) for i, t in enumerate(texts)]
    items += [(f"page#{i}", p) for i, p in enumerate(pages)]
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and "keys" not in path.parts and path.name != "tokens.jsonl":
            items.append((str(path), path.read_bytes()))
    return items


def test_no_token_or_key_material_in_any_output(tmp_path):
    record = tmp_path / "tokens.jsonl"
    db = tmp_path / "journal.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THALEX_MM__", "THALEX_KEY", "THALEX_PRIVATE"))}
    env.update(PYTHONUNBUFFERED="1", THALEX_MM__MONITORING__DASHBOARD_PORT="0",
               THALEX_MM__MONITORING__LOG_LEVEL="DEBUG", **DB_URL_ENV)
    texts: list[str] = []
    pages: list[bytes] = []

    out, err, got = _run_capturing(["paper", "--duration", "8", "--db", str(db)],
                                   record, env, tmp_path, "paper")
    texts += [out, err]
    pages += got
    assert "paper session summary" in out, err[-2000:]
    assert len(got) == 3, "the paper dashboard did not answer"

    sim = start_sim(tmp_path)
    try:
        live_env = {**bot_env(sim), "THALEX_MM__MONITORING__LOG_LEVEL": "DEBUG", **DB_URL_ENV}
        out, err, got = _run_capturing(["live", "--network", "test", "--url", sim.url, "--db", str(db),
                                        "--duration", "8"], record, live_env, tmp_path, "live")
        texts += [out, err]
        pages += got
        assert "exit reason" in out, err[-2000:]
        sim_pem = sim.pem()
    finally:
        stop_process(sim.proc, signal.SIGINT)
        texts += [sim.proc.stdout.read(), sim.proc.stderr.read()]

    runs = subprocess.run([sys.executable, "-m", "thalex_mm", "runs", "--db", str(db)],
                          capture_output=True, text=True, timeout=60)
    texts += [runs.stdout, runs.stderr]
    run_ids = re.findall(r"\d{8}T\d{6}Z-[0-9a-f]{6}", runs.stdout)
    assert len(set(run_ids)) == 2, runs.stdout
    for run_id in set(run_ids):
        rep = subprocess.run([sys.executable, "-m", "thalex_mm", "report", run_id, "--db", str(db),
                              "--out", str(tmp_path / "reports" / run_id)], capture_output=True, text=True, timeout=120)
        assert rep.returncode == 0, rep.stderr
        texts += [rep.stdout, rep.stderr]
    assert any((tmp_path / "reports").rglob("*.html"))

    tokens, key_lines = _secrets(record, sim_pem)
    assert len(tokens) >= 2, "both sessions must have logged in"
    assert len(key_lines) >= 20  # two RSA keys' base64 body lines
    hay = _haystack(tmp_path, texts, pages)
    assert any(name.endswith("journal.db") for name, _ in hay)
    assert sum(len(b) for _, b in hay) > 10_000
    assert any(b"postgresql://mm:***@127.0.0.1:5432/db" in b for _, b in hay)  # the snapshot
    for name, blob in hay:
        assert DB_PASSWORD.encode() not in blob, f"the journal URL's password appears in {name}"
        for token in tokens:
            for part in (token, token.split(".")[2]):  # the whole JWT and its signature alone
                assert part.encode() not in blob, f"a login token appears in {name}"
        for line in key_lines:
            assert line.encode() not in blob, f"private key material appears in {name}"
    # the runs did log (DEBUG was asked for): the check above searched real log output
    assert "DEBUG" in "".join(texts) or "INFO" in "".join(texts)
