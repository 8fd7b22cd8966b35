"""Reconnect policy: pure backoff schedule and error classification (STYLE.md §9).

``backoff`` takes a seeded random source so tests (and chaos runs) are reproducible;
``classify_error`` decides whether a connection failure is worth retrying.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator

from thalex_mm.config.models import ConnectionConfig

__all__ = ["FatalConnectionError", "backoff", "backoff_from_config", "classify_error"]


class FatalConnectionError(Exception):
    """A failure that retrying cannot fix (bad credentials, refused production confirmation...)."""


def backoff(
    rng: random.Random,
    *,
    initial_s: float = 0.5,
    factor: float = 2.0,
    cap_s: float = 30.0,
    jitter: float = 0.2,
) -> Iterator[float]:
    """Yield reconnect delays in seconds: initial, ×factor each time, capped, with ±jitter.

    Args:
        rng: the random source for jitter (seeded in tests).
        initial_s: first delay, seconds.
        factor: growth per attempt (>= 1).
        cap_s: largest delay before jitter, seconds.
        jitter: fraction of the delay added or removed at random (0..1).
    """
    delay = initial_s
    while True:
        spread = delay * jitter
        yield max(0.0, delay + rng.uniform(-spread, spread))
        delay = min(cap_s, delay * factor)


def backoff_from_config(rng: random.Random, cfg: ConnectionConfig) -> Iterator[float]:
    return backoff(
        rng,
        initial_s=cfg.reconnect_initial_s,
        factor=cfg.reconnect_factor,
        cap_s=cfg.reconnect_cap_s,
        jitter=cfg.reconnect_jitter,
    )


def classify_error(exc: BaseException) -> BaseException | None:
    """Return ``None`` when a reconnect may help, else the exception to raise (fatal).

    Network errors, timeouts, closed connections and server-side HTTP 5xx are transient;
    authentication failures and programming errors are fatal.
    """
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    if isinstance(exc, FatalConnectionError):
        return exc
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return None if status >= 500 or status == 429 else exc
    if isinstance(exc, ConnectionClosed | InvalidHandshake | TimeoutError | socket.gaierror | OSError | EOFError):
        return None
    return exc
