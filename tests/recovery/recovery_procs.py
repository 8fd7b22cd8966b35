"""Subprocess helpers: ``thalex-mm sim`` and ``thalex-mm live`` as real processes, an observer
connection (our codec, same API key) that asks the exchange for its own view of the account,
and read-only journal queries.

Shared by tests/recovery and tests/security (the security conftest adds this folder too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import connect

from thalex_mm.protocol.auth import make_login_token

__all__ = [
    "AccountView",
    "SimProcess",
    "account_view",
    "bot_env",
    "journal_rows",
    "start_bot",
    "start_sim",
    "stop_process",
    "wait_until",
]


@dataclass
class SimProcess:
    """A running ``thalex-mm sim`` child and the three lines it printed."""

    proc: subprocess.Popen
    url: str
    key_id: str
    key_file: str

    def pem(self) -> str:
        return Path(self.key_file).read_text()


def start_sim(tmp_path: Path, *extra: str) -> SimProcess:
    """Start ``thalex-mm sim`` and read its ``URL``/``KEY_ID``/``PRIVATE_KEY_FILE`` lines."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "thalex_mm", "sim", "--key-dir", str(tmp_path / "keys"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
    fields = dict(line.split(" ", 1) for line in lines if " " in line)
    if list(fields) != ["URL", "KEY_ID", "PRIVATE_KEY_FILE"]:
        proc.kill()
        raise RuntimeError(f"thalex-mm sim did not start: {lines!r} {proc.stderr.read()!r}")
    return SimProcess(proc, fields["URL"], fields["KEY_ID"], fields["PRIVATE_KEY_FILE"])


def bot_env(sim: SimProcess, **extra: str) -> dict[str, str]:
    """The environment for a bot child: the sim's key, no stray config overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THALEX_MM__", "THALEX_KEY", "THALEX_PRIVATE"))}
    env.update(THALEX_KEY_ID=sim.key_id, THALEX_PRIVATE_KEY_FILE=sim.key_file, PYTHONUNBUFFERED="1",
               THALEX_MM__MONITORING__DASHBOARD_PORT="0")  # never collide with another test
    env.update(extra)
    return env


def start_bot(sim: SimProcess, db: Path, out_dir: Path, *extra: str, env: dict[str, str] | None = None,
              name: str = "bot") -> subprocess.Popen:
    """Start ``thalex-mm live --network test --url URL --db DB``; stdout/stderr go to files
    ``out_dir/<name>.out`` / ``.err`` (so a killed child cannot block on a full pipe)."""
    out = open(out_dir / f"{name}.out", "w")  # noqa: SIM115 - handed to the child
    err = open(out_dir / f"{name}.err", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "-m", "thalex_mm", "live", "--network", "test", "--url", sim.url,
         "--db", str(db), *extra],
        stdout=out, stderr=err, env=env or bot_env(sim), text=True,
    )


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int:
    """Signal one child (by its pid) and wait; kill it if it does not exit in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


def wait_until(pred: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.2) -> Any:
    """Poll ``pred`` until it returns something truthy; fail the test with ``what`` otherwise."""
    until = time.monotonic() + timeout_s
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > until:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {got!r})")
        time.sleep(interval_s)


# ------------------------------------------------------------------ the exchange's view


@dataclass(frozen=True)
class AccountView:
    """What the exchange says about the account, from a separate session.

    Attributes:
        open_orders: ``private/open_orders`` result (every session of the account).
        position: position of the instrument, contracts, from ``private/portfolio``.
        trade_ids: trade ids of ``private/trade_history`` (the account's fills).
    """

    open_orders: list[dict]
    position: float
    trade_ids: list[str]


async def _account_view(sim: SimProcess, instrument: str) -> AccountView:
    async with connect(sim.url, ping_interval=None, close_timeout=1) as ws:
        next_id = 0

        async def call(method: str, params: dict) -> Any:
            nonlocal next_id
            next_id += 1
            rid = next_id
            await ws.send(orjson.dumps({"method": method, "params": params, "id": rid}).decode())
            while True:
                msg = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg.get("id") == rid:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg["result"]

        # iat: the bot child logs in with the same key on the wall clock too. A bot login that
        # lands between our token's making and its arrival makes the server refuse ours as a
        # replay (iat not later than the previous login): sign again with a fresh iat.
        for attempt in range(5):
            token = make_login_token(sim.key_id, sim.pem(), time.time() + 0.0005)
            try:
                await call("public/login", {"token": token})
                break
            except RuntimeError as exc:
                if "not later than" not in str(exc) or attempt == 4:
                    raise
                await asyncio.sleep(0.01)
        orders = await call("private/open_orders", {})
        portfolio = await call("private/portfolio", {})
        history = await call("private/trade_history", {"limit": 1000})
    position = sum(float(e.get("position", 0.0)) for e in portfolio if e.get("instrument_name") == instrument)
    trades = history.get("trades", []) if isinstance(history, dict) else history
    return AccountView(list(orders), position, [str(t["trade_id"]) for t in trades])


def account_view(sim: SimProcess, instrument: str = "BTC-PERPETUAL") -> AccountView:
    """The exchange's own view of the account (a fresh login with the same key)."""
    return asyncio.run(_account_view(sim, instrument))


# ------------------------------------------------------------------ the journal


def journal_rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one read-only query on a journal that a live process may still be writing."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # schema not created yet
    finally:
        conn.close()
