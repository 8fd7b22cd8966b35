"""The live dashboard: an aiohttp server reading a :class:`StatusHub`.

Routes:
    ``GET /``                the page (HTML, JS and CSS from ``monitoring/static/``; no CDN)
    ``GET /static/{name}``   the page's assets
    ``GET /api/status``      the current state (JSON)
    ``GET /api/stream``      live updates (Server-Sent Events, at most ``stream_hz`` per second)
    ``POST /api/kill``       trigger the kill switch (JSON body ``{"confirm": true}``)
    ``POST /api/resume``     resume quoting after a kill or sticky halt (same body and checks)
    ``GET /metrics``         Prometheus text exposition
    ``GET /healthz``         ``ok`` (no token needed: liveness probes; it reveals nothing)

Security: on a loopback address no token is needed. Any other bind address needs a token
(``token=`` or ``THALEX_MM_DASHBOARD_TOKEN``), or :class:`DashboardServer` refuses to start.
With a token set, every request must carry it (``?token=`` or ``Authorization: Bearer``). The
kill endpoint also needs ``Content-Type: application/json`` with a JSON body, and an ``Origin``
equal to the dashboard's own (a request without an Origin needs the token), and without a token
only loopback ``Host`` names are served (DNS rebinding), so another web site cannot trigger it. No response ever contains the token or other secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from thalex_mm.config.models import DASHBOARD_TOKEN_ENV, is_loopback_host
from thalex_mm.errors import ConfigError
from thalex_mm.monitoring.metrics import CONTENT_TYPE, Metrics
from thalex_mm.monitoring.status import StatusHub

__all__ = ["TOKEN_ENV", "DashboardServer", "MetricsServer", "is_loopback"]

_log = logging.getLogger(__name__)

#: Environment variable holding the dashboard token (the config's rules check the same one).
TOKEN_ENV = DASHBOARD_TOKEN_ENV

_STATIC_FILES = {
    "dashboard.js": "application/javascript",
    "dashboard.css": "text/css",
    # uPlot, vendored from the npm registry (see static/VENDORED.md and uplot.LICENSE)
    "uplot.iife.min.js": "application/javascript",
    "uplot.min.css": "text/css",
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


#: True for ``localhost`` and loopback IP addresses (the config's rule, one definition).
is_loopback = is_loopback_host


def _resolve_token(host: str, token: str | None, what: str) -> str | None:
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is not None and not token.strip():
        raise ConfigError([(f"{what} token", "<empty>", "a non-empty string")])
    if token is None and not is_loopback(host):
        raise ConfigError([(
            f"{what} host", host,
            f"a loopback address (127.0.0.1, ::1, localhost), or set {TOKEN_ENV} (or pass "
            "token=) to bind a non-loopback address",
        )])
    return token


def _load_static() -> dict[str, bytes]:
    pkg = resources.files("thalex_mm.monitoring") / "static"
    return {name: (pkg / name).read_bytes() for name in ("index.html", *_STATIC_FILES)}


def _is_public(path: str) -> bool:
    # The page's constant JS/CSS hold no data and are loaded by <script>/<link> tags, which
    # cannot carry the token; /healthz answers "ok" and nothing else, for liveness probes
    # that hold no token. Everything else (the page itself included) needs it.
    return path.startswith("/static/") or path == "/healthz"


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):  # [::1]:8765
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def _auth_middleware(token: str | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    expected = None if token is None else token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if expected is None and not is_loopback(_host_name(request.host)):
            # Without a token we only serve loopback names: a DNS-rebinding page
            # (Host: evil.example) must not read the state or press the kill switch.
            return web.json_response({"error": "Host not allowed without a token"}, status=403)
        if expected is not None and not _is_public(request.path):
            given = request.query.get("token", "")
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                given = auth[len("Bearer "):].strip()
            if not hmac.compare_digest(given.encode(), expected):
                return web.json_response(
                    {"error": "unauthorised: pass ?token= or Authorization: Bearer"},
                    status=401, headers={"WWW-Authenticate": 'Bearer realm="thalex-mm"'})
        response = await handler(request)
        response.headers.update(_SECURITY_HEADERS)
        return response

    return middleware


class _Site:
    """An aiohttp app on one host:port, with start/stop and the URL it listens on."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self) -> str:
        if self._runner is not None:
            raise RuntimeError("server already started")
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or ()
        port = sockets[0].getsockname()[1] if sockets else self.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.port = int(port)
        self.url = f"http://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


class DashboardServer:
    """Serve the dashboard for one :class:`StatusHub`.

    Args:
        hub: the bot's hub.
        host: bind address; non-loopback needs a token.
        port: TCP port, 0 = pick a free one (see the URL :meth:`start` returns).
        token: access token; default ``$THALEX_MM_DASHBOARD_TOKEN`` (unset = none).
        metrics: served on ``/metrics``; default ``hub.metrics``.
        stream_hz: maximum SSE updates per second per client (> 0).

    Raises:
        ConfigError: non-loopback host without a token, or an empty token.
    """

    def __init__(
        self,
        hub: StatusHub,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        *,
        metrics: Metrics | None = None,
        stream_hz: float = 4.0,
    ) -> None:
        if not stream_hz > 0:
            raise ValueError(f"DashboardServer stream_hz: got {stream_hz!r}, expected > 0")
        self.hub = hub
        self.metrics = metrics if metrics is not None else hub.metrics
        self._token = _resolve_token(host, token, "dashboard")
        self._interval_s = 1.0 / stream_hz
        self._static = _load_static()
        self._closing = asyncio.Event()
        app = web.Application(middlewares=[_auth_middleware(self._token)])
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._asset)
        app.router.add_get("/api/status", self._status)
        app.router.add_get("/api/stream", self._stream)
        app.router.add_post("/api/kill", self._kill)
        app.router.add_post("/api/resume", self._resume)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._site = _Site(app, host, port)

    @property
    def url(self) -> str | None:
        """``http://host:port/`` once started (without the token), else None."""
        return self._site.url

    @property
    def token_required(self) -> bool:
        """True when requests must carry the token."""
        return self._token is not None

    async def start(self) -> str:
        """Bind and serve; returns ``http://host:port/`` (append ``?token=...`` if one is set).

        Raises:
            OSError: the address is in use or cannot be bound.
        """
        self._closing.clear()
        url = await self._site.start()
        _log.info("dashboard on %s%s", url, " (token required)" if self._token else "")
        return url

    async def stop(self) -> None:
        """Close live streams and stop serving (idempotent)."""
        self._closing.set()
        await self._site.stop()

    # -- handlers ---------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=self._static["index.html"], content_type="text/html",
                            charset="utf-8")

    async def _asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC_FILES:
            raise web.HTTPNotFound()
        return web.Response(body=self._static[name], content_type=_STATIC_FILES[name],
                            charset="utf-8")

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self.hub.status())

    async def _metrics(self, request: web.Request) -> web.Response:
        resp = web.Response(text=self.metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE
        return resp

    async def _confirmed(self, request: web.Request, what: str, action: str) -> web.Response | None:
        """The guard of every control (kill, resume): None when the request may act, else the
        refusal. Only same-origin JSON: a form or a text/plain fetch (no CORS preflight, e.g.
        from a sandboxed iframe with Origin "null") must not reach a switch. The Origin must
        be the dashboard's own; a request without one (not a browser) needs the token, which
        the middleware has checked when one is set.

        Args:
            what: the control as the messages name it (``kill switch``, ``resume``).
            action: what the confirmation does (``trigger the kill switch``).
        """
        if request.content_type != "application/json":
            return web.json_response({"error": f"the {what} takes Content-Type: application/json"},
                                     status=415)
        origin = request.headers.get("Origin")
        own = f"{request.scheme}://{request.host}"
        short = what.split()[0]
        if origin is not None and origin != own:
            return web.json_response({"error": f"cross-origin {short} refused (origin {origin})"},
                                     status=403)
        if origin is None and self._token is None:
            return web.json_response({"error": f"{short} refused: no Origin header and no token"},
                                     status=403)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or body.get("confirm") is not True:
            return web.json_response(
                {"error": f'send a JSON body {{"confirm": true}} to {action}'}, status=400)
        return None

    async def _kill(self, request: web.Request) -> web.Response:
        refused = await self._confirmed(request, "kill switch", "trigger the kill switch")
        if refused is not None:
            return refused
        if not self.hub.kill_switch_set:
            return web.json_response({"killed": False, "error": "no kill switch registered"},
                                     status=503)
        ok = await self.hub.kill(source=f"dashboard {request.remote or ''}".strip())
        status = self.hub.status()
        return web.json_response({"killed": ok, "kill": status["kill"]},
                                 status=200 if ok else 500)

    async def _resume(self, request: web.Request) -> web.Response:
        refused = await self._confirmed(request, "resume", "resume quoting")
        if refused is not None:
            return refused
        ok = await self.hub.resume(source=f"dashboard {request.remote or ''}".strip())
        status = self.hub.status()
        return web.json_response({"resumed": ok, "resume": status["resume"]},
                                 status=200 if ok else 503)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        })
        resp.headers.update(_SECURITY_HEADERS)
        await resp.prepare(request)
        point_seq = fill_seq = 0
        version = -1
        idle_s = 0.0
        closing = self._closing
        try:
            await resp.write(b"retry: 2000\n\n")
            while not closing.is_set():
                hub = self.hub
                if hub.version != version:
                    version = hub.version
                    point_seq, points = hub.points_after(point_seq)
                    fill_seq, fills = hub.fills_after(fill_seq)
                    msg = {"status": hub.status(), "points": points, "fills": fills}
                    data = json.dumps(msg, separators=(",", ":"), allow_nan=False)
                    await resp.write(f"data: {data}\n\n".encode())
                    idle_s = 0.0
                elif idle_s >= 15.0:
                    await resp.write(b": keep-alive\n\n")
                    idle_s = 0.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closing.wait(), self._interval_s)
                idle_s += self._interval_s
        except ConnectionResetError:  # the browser went away
            pass
        return resp


class MetricsServer:
    """``/metrics`` alone on its own port (``monitoring.metrics_port``).

    Args:
        metrics: what to serve.
        host: bind address; non-loopback needs a token (as for the dashboard).
        port: TCP port, 0 = pick a free one.
        token: access token; default ``$THALEX_MM_DASHBOARD_TOKEN``.

    Raises:
        ConfigError: non-loopback host without a token.
    """

    def __init__(self, metrics: Metrics, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None) -> None:
        self.metrics = metrics
        app = web.Application(middlewares=[_auth_middleware(_resolve_token(host, token,
                                                                           "metrics"))])
        app.router.add_get("/metrics", self._metrics)
        self._site = _Site(app, host, port)

    @property
    def url(self) -> str | None:
        """``http://host:port/`` once started, else None."""
        return self._site.url

    async def start(self) -> str:
        """Bind and serve; returns ``http://host:port/``."""
        return await self._site.start()

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        await self._site.stop()

    async def _metrics(self, request: web.Request) -> web.Response:
        resp = web.Response(text=self.metrics.render())
        resp.headers["Content-Type"] = CONTENT_TYPE
        return resp
