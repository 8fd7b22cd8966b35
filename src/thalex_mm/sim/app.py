"""Assemble a ready-to-run simulated exchange: engine, instrument, market source, login key.

``build_simulated_exchange`` is what ``thalex-mm sim``, paper mode and the end-to-end tests
use; ``running_simulated_exchange`` runs one inside another asyncio program::

    async with running_simulated_exchange(seed=7) as (sim, keys):
        # sim.url == "ws://127.0.0.1:<port>/ws/api/v2"
        # log in with keys.kid and the PEM in keys.private_key_path
        ...

Defaults make the synthetic market look like BTC-PERPETUAL (tick 1 USD, volume tick 0.001):
mid ≈ 65,000 USD; σ = 6 USD/√s (≈ 50 % annualised at that price); market orders of 0.01 BTC
at A = 3/s per side with depth decay k = 0.4 /USD, so a quote 2.5 USD from the mid is hit at
λ = A·e^(−kδ) ≈ 1.1/s and one 5 USD away at ≈ 0.4/s; a background book of 10 levels of
0.5 BTC from 3 ticks outside the mid (public trades print at ≈ 0.7/s per side).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from thalex_mm.data import load_events, map_events
from thalex_mm.protocol.auth import generate_rsa_keypair
from thalex_mm.sim.engine import EngineConfig, MatchingEngine
from thalex_mm.sim.faults import FaultPlan
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed, MarketSource
from thalex_mm.sim.rate_limit import RateLimits
from thalex_mm.sim.server import SimExchange, SimServerConfig
from thalex_mm.sim.sources import ReplaySource, SyntheticMarket, SyntheticParams

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_KID",
    "SimKeys",
    "build_simulated_exchange",
    "default_synthetic_params",
    "running_simulated_exchange",
]

DEFAULT_KID = "K000000001"
DEFAULT_ACCOUNT = "A000000001"
PRIVATE_KEY_FILE_NAME = "sim_private_key.pem"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimKeys:
    """The login credentials of the simulated exchange's one account.

    Attributes:
        kid: API key name to put in the login token header.
        account: account number the key logs into.
        private_key_path: PEM file (mode 0600) holding the RSA private key; an absolute path.
        public_key_pem: the registered public key.
    """

    kid: str
    account: str
    private_key_path: Path
    public_key_pem: str

    def private_key_pem(self) -> str:
        """Read the private key (a credential: never log it)."""
        return self.private_key_path.read_text()


def default_synthetic_params(**overrides: object) -> SyntheticParams:
    """BTC-PERPETUAL-like synthetic market parameters (see module docstring); keyword
    arguments override single fields."""
    base: dict[str, object] = {
        "initial_mid": 65_000.0,
        "sigma": 6.0,
        "dt_s": 0.1,
        "arrival_rate_per_s": 3.0,
        "k": 0.4,
        "trade_qty": 0.01,
        "tick_size": BTC_PERPETUAL.tick_size,
        "background_offset_ticks": 3,
        "background_sizes": (0.5,) * 10,
        "mark_interval_s": 0.5,
        "funding_rate": 0.0001,
    }
    base.update(overrides)
    return SyntheticParams(**base)  # type: ignore[arg-type]


def _write_private_key(key_dir: str | PathLike[str] | None, private_pem: str) -> Path:
    # Absolute: the path is printed for other processes (started elsewhere) to read.
    chosen = key_dir if key_dir is not None else tempfile.mkdtemp(prefix="thalex-sim-")
    directory = Path(chosen).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PRIVATE_KEY_FILE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(private_pem)
    os.chmod(path, 0o600)  # also when the file existed with wider permissions
    return path


def build_simulated_exchange(
    *,
    seed: int = 0,
    replay: Sequence[str | PathLike[str]] | None = None,
    speed: float | None = 1.0,
    host: str = "127.0.0.1",
    port: int = 0,
    key_dir: str | PathLike[str] | None = None,
    kid: str = DEFAULT_KID,
    account: str = DEFAULT_ACCOUNT,
    maker_fee_rate: float = 0.0001,
    taker_fee_rate: float = 0.0005,
    synthetic: SyntheticParams | None = None,
    source: MarketSource | None = None,
    faults: FaultPlan | None = None,
    rate_limits: RateLimits | None = None,
    publish_interval_s: float = 0.05,
    ping_interval_s: float = 1.0,
    clock_ns: Callable[[], int] = time.time_ns,
) -> tuple[SimExchange, SimKeys]:
    """Build (not start) a simulated exchange with one BTC-PERPETUAL market and one API key.

    Args:
        seed: seed of the synthetic market.
        replay: recorded data files to replay instead of the synthetic market (any format
            ``load_events`` reads); prices/sizes are snapped to the BTC-PERPETUAL grid.
        speed: replay speed factor (1 = real time), ``None`` = as fast as possible.
        host: bind address.
        port: TCP port, 0 = ephemeral.
        key_dir: where the private key file goes (created; default: a fresh temp dir).
        kid: API key name registered for the generated key.
        account: account number of that key.
        maker_fee_rate: maker fee, fraction of notional.
        taker_fee_rate: taker fee, fraction of notional.
        synthetic: synthetic-market parameters (default ``default_synthetic_params()``).
        source: any market source (overrides ``replay`` and ``synthetic``).
        faults: fault plan (healthy by default).
        rate_limits: per-connection message budgets.
        publish_interval_s: public feed cadence, seconds.
        ping_interval_s: server ping / watchdog cadence, seconds.
        clock_ns: wall clock, ns.

    Returns:
        ``(exchange, keys)``; ``await exchange.start()`` returns the URL.
    """
    engine = MatchingEngine(
        EngineConfig(maker_fee_rate=maker_fee_rate, taker_fee_rate=taker_fee_rate)
    )
    engine.add_instrument(BTC_PERPETUAL)
    trade_mode = "sweep"
    if source is None and replay:
        arr = map_events(load_events(list(replay)), target_tick=1.0, target_volume_tick=0.001)
        source = ReplaySource(arr, speed)
        trade_mode = "print"
    elif source is None:
        params = synthetic or default_synthetic_params()
        source = SyntheticMarket(params, seed, start_ts_ns=clock_ns())
    feed = MarketFeed(engine, source, trade_mode=trade_mode, publish_interval_s=publish_interval_s)
    private_pem, public_pem = generate_rsa_keypair()
    path = _write_private_key(key_dir, private_pem)
    config = SimServerConfig(
        host=host, port=port, rate_limits=rate_limits or RateLimits(),
        ping_interval_s=ping_interval_s,
    )
    sim = SimExchange(feed, {kid: (public_pem, account)}, config=config, faults=faults,
                      clock_ns=clock_ns)
    keys = SimKeys(kid=kid, account=account, private_key_path=path, public_key_pem=public_pem)
    return sim, keys


@contextlib.asynccontextmanager
async def running_simulated_exchange(**kwargs: object) -> AsyncIterator[tuple[SimExchange, SimKeys]]:
    """``async with running_simulated_exchange(...) as (sim, keys)``: build, start, and stop
    on exit. Takes the keyword arguments of ``build_simulated_exchange``."""
    sim, keys = build_simulated_exchange(**kwargs)  # type: ignore[arg-type]
    await sim.start()
    try:
        yield sim, keys
    finally:
        await sim.stop()
