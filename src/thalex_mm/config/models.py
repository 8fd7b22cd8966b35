"""BOT_CONFIG: the single, typed, validated tree of settings.

Every field states its unit, default and allowed range in its description. Models are frozen,
keyword-only, and reject unknown keys (a typo must never pass silently). Secrets are *not* here:
they come from the environment or a key file (see ``thalex_mm.config.secrets``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from thalex_mm.fees import DEFAULT_MAKER_FEE_RATE, DEFAULT_TAKER_FEE_RATE

__all__ = [
    "CROSS_FIELD_RULES",
    "DASHBOARD_TOKEN_ENV",
    "AvellanedaConfig",
    "BotConfig",
    "ConnectionConfig",
    "FairValueSource",
    "HorizonMode",
    "KillSwitchAction",
    "LeftoverPolicy",
    "MarketConfig",
    "MonitoringConfig",
    "Network",
    "OrderConfig",
    "QuotingConfig",
    "RiskConfig",
    "TechnicalConfig",
    "VolatilityEstimator",
    "cross_field_problems",
]


class _Section(BaseModel):
    # allow_inf_nan=False: an infinite limit would silently switch a check off
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


def _f(default, description: str, **constraints):
    return Field(default, description=description, **constraints)


class Network(StrEnum):
    TEST = "test"
    PROD = "prod"
    SIM = "sim"


class HorizonMode(StrEnum):
    """Finite session ending at a set time; rolling window of fixed length; infinite (GLFT)."""

    FINITE = "finite"
    ROLLING = "rolling"
    INFINITE = "infinite"


class FairValueSource(StrEnum):
    MID = "mid"
    MICROPRICE = "microprice"
    MARK = "mark"
    INDEX_BASIS = "index_basis"


class VolatilityEstimator(StrEnum):
    EWMA = "ewma"
    REALISED = "realised"
    RANGE = "range"
    FAST = "fast"  # EWMA of sub-second mid changes: the quoting timescale
    FAST_RANGE = "fast_range"  # Parkinson range on short bars: the quoting timescale


class LeftoverPolicy(StrEnum):
    """What to do with live orders of the account this process did not create."""

    CANCEL = "cancel"
    KEEP = "keep"


class KillSwitchAction(StrEnum):
    CANCEL = "cancel"
    CANCEL_AND_FLATTEN = "cancel_and_flatten"


PosFloat = Annotated[float, Field(gt=0)]


class MarketConfig(_Section):
    instrument: str = _f("BTC-PERPETUAL", "Instrument to quote (Thalex name). Default BTC-PERPETUAL.", min_length=1)
    underlying: str = _f("BTCUSD", "Underlying / index name, e.g. BTCUSD. Default BTCUSD.", min_length=1)
    network: Network = _f(Network.SIM, "Venue: sim (embedded simulator), test (testnet) or prod. Default sim.")
    url: str | None = _f(None, "Override the WebSocket URL (any Thalex-protocol endpoint). Default: from network.")
    account: str | None = _f(None, "Account number to log in to; default: the key's default account.")


class OrderConfig(_Section):
    sizes: tuple[PosFloat, ...] | None = _f(None, "Order size per level, contracts (BTC for BTC-PERPETUAL); one entry per level, > 0. Unset (default) = size_notional converted at the price when quoting starts (docs/model.md §9).", max_length=10)
    size_notional: float = _f(500.0, "Order size of every level when sizes is unset, quote currency (USD) of notional, > 0: converted to contracts at the first fair price, rounded down to the volume tick, at least the instrument's minimum amount. Default 500.", gt=0)
    levels: int = _f(1, "Number of quote levels per side, 1-10. Default 1.", ge=1, le=10)
    level_spacing_ticks: int = _f(5, "Distance between consecutive levels, ticks, >= 1. Default 5.", ge=1)
    level_spacing_fraction: float | None = _f(None, "If set, spacing as a fraction of the half-spread (> 0, <= 5) instead of ticks.", gt=0, le=5)
    amend_tolerance_ticks: int = _f(2, "Leave an order alone while its price is up to this many ticks less aggressive than the wanted price (queue priority), >= 0; an order more aggressive than wanted is moved back at once. Default 2.", ge=0)
    label: str = _f("AS", "Order label, <= 32 chars of [A-Za-z0-9<>|_-]. Default AS.", pattern=r"^[A-Za-z0-9<>|_\-]{1,32}$")
    post_only: bool = _f(True, "Send post_only limit orders. Default true.")
    reject_post_only: bool = _f(False, "With post_only: cancel instead of repricing when the order would cross. Default false.")
    use_mass_quote: bool = _f(False, "Quote with private/mass_quote (needs an MM account and MMP). Default false.")
    mmp_trade_amount: float = _f(0.1, "MMP: contracts that may trade before the group's quotes are pulled, > 0. Default 0.1.", gt=0)
    mmp_quote_amount: float = _f(0.1, "MMP: largest single quote, contracts, >= mmp_trade_amount. Default 0.1.", gt=0)
    leftover_orders: LeftoverPolicy = _f(LeftoverPolicy.CANCEL, "Live orders of the account this run did not create (another session, an earlier run), on the quoted instrument: cancel them by order id at start and after each reconnect, or keep them (never touched; counted against every limit). Default cancel.")


    def size_for_level(self, level: int) -> float:
        """Base size of ``level`` (0 = top of book), contracts.

        Raises:
            ValueError: sizes unset and not yet resolved for the instrument
                (``core.instrument_scale.resolve_for_instrument``).
        """
        if self.sizes is None:
            raise ValueError("order.sizes: unset; resolve it for the instrument first (size_notional at the price)")
        return self.sizes[level] if len(self.sizes) > 1 else self.sizes[0]


class QuotingConfig(_Section):
    fair_value: FairValueSource = _f(FairValueSource.MICROPRICE, "Fair value: mid, microprice, mark, or index_basis (index plus a smoothed basis). Default microprice (measured on the shared sessions, docs/model.md §8).")
    basis_halflife_s: float = _f(30.0, "Half-life of the index-basis EWMA, seconds, > 0. Default 30.", gt=0)
    funding_adjust: bool = _f(True, "Shift fair value by the expected funding over the horizon (perpetuals). Default true.")
    min_spread_ticks: int = _f(2, "Minimum total spread (ask - bid), ticks, >= 1. Default 2.", ge=1)
    max_spread_ticks: int = _f(2000, "Maximum total spread, ticks, >= min_spread_ticks. Default 2000.", ge=1)
    min_requote_interval_ms: int = _f(100, "Minimum time between quote steps that advance quotes or insert, ms, >= 0; retreats, cancels and risk pulls go out at once. Default 100.", ge=0)
    allow_cross: bool = _f(False, "Allow quotes that cross the opposite best (false: clamp one tick behind it). Default false.")
    one_sided_at_limit: bool = _f(True, "At the soft position limit, quote only the side that reduces inventory. Default true.")
    toxicity_enabled: bool = _f(True, "Trade-flow toxicity: skew and widen against one-sided taker flow (docs/model.md §8). Default true.")
    toxicity_halflife_s: float = _f(2.0, "Half-life of the taker-flow imbalance, seconds, > 0. Default 2.", gt=0)
    toxicity_skew: float = _f(1.0, "Centre shift at full imbalance, in model half-spreads, >= 0. Default 1.", ge=0)
    toxicity_widen: float = _f(2.0, "Extra distance of the side facing the flow at full imbalance, in model half-spreads, >= 0. Default 2.", ge=0)
    fade_enabled: bool = _f(False, "Fade: back the side just filled off by fade_halfspreads model half-spreads per fill, decaying. Default false (better markouts but lower PnL per notional on the shared sessions: docs/model.md §8).")
    fade_halfspreads: float = _f(1.0, "Extra distance of the filled side per fill, model half-spreads, >= 0. Default 1.", ge=0)
    fade_halflife_s: float = _f(5.0, "Half-life of the fade, seconds, > 0. Default 5.", gt=0)
    markout_monitor_enabled: bool = _f(True, "Widen both sides by the bot's own recent adverse markout. Default true.")
    markout_horizon_s: float = _f(5.0, "Markout horizon of the monitor, seconds, > 0. Default 5.", gt=0)
    markout_halflife_fills: float = _f(20.0, "Half-life of the markout average, fills, > 0. Default 20.", gt=0)
    tape_markout_enabled: bool = _f(True, "Keep quotes at least at the break-even depth learned from public sweeps: where a resting quote's markout after markout_horizon_s stops being negative (docs/model.md §8). Default true.")
    tape_markout_min_fills: int = _f(10, "Public sweeps a depth needs before the break-even rule uses it, >= 1. Default 10.", ge=1)
    markout_widen: float = _f(1.0, "Extra distance per unit of adverse mean markout (quote currency per quote currency), >= 0. Default 1.", ge=0)
    inventory_age_enabled: bool = _f(False, "Inventory half-life control: move the quote centre toward the reducing side as the position ages (docs/model.md §8). Default false.")
    inventory_age_horizon_s: float = _f(10.0, "Age of a position at which the inventory-age shift is full, seconds, > 0. Default 10 (the markout horizon over which the shared sessions' losses build).", gt=0)
    inventory_age_skew: float = _f(1.0, "Full inventory-age centre shift, in model half-spreads, >= 0. Default 1.", ge=0)
    trend_fade_enabled: bool = _f(True, "Trend fade: move the quote centre against the trend slope (technical.trend_ema_s EMA of 1 s log returns) by trend_fade_s seconds of it; prices on the shared sessions revert at the quoting timescale (docs/model.md §8). Default true.")
    trend_fade_s: float = _f(5.0, "Seconds of trend slope the centre moves against, -600..600: centre shift = −slope (log return per s) × price × this; negative follows the trend (momentum). Default 5 (measured: 10 fades too far, hurts two-sided uptime; -10 momentum loses everywhere).", ge=-600, le=600)



class AvellanedaConfig(_Section):
    gamma: float | None = _f(None, "Risk aversion γ, 1/(quote currency · unit) in model units, > 0. Unset (default) = gamma_per_tick / tick size (docs/model.md §9).", gt=0, le=1e9)
    gamma_per_tick: float = _f(0.01, "Risk aversion per tick when gamma is unset, 1/(tick · unit), > 0, <= 100: γ = gamma_per_tick / tick size, so the inventory skew in ticks does not depend on the price level. Default 0.01 (γ = 0.1/USD on a 0.1 USD tick).", gt=0, le=100)
    horizon: HorizonMode = _f(HorizonMode.INFINITE, "finite (session ends at session_end_utc), rolling (horizon_s ahead), infinite (GLFT). Default infinite.")
    horizon_s: float = _f(3600.0, "Rolling horizon length T − t, seconds, > 0. Default 3600.", gt=0)
    session_end_utc: str = _f("08:00", "Finite mode: session end, HH:MM UTC (Thalex settles at 08:00). Default 08:00.", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    k: float = _f(0.4, "Fixed order-arrival decay k, 1/quote currency (λ = A·e^(−kδ)), used only when estimate_intensity is false (the estimator works in ticks and learns its prior from the market), > 0. Default 0.4.", gt=0)
    A: float = _f(3.0, "Order-arrival intensity A at δ = 0, arrivals/second per side, > 0: the fixed value when estimate_intensity is false, else the centre of a one-order prior (the fit starts from it and leaves it as trades arrive). Default 3.", gt=0)
    estimate_intensity: bool = _f(True, "Estimate A and k online from public trades, in ticks (docs/model.md §4). Default true.")
    intensity_window_s: float = _f(600.0, "Trade window for the A/k fit, seconds, > 0. Default 600.", gt=0)
    intensity_min_trades: int = _f(50, "Strength of the market-learned prior of k, pseudo-orders, >= 5: the fit's own orders outweigh it (confidence >= 0.5, source 'fit') once the window holds this many. Default 50.", ge=5)
    intensity_max_depth_ticks: float = _f(10.0, "Depths beyond the touch deeper than this count as 'at least this deep' in the k fit (the tail of large sweeps does not set quotes near the touch), ticks, >= 1. Default 10.", ge=1)
    recalibrate_interval_s: float = _f(30.0, "A/k recalibration period, seconds, > 0. Default 30.", gt=0)
    eta: float = _f(0.0, "Size shaping η >= 0: the side adding to inventory shrinks by exp(−η·|q|). Default 0 (off).", ge=0)
    unit_size: float | None = _f(None, "Inventory unit, contracts: q = position / unit_size, > 0. Unset (default) = the level-0 order size.", gt=0)
    half_spread_multiplier: float = _f(1.0, "GLFT: multiplier of the half-spread, > 0. Default 1.", gt=0)
    skew_multiplier: float = _f(1.0, "GLFT: multiplier of the skew per unit of inventory, >= 0. Default 1.", ge=0)
    maker_fee_rate: float = _f(DEFAULT_MAKER_FEE_RATE, "Maker fee rate of your account, fraction of notional (negative = rebate), -0.01..0.01; the model keeps the half-spread above it and paper mode charges it. Default 0.", ge=-0.01, le=0.01)
    taker_fee_rate: float = _f(DEFAULT_TAKER_FEE_RATE, "Taker fee rate, fraction of notional, 0..0.01; paper mode charges it too. Default 0.0005 (5 bp).", ge=0, le=0.01)


class RiskConfig(_Section):
    position_soft_limit: float | None = _f(None, "|position| above which we skew harder / quote one side, contracts, > 0. Unset (default) = soft_limit_orders × the level-0 order size; set both limits or neither.", gt=0)
    position_hard_limit: float | None = _f(None, "|position| at which we only reduce (REDUCING), contracts, > soft limit. Unset (default) = hard_limit_orders × the level-0 order size; set both limits or neither.", gt=0)
    soft_limit_orders: float = _f(5.0, "Soft position limit when position_soft_limit is unset, in level-0 order sizes, > 0, < hard_limit_orders. Default 5.", gt=0)
    hard_limit_orders: float = _f(10.0, "Hard position limit when position_hard_limit is unset, in level-0 order sizes, > 0. Default 10.", gt=0)
    max_notional_usd: float = _f(10_000.0, "Max |position| · mark, quote currency, > 0. Default 10000.", gt=0)
    max_order_size: float | None = _f(None, "Largest single order, contracts, > 0. Unset (default) = the hard position limit (and at least the largest order size).", gt=0)
    max_drawdown_usd: float = _f(500.0, "Equity drawdown from the session peak that halts, quote currency, > 0. Default 500.", gt=0)
    session_loss_limit_usd: float = _f(300.0, "Session loss (realised + unrealised − fees) that halts, quote currency, > 0. Default 300.", gt=0)
    daily_loss_limit_usd: float = _f(1000.0, "Loss since 00:00 UTC that halts, quote currency, > 0. Default 1000.", gt=0)
    trailing_stop_usd: float | None = _f(None, "Halt when PnL falls this far below its peak profit, quote currency, > 0; unset = off.", gt=0)
    max_consecutive_losses: int = _f(10, "Max consecutive losing round trips before a pause, >= 1. Default 10.", ge=1)
    price_band_bps: float = _f(100.0, "No quote farther than this from mark/index, basis points, > 0. Default 100.", gt=0)
    mark_mid_divergence_bps: float = _f(50.0, "No quoting while mid and mark disagree by more than this, bps, > 0. Default 50.", gt=0)
    stale_data_timeout_s: float = _f(5.0, "No book (or no ticker) update for this long pulls quotes, seconds, > 0; raise it for an instrument whose book can stay unchanged longer. Default 5.", gt=0)
    fill_rate_max_fills: int = _f(60, "Fill-rate pause: this many fills ... (>= 1). Default 60.", ge=1)
    fill_rate_window_s: float = _f(10.0, "... within this window, seconds, > 0, pause quoting. Default 10.", gt=0)
    pause_cooldown_s: float = _f(30.0, "Time before a paused state may resume, seconds, > 0. Default 30.", gt=0)
    kill_switch_action: KillSwitchAction = _f(KillSwitchAction.CANCEL, "Kill switch: cancel, or cancel_and_flatten with reduce-only IOC orders. Default cancel.")
    flatten_max_slippage_bps: float = _f(20.0, "Flatten: worst price vs mark, bps, > 0. Default 20.", gt=0)



class TechnicalConfig(_Section):
    volatility_estimator: VolatilityEstimator = _f(VolatilityEstimator.EWMA, "σ estimator the model uses: ewma, realised, range (on the sampling grid / range bars), fast (EWMA of sub-second mid changes) or fast_range (range on fast_range_bar_s bars). Default ewma.")
    fast_sampling_interval_s: float = _f(0.1, "Grid of the quoting-timescale σ (sub-second mid changes), seconds, > 0. Default 0.1.", gt=0)
    fast_halflife_s: float = _f(30.0, "Half-life of the quoting-timescale EWMA σ, seconds, > 0. Default 30.", gt=0)
    fast_range_bar_s: float = _f(1.0, "Bar length of the quoting-timescale range σ, seconds, > 0. Default 1.", gt=0)
    fast_range_window_s: float = _f(60.0, "Window of the quoting-timescale range σ, seconds, > 0. Default 60.", gt=0)
    sampling_interval_s: float = _f(1.0, "Fixed grid for return sampling, seconds, > 0. Default 1.", gt=0)
    ewma_halflife_s: float = _f(60.0, "EWMA half-life, seconds, > 0. Default 60.", gt=0)
    realised_window_s: float = _f(300.0, "Realised-volatility window, seconds, > 0. Default 300.", gt=0)
    range_bar_s: float = _f(10.0, "Bar length for the range (Parkinson) estimator, seconds, > 0. Default 10.", gt=0)
    min_samples: int = _f(30, "Returns needed before σ replaces the prior, >= 2. Default 30.", ge=2)
    sigma_prior_per_sqrt_s: float | None = _f(None, "σ prior before warm-up in quote currency per √second, > 0; unset (default) = relative to the instrument: the quoting-timescale σ once it has min_samples sub-second returns, else sigma_prior_logret_per_sqrt_s × price.", gt=0)
    sigma_prior_logret_per_sqrt_s: float = _f(1e-4, "σ prior as a log return per √second (1e-4 ≈ 56 % a year), used when sigma_prior_per_sqrt_s is unset and nothing is measured yet, > 0. Default 1e-4.", gt=0)
    trend_ema_s: float = _f(60.0, "Trend EMA span, seconds, > 0. Default 60.", gt=0)
    mean_window_s: float = _f(300.0, "Mean-reversion moving-mean window, seconds, > 0. Default 300.", gt=0)


class ConnectionConfig(_Section):
    reconnect_initial_s: float = _f(0.5, "First reconnect delay, seconds, > 0. Default 0.5.", gt=0)
    reconnect_factor: float = _f(2.0, "Backoff multiplier, >= 1. Default 2.", ge=1)
    reconnect_cap_s: float = _f(30.0, "Largest reconnect delay, seconds, >= initial. Default 30.", gt=0)
    reconnect_jitter: float = _f(0.2, "Random jitter as a fraction of the delay, 0..1. Default 0.2.", ge=0, le=1)
    stable_reset_s: float = _f(60.0, "A connection up this long resets the backoff, seconds, > 0. Default 60.", gt=0)
    cancel_on_disconnect_timeout_s: int = _f(6, "set_cancel_on_disconnect timeout_secs, seconds, 1..600. Default 6.", ge=1, le=600)
    ping_interval_s: float = _f(5.0, "WebSocket ping period (the heartbeat), seconds, > 0, < COD timeout. Default 5.", gt=0)
    request_timeout_s: float = _f(5.0, "Request/response timeout, seconds, > 0. Default 5.", gt=0)
    me_rate_per_s: float = _f(10.0, "Matching-engine messages per second before COD, > 0. Default 10.", gt=0)
    me_rate_cod_per_s: float = _f(50.0, "Matching-engine messages per second after set_cancel_on_disconnect, > 0. Default 50.", gt=0)
    cancel_rate_per_s: float = _f(1000.0, "Cancels per second, > 0. Default 1000.", gt=0)
    rate_safety_margin: float = _f(0.2, "Fraction of each budget kept in reserve, 0..0.9. Default 0.2.", ge=0, le=0.9)
    throttle_cooldown_initial_s: float = _f(0.5, "First cooldown after a throttle error (code 4), seconds, > 0. Default 0.5.", gt=0)
    throttle_cooldown_cap_s: float = _f(30.0, "Largest throttle cooldown, seconds, >= initial. Default 30.", gt=0)
    throttle_quiet_reset_s: float = _f(60.0, "Quiet time that resets the cooldown, seconds, > 0. Default 60.", gt=0)
    stale_reconnect_s: float = _f(15.0, "A stream stale this long forces a reconnect, seconds, > 0. Default 15.", gt=0)
    max_task_failures: int = _f(5, "Quoter task failures (internal errors; each pulls the quotes and restarts the connection) tolerated in a row, count, >= 1; one more stops the bot (fatal). A connection up stable_reset_s resets the count. Default 5.", ge=1)



class MonitoringConfig(_Section):
    journal_path: str = _f("runs/journal.sqlite", "SQLite journal file (or a postgresql:// URL). Default runs/journal.sqlite.", min_length=1)
    dashboard_host: str = _f("127.0.0.1", "Dashboard bind address; non-loopback needs THALEX_MM_DASHBOARD_TOKEN. Default 127.0.0.1.")
    dashboard_port: int = _f(8765, "Dashboard port, 0..65535 (0 = ephemeral, -1 would be invalid). Default 8765.", ge=0, le=65535)
    dashboard_enabled: bool = _f(True, "Serve the live dashboard. Default true.")
    metrics_port: int | None = _f(None, "Separate Prometheus port (0..65535); unset = /metrics on the dashboard port.", ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _f("INFO", "Log level. Default INFO.")
    log_format: Literal["text", "json"] = _f("text", "Log format: text or json. Default text.")
    quote_sample_interval_s: float = _f(1.0, "Journal a quote sample at most this often, seconds, > 0. Default 1.", gt=0)


class BotConfig(_Section):
    """BOT_CONFIG: the whole configuration. Sections mirror the design (DESIGN.md §2)."""

    market: MarketConfig = MarketConfig()
    order: OrderConfig = OrderConfig()
    quoting: QuotingConfig = QuotingConfig()
    risk: RiskConfig = RiskConfig()
    technical: TechnicalConfig = TechnicalConfig()
    avellaneda: AvellanedaConfig = AvellanedaConfig()
    connection: ConnectionConfig = ConnectionConfig()
    monitoring: MonitoringConfig = MonitoringConfig()

    @model_validator(mode="after")
    def _cross_field(self):
        problems = cross_field_problems(self.model_dump(mode="python"))
        if problems:
            key, value, expected = problems[0]
            raise ValueError(f"{key}: got {value!r}, expected {expected}")
        return self


# Cross-field rules: (key, relation, other key). Checked on the merged effective values, so the
# loader can report them even when another key in the same section is invalid.
CROSS_FIELD_RULES: tuple[tuple[str, str, str], ...] = (
    ("risk.position_soft_limit", "<", "risk.position_hard_limit"),
    ("risk.soft_limit_orders", "<", "risk.hard_limit_orders"),
    ("quoting.min_spread_ticks", "<=", "quoting.max_spread_ticks"),
    ("order.mmp_trade_amount", "<=", "order.mmp_quote_amount"),
    ("connection.reconnect_initial_s", "<=", "connection.reconnect_cap_s"),
    ("connection.throttle_cooldown_initial_s", "<=", "connection.throttle_cooldown_cap_s"),
    ("connection.ping_interval_s", "<", "connection.cancel_on_disconnect_timeout_s"),
)
_RELATIONS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b}

#: Environment variable holding the dashboard/metrics access token (the same name the dashboard
#: server reads; it is a secret, so it lives in the environment, not in BOT_CONFIG).
DASHBOARD_TOKEN_ENV = "THALEX_MM_DASHBOARD_TOKEN"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1, ``[::1]``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _get(values: dict, path: str):
    section, key = path.split(".")
    sect = values.get(section)
    if isinstance(sect, dict) and key in sect:
        return sect[key]
    model = BotConfig.model_fields[section].annotation
    return model.model_fields[key].default


def cross_field_problems(
    values: dict, env: Mapping[str, str] | None = None
) -> list[tuple[str, object, str]]:
    """Violations of ``CROSS_FIELD_RULES`` plus the size rules, as (key, value, expected).

    ``values`` maps section -> {key: value}; missing keys take their defaults. Values that are not
    numbers are skipped (their own field check reports them). With ``env`` (the process
    environment) the rules that need it are checked too: a non-loopback
    ``monitoring.dashboard_host`` with the dashboard or a metrics port on needs
    ``$THALEX_MM_DASHBOARD_TOKEN``.
    """
    problems: list[tuple[str, object, str]] = []
    if env is not None:
        problems += _token_problems(values, env)
    for key, rel, other in CROSS_FIELD_RULES:
        a, b = _get(values, key), _get(values, other)
        if _numeric(a) and _numeric(b) and not _RELATIONS[rel](a, b):
            problems.append((key, a, f"{rel} {other} ({b})"))
    soft, hard = _get(values, "risk.position_soft_limit"), _get(values, "risk.position_hard_limit")
    if (soft is None) != (hard is None):
        unset = "risk.position_hard_limit" if hard is None else "risk.position_soft_limit"
        key, val = ("risk.position_soft_limit", soft) if hard is None else ("risk.position_hard_limit", hard)
        problems.append((key, val, f"{unset} set too (both position limits explicit, or neither: relative to the order size)"))
    sizes, levels, max_size = _get(values, "order.sizes"), _get(values, "order.levels"), _get(values, "risk.max_order_size")
    if isinstance(sizes, list | tuple) and sizes and all(_numeric(x) for x in sizes):
        if _numeric(levels) and len(sizes) not in (1, levels):
            problems.append(("order.sizes", list(sizes), f"1 entry or order.levels ({levels}) entries"))
        if _numeric(max_size) and max(sizes) > max_size:
            problems.append(("order.sizes", list(sizes), f"every size <= risk.max_order_size ({max_size})"))
    elif isinstance(sizes, list | tuple) and not sizes:
        problems.append(("order.sizes", [], "at least one size"))
    return problems


def _token_problems(values: dict, env: Mapping[str, str]) -> list[tuple[str, object, str]]:
    host = _get(values, "monitoring.dashboard_host")
    enabled = _get(values, "monitoring.dashboard_enabled")
    metrics_port = _get(values, "monitoring.metrics_port")
    serving = enabled is not False or metrics_port is not None
    if not isinstance(host, str) or not serving or is_loopback_host(host):
        return []
    if (env.get(DASHBOARD_TOKEN_ENV) or "").strip():
        return []
    return [("monitoring.dashboard_host", host,
             f"a loopback address (127.0.0.1, ::1, localhost), or set {DASHBOARD_TOKEN_ENV} to "
             "serve the dashboard/metrics on a non-loopback address")]


def _numeric(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
