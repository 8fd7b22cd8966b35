"""Headless Chromium over the Chrome DevTools Protocol, for the dashboard browser tests.

``CHROMIUM`` is the browser binary (``THALEX_MM_CHROMIUM`` or ``chromium`` on PATH), None when
absent. :func:`chromium` starts it with a fresh profile and yields a :class:`Cdp` client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

#: Where screenshots go (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def find_chromium() -> str | None:
    explicit = os.environ.get("THALEX_MM_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = find_chromium()
SKIP_REASON = ("headless browser test needs Chromium: `apt-get install -y chromium` "
               "(or set THALEX_MM_CHROMIUM to a Chrome/Chromium binary)")


class Cdp:
    """A minimal DevTools Protocol client: one browser WebSocket, flattened page sessions."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, params: dict[str, Any] | None = None,
                   session: str | None = None, timeout_s: float = 20.0) -> dict[str, Any]:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        async with asyncio.timeout(timeout_s):
            while True:
                reply = json.loads(await self.ws.recv())
                if reply.get("id") == msg_id:
                    if "error" in reply:
                        raise AssertionError(f"CDP {method} failed: {reply['error']}")
                    return reply.get("result", {})
                if "method" in reply:
                    self.events.append(reply)

    async def evaluate(self, session: str, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True,
        }, session)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, session: str, expression: str, timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = await self.evaluate(session, expression)
            except AssertionError:  # page still loading (elements not there yet)
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s}s waiting for: {expression}")
            await asyncio.sleep(0.1)

    async def screenshot(self, session: str, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", {"format": "png"}, session)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def chromium():
    """Start headless Chromium; yield a connected :class:`Cdp`; always kill the browser."""
    assert CHROMIUM is not None
    profile = tempfile.mkdtemp(prefix="thalex-mm-chromium-")
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30.0
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if proc.returncode is not None or time.monotonic() > deadline:
                err = b""
                if proc.returncode is not None and proc.stderr is not None:
                    err = await proc.stderr.read()
                pytest.fail(f"chromium did not start (exit {proc.returncode}): "
                            f"{err.decode(errors='replace')[-2000:]}")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        async with websockets.connect(f"ws://127.0.0.1:{port}{path}", max_size=64 * 2**20) as ws:
            cdp = Cdp(ws)
            yield cdp
            with contextlib.suppress(Exception):
                await cdp.send("Browser.close", timeout_s=5.0)
    finally:
        if proc.returncode is None:
            proc.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 10.0)
        shutil.rmtree(profile, ignore_errors=True)


async def open_page(cdp: Cdp, url: str) -> str:
    target = await cdp.send("Target.createTarget", {"url": "about:blank"})
    attached = await cdp.send("Target.attachToTarget",
                              {"targetId": target["targetId"], "flatten": True})
    session = attached["sessionId"]
    for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
        await cdp.send(domain, session=session)
    await cdp.send("Emulation.setDeviceMetricsOverride", {
        "width": 1400, "height": 1050, "deviceScaleFactor": 1, "mobile": False}, session)
    await cdp.send("Page.navigate", {"url": url}, session)
    return session


def page_errors(cdp: Cdp) -> list[str]:
    out = []
    for ev in cdp.events:
        if ev["method"] == "Runtime.exceptionThrown":
            out.append(json.dumps(ev["params"]["exceptionDetails"])[:500])
        elif ev["method"] == "Log.entryAdded" and ev["params"]["entry"]["level"] == "error":
            out.append(ev["params"]["entry"].get("text", "")[:500])
    return out
