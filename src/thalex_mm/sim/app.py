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

Every one of those numbers, the matching-engine settings (fees, queue model, collar band,
self-trade prevention, starting cash, margin), the rate limits and the feed cadence can be set
by name: ``parse_sim_options(["sigma=12", "queue_model=power:2"])`` (the CLI's ``--sim``) and
``build_simulated_exchange(**options.build_kwargs())``; ``SIM_OPTION_KEYS`` lists them.

Replayed data is mapped onto the BTC-PERPETUAL grid by :class:`ReplayMapping`: constant
price/size scales, and per-row USD→BTC sizes for markets that quote sizes in USD (Deribit
BTC-PERPETUAL, BitMEX XBTUSD; detected from Tardis files' ``exchange``/``symbol``).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import gzip
import math
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from thalex_mm.data import DataFormat, detect_format, load_events, map_events
from thalex_mm.data.mapping import usd_contract_market
from thalex_mm.errors import ConfigError
from thalex_mm.fees import DEFAULT_MAKER_FEE_RATE, DEFAULT_TAKER_FEE_RATE
from thalex_mm.protocol.auth import generate_rsa_keypair
from thalex_mm.sim.engine import (
    EngineConfig,
    LogProbQueue,
    MatchingEngine,
    PowerProbQueue,
    QueueModel,
    RiskAverseQueue,
)
from thalex_mm.sim.faults import FaultPlan, parse_key_values
from thalex_mm.sim.market_feed import BTC_PERPETUAL, MarketFeed, MarketSource
from thalex_mm.sim.rate_limit import RateLimits
from thalex_mm.sim.server import SimExchange, SimServerConfig
from thalex_mm.sim.sources import ReplaySource, SyntheticMarket, SyntheticParams

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_KID",
    "QTY_UNITS",
    "SIM_OPTION_KEYS",
    "ReplayMapping",
    "SimKeys",
    "SimOptions",
    "build_simulated_exchange",
    "default_synthetic_params",
    "parse_sim_options",
    "replay_uses_usd_contracts",
    "running_simulated_exchange",
    "sim_options_help",
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


# ---------------------------------------------------------------------------- --sim options

#: Synthetic-market fields that ``--sim`` does not set: the start time is the server's clock
#: and the tick is the instrument's (BTC-PERPETUAL).
_SYNTHETIC_FIXED = frozenset({"start_ts_ns", "tick_size"})
#: Server-level settings of ``build_simulated_exchange``.
_SERVER_DEFAULTS: dict[str, float] = {"publish_interval_s": 0.05, "ping_interval_s": 1.0}
_SERVER_TYPES: dict[str, str] = {"publish_interval_s": "float", "ping_interval_s": "float"}
#: Short names accepted for a key.
_ALIASES: dict[str, str] = {"A": "arrival_rate_per_s", "stp": "self_trade_prevention"}
#: What a value must satisfy beyond its type: ">0" or ">=0" (numbers), ">=1" (ints).
_BOUNDS: dict[str, str] = {
    "initial_mid": ">0", "sigma": ">=0", "dt_s": ">0", "arrival_rate_per_s": ">=0", "k": ">0",
    "trade_qty": ">0", "background_offset_ticks": ">=0", "background_sizes": ">0",
    "mark_interval_s": ">0", "feed_latency_ns": ">=0",
    "collar_band_fraction": ">0", "initial_cash_usd": ">=0", "margin_rate": ">=0",
    "me_per_s": ">=1", "me_cod_per_s": ">=1", "cancels_per_s": ">=1", "lockout_s": ">=0",
    "publish_interval_s": ">0", "ping_interval_s": ">0",
}
_QUEUE_MODELS = "risk_averse, power[:N] (N > 0, default 2), log"


def _field_types(cls: type) -> dict[str, str]:
    # a string (postponed annotations), or the type itself for a compiled class (EngineConfig)
    return {f.name: f.type if isinstance(f.type, str) else f.type.__name__
            for f in dataclasses.fields(cls) if f.init}


def _option_groups() -> dict[str, tuple[str, str, object]]:
    """``key → (group, type name, default)``, built from the dataclasses' fields."""
    out: dict[str, tuple[str, str, object]] = {}
    synth = default_synthetic_params()
    for name, typ in _field_types(SyntheticParams).items():
        if name not in _SYNTHETIC_FIXED:
            out[name] = ("synthetic", typ, getattr(synth, name))
    engine = EngineConfig()
    for name, typ in _field_types(EngineConfig).items():
        out[name] = ("engine", typ, getattr(engine, name))
    limits = RateLimits()
    for name, typ in _field_types(RateLimits).items():
        out[name] = ("rate_limits", typ, getattr(limits, name))
    for name, default in _SERVER_DEFAULTS.items():
        out[name] = ("server", _SERVER_TYPES[name], default)
    return out


_OPTIONS = _option_groups()
#: ``--sim`` keys → (group, type, default); groups: synthetic, engine, rate_limits, server.
SIM_OPTION_KEYS: Mapping[str, tuple[str, str, object]] = _OPTIONS


def _show_default(value: object) -> str:
    if isinstance(value, RiskAverseQueue):
        return "risk_averse"
    if isinstance(value, PowerProbQueue):
        return f"power:{value.n:g}"
    if isinstance(value, LogProbQueue):
        return "log"
    if isinstance(value, tuple):
        if value and all(v == value[0] for v in value):
            return f"{value[0]:g}x{len(value)}"
        return ",".join(f"{v:g}" for v in value) or "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sim_options_help() -> str:
    """The valid ``--sim`` keys with their defaults, for ``--help``."""
    groups: dict[str, list[str]] = {}
    for key, (group, _typ, default) in _OPTIONS.items():
        groups.setdefault(group, []).append(f"{key}={_show_default(default)}")
    parts = [f"{group}: {', '.join(items)}" for group, items in groups.items()]
    return ("; ".join(parts) + f". Aliases: A=arrival_rate_per_s, stp=self_trade_prevention. "
            f"background_sizes: comma-separated sizes or SIZExCOUNT; queue_model: {_QUEUE_MODELS}")


def _expected(key: str, typ: str) -> str:
    bound = {">0": "> 0", ">=0": ">= 0", ">=1": ">= 1"}.get(_BOUNDS.get(key, ""), "")
    if key == "queue_model":
        return f"one of {_QUEUE_MODELS}"
    if typ == "bool":
        return "true/false"
    if typ == "int":
        return f"an int {bound}".rstrip()
    if typ.startswith("tuple"):
        return "comma-separated numbers > 0, or SIZExCOUNT (e.g. 0.5x10), or none"
    base = "a finite number" + (f" {bound}" if bound else "")
    return base + (" or none" if "None" in typ else "")


def _number(text: str, bound: str) -> float:
    v = float(text)
    if not math.isfinite(v) or (bound == ">0" and not v > 0) or (bound == ">=0" and v < 0):
        raise ValueError(text)
    return v


def _parse_queue_model(text: str) -> QueueModel:
    name, _sep, arg = text.partition(":")
    if name in ("risk_averse", "riskaverse") and not arg:
        return RiskAverseQueue()
    if name == "log" and not arg:
        return LogProbQueue()
    if name == "power":
        return PowerProbQueue(_number(arg, ">0") if arg else 2.0)
    raise ValueError(text)


def _parse_option(key: str, typ: str, raw: str) -> object:
    text = raw.strip()
    low = text.lower()
    bound = _BOUNDS.get(key, "")
    if key == "queue_model":
        return _parse_queue_model(low)
    if typ == "bool":
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if typ == "int":
        v = int(text)
        if (bound == ">=0" and v < 0) or (bound == ">=1" and v < 1):
            raise ValueError(text)
        return v
    if typ.startswith("tuple"):
        if low in ("", "none"):
            return ()
        size, x, count = low.partition("x")
        if x:
            n = int(count)
            if n < 0:
                raise ValueError(text)
            return (_number(size, ">0"),) * n
        return tuple(_number(part, ">0") for part in low.split(","))
    if "None" in typ and low in ("", "none"):
        return None
    return _number(text, bound)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimOptions:
    """Parsed ``--sim`` settings: only the keys that were given (the rest keep defaults).

    Attributes:
        values: ``key → parsed value`` (keys of ``SIM_OPTION_KEYS``).
    """

    values: Mapping[str, object] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, object]:
        """The given settings of one group (synthetic, engine, rate_limits, server)."""
        return {k: v for k, v in self.values.items() if _OPTIONS[k][0] == name}

    def build_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``build_simulated_exchange`` carrying these settings (keys
        not given are left out, so the caller's or the defaults apply)."""
        out: dict[str, Any] = {}
        synth = self.group("synthetic")
        if synth:
            out["synthetic"] = default_synthetic_params(**synth)
        engine = self.group("engine")
        for fee in ("maker_fee_rate", "taker_fee_rate"):
            if fee in engine:
                out[fee] = engine.pop(fee)
        if engine:
            out["engine_options"] = engine
        limits = self.group("rate_limits")
        if limits:
            out["rate_limits"] = RateLimits(**limits)  # type: ignore[arg-type]
        out.update(self.group("server"))
        return out


def parse_sim_options(items: Iterable[str]) -> SimOptions:
    """Parse ``key=value`` strings (the CLI's ``--sim``) into :class:`SimOptions`.

    Args:
        items: e.g. ``["sigma=12", "A=5", "queue_model=power:3", "me_per_s=20"]``.

    Raises:
        ConfigError: one problem per bad item, naming ``--sim KEY``, the value and what is
            expected (unknown keys list the valid ones).
    """
    values = parse_key_values(
        items, "--sim", _OPTIONS,
        lambda key, text: _parse_option(key, _OPTIONS[key][1], text),
        lambda key: _expected(key, _OPTIONS[key][1]),
        aliases=_ALIASES,
    )
    options = SimOptions(values=values)
    try:  # the dataclasses' own checks (e.g. SyntheticParams) with CLI names
        options.build_kwargs()
    except ConfigError as exc:
        raise ConfigError([
            (f"--sim {key.rpartition('.')[2]}", value, expected)
            for key, value, expected in exc.problems
        ]) from None
    return options


# ---------------------------------------------------------------------------- replay mapping

#: ``ReplayMapping.qty_unit`` values.
QTY_UNITS = ("auto", "base", "usd")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayMapping:
    """How replayed prices and sizes become BTC-PERPETUAL prices and BTC sizes.

    Attributes:
        price_scale: multiply source prices by this (> 0).
        price_offset: then add this, USD.
        qty_scale: multiply source sizes by this (> 0).
        qty_unit: ``"base"``: sizes are in BTC (times ``qty_scale``); ``"usd"``: sizes are USD
            amounts, each row's size becomes ``amount * qty_scale / price`` BTC; ``"auto"``:
            ``"usd"`` when every replayed file is a Tardis CSV of a USD-sized market (Deribit
            BTC-PERPETUAL/futures, BitMEX XBTUSD), else ``"base"``.
    """

    price_scale: float = 1.0
    price_offset: float = 0.0
    qty_scale: float = 1.0
    qty_unit: str = "auto"

    def __post_init__(self) -> None:
        problems: list[tuple[str, object, str]] = []
        for name in ("price_scale", "qty_scale"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                problems.append((f"--{name.replace('_', '-')}", v, "a finite number > 0"))
        if not (isinstance(self.price_offset, (int, float)) and math.isfinite(self.price_offset)):
            problems.append(("--price-offset", self.price_offset, "a finite number"))
        if self.qty_unit not in QTY_UNITS:
            problems.append(("--qty-unit", self.qty_unit, f"one of {', '.join(QTY_UNITS)}"))
        if problems:
            raise ConfigError(problems)

    def usd_contracts(self, paths: Sequence[str | PathLike[str]]) -> bool:
        """Whether sizes of these files are converted from USD (resolves ``"auto"``)."""
        if self.qty_unit == "auto":
            return replay_uses_usd_contracts(paths)
        return self.qty_unit == "usd"

    def apply(self, paths: Sequence[str | PathLike[str]]) -> Any:
        """Load the files and map them onto the BTC-PERPETUAL grid (tick 1, step 0.001)."""
        return map_events(
            load_events(list(paths)), price_scale=self.price_scale,
            price_offset=self.price_offset, qty_scale=self.qty_scale, target_tick=1.0,
            target_volume_tick=0.001, usd_contracts=self.usd_contracts(paths),
        )


def _tardis_market(path: Path) -> tuple[str, str] | None:
    """``(exchange, symbol)`` of a Tardis CSV's first data row (None when it has none)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:  # type: ignore[operator]
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if len(row) >= 2:
                return row[0], row[1]
    return None


def replay_uses_usd_contracts(paths: Sequence[str | PathLike[str]]) -> bool:
    """True when every file is a Tardis CSV of a market sized in USD (``usd_contract_market``).

    Raises:
        ConfigError: USD-sized and BTC-sized files are mixed (say ``--qty-unit``).
        DataFileError: a file is missing or of unknown format.
    """
    flags: list[bool] = []
    for p in paths:
        market = None
        if detect_format(p) is DataFormat.TARDIS_CSV:
            market = _tardis_market(Path(p))
        flags.append(market is not None and usd_contract_market(*market))
    if any(flags) and not all(flags):
        usd = [str(p) for p, f in zip(paths, flags, strict=True) if f]
        raise ConfigError([("--qty-unit", "auto", "usd or base: these files are sized in USD "
                            f"({', '.join(usd)}) and the others are not")])
    return bool(flags) and all(flags)


# ---------------------------------------------------------------------------- the exchange


class _AppSimExchange(SimExchange):
    """``SimExchange`` that also executes the plan's timed restart (``restart_at_s``)."""

    _POLL_S = 0.05

    def __init__(self, *args: Any, clock_ns: Callable[[], int], **kwargs: Any) -> None:
        super().__init__(*args, clock_ns=clock_ns, **kwargs)
        self._app_clock_ns = clock_ns
        self._app_started_ns = 0
        self._fault_task: asyncio.Task[None] | None = None
        self.restarts = 0

    async def start(self) -> str:
        url = await super().start()
        self._app_started_ns = self._app_clock_ns()
        self._fault_task = asyncio.create_task(self._timed_faults(), name="sim-timed-faults")
        return url

    async def stop(self) -> None:
        task, self._fault_task = self._fault_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await super().stop()

    async def _timed_faults(self) -> None:
        while True:
            await asyncio.sleep(self._POLL_S)
            at = self.faults.restart_at_s
            if at is None or (self._app_clock_ns() - self._app_started_ns) / 1e9 < at:
                continue
            self.faults.restart_at_s = None
            self.restarts += 1
            await self.restart(keep_persistent=self.faults.restart_keep_persistent)


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
    maker_fee_rate: float = DEFAULT_MAKER_FEE_RATE,
    taker_fee_rate: float = DEFAULT_TAKER_FEE_RATE,
    engine_options: Mapping[str, Any] | None = None,
    replay_mapping: ReplayMapping | None = None,
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
            ``load_events`` reads); prices/sizes are mapped by ``replay_mapping`` and snapped
            to the BTC-PERPETUAL grid.
        speed: replay speed factor (1 = real time), ``None`` = as fast as possible.
        host: bind address.
        port: TCP port, 0 = ephemeral.
        key_dir: where the private key file goes (created; default: a fresh temp dir).
        kid: API key name registered for the generated key.
        account: account number of that key.
        maker_fee_rate: maker fee, fraction of notional.
        taker_fee_rate: taker fee, fraction of notional.
        engine_options: other ``EngineConfig`` fields (queue_model, collar_band_fraction,
            self_trade_prevention, initial_cash_usd, margin_rate).
        replay_mapping: price/size mapping of ``replay`` (default: sizes in USD converted to
            BTC for USD-sized Tardis markets, else unchanged).
        synthetic: synthetic-market parameters (default ``default_synthetic_params()``).
        source: any market source (overrides ``replay`` and ``synthetic``).
        faults: fault plan (healthy by default); ``restart_at_s`` is executed too.
        rate_limits: per-connection message budgets.
        publish_interval_s: public feed cadence, seconds.
        ping_interval_s: server ping / watchdog cadence, seconds.
        clock_ns: wall clock, ns.

    Returns:
        ``(exchange, keys)``; ``await exchange.start()`` returns the URL.
    """
    engine = MatchingEngine(
        EngineConfig(maker_fee_rate=maker_fee_rate, taker_fee_rate=taker_fee_rate,
                     **dict(engine_options or {}))
    )
    engine.add_instrument(BTC_PERPETUAL)
    trade_mode = "sweep"
    if source is None and replay:
        arr = (replay_mapping or ReplayMapping()).apply(list(replay))
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
    sim = _AppSimExchange(feed, {kid: (public_pem, account)}, config=config, faults=faults,
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
