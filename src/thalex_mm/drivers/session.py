"""The one shell a live or paper run lives in: live and paper differ only in where the exchange
is (Thalex, or the simulated exchange on loopback) and what the journal calls the run.

The shell wires the quoter to its one sink (``SessionLog``: every core notice as it happens,
every command and event), runs the status loop (journal samples, dashboard, terminal view,
duration), connects the dashboard's kill button, handles signals (the first SIGINT/SIGTERM
stops cleanly, a second aborts) and ends the run with a :class:`SessionSummary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials
from thalex_mm.core.market_maker import CoreStatus, MarketMakerCore
from thalex_mm.core.order_ids import run_base_from_wall_clock
from thalex_mm.drivers.monitoring_wiring import start_monitoring, wire_controls
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.drivers.session_log import SessionLog
from thalex_mm.drivers.status_view import render_status

if TYPE_CHECKING:
    from thalex_mm.monitoring.bridge import CoreStatusHub

__all__ = ["SessionSummary", "run_session"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """End-of-run figures of a live or paper run. PnL in quote currency, amounts in contracts."""

    exit_reason: str
    seconds: float
    fills: int
    volume: float
    pnl_realised: float
    pnl_unrealised: float
    fees: float
    pnl_total: float
    funding: float = 0.0
    fee_rates: str = ""
    """The fee rates that applied and their source (``thalex_mm.fees.FeeRates.describe``)."""
    position: float
    max_abs_position: float
    quote_steps: int
    inserts: int
    amends: int
    cancels: int
    rejects: int
    reconnects: int
    open_orders_after: int
    run_id: str | None

    def lines(self) -> list[str]:
        return [
            f"exit reason        {self.exit_reason}",
            f"duration           {self.seconds:.1f} s",
            f"fills              {self.fills}",
            f"volume             {self.volume:.3f} contracts",
            f"PnL realised       {self.pnl_realised:+.2f} USD",
            f"PnL unrealised     {self.pnl_unrealised:+.2f} USD",
            f"fees               {self.fees:.2f} USD",
            *([f"fee rates          {self.fee_rates}"] if self.fee_rates else []),
            f"funding            {self.funding:+.2f} USD",
            f"PnL total          {self.pnl_total:+.2f} USD",
            f"final position     {self.position:+.3f} contracts",
            f"max |position|     {self.max_abs_position:.3f} contracts",
            f"requotes           {self.quote_steps} quote steps; {self.inserts} inserts, {self.amends} amends, {self.cancels} cancels",
            f"rejects            {self.rejects}",
            f"reconnects         {self.reconnects}",
            f"open orders left   {self.open_orders_after}",
        ] + ([f"journal run        {self.run_id}"] if self.run_id else [])


async def run_session(
    config: BotConfig,
    url: str,
    credentials: Credentials,
    *,
    journal: Any | None,
    run_id: str | None,
    hub: CoreStatusHub | None = None,
    dashboard_port: int | None = None,
    duration_s: float | None,
    status_interval_s: float,
    publish_interval_s: float = 0.0,
    show_status: bool = False,
    open_orders_left: Callable[[CoreStatus], int] | None = None,
    on_started: Callable[[AvellanedaQuoter], None] | None = None,
    fee_rates: str = "",
) -> SessionSummary:
    """Run the quoter against ``url`` until the duration, a signal or a fatal error.

    Args:
        journal / run_id: the journal (None: nothing written) and its run, started by the
            caller (who also closes the journal); the run is finished here.
        hub: the dashboard hub; None starts the dashboard (and metrics) from
            ``config.monitoring`` on ``dashboard_port`` (0 = any free port), if enabled.
        duration_s: stop after this long, seconds (None: until a signal).
        status_interval_s / publish_interval_s: period of the status loop and least time
            between two dashboard publications, seconds.
        show_status: the terminal status (rich on a terminal, a line every 5 s otherwise).
        open_orders_left: the summary's "open orders left" (default: the orders the core
            still knows of).
        on_started: called with the quoter once it runs.
        fee_rates: the fee rates that applied, as the summary names them.
    """
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        if hub is None:
            hub, stop_dashboard, dash_url = await start_monitoring(config.monitoring, port=dashboard_port)
            stack.push_async_callback(stop_dashboard)
            if dash_url:
                print(f"dashboard   {dash_url}", flush=True)
        # client order ids from the wall clock at start: never those of an earlier run (order_ids)
        core = MarketMakerCore(config, first_client_order_id=run_base_from_wall_clock(time.time_ns()))
        log = SessionLog(journal, run_id, quote_sample_interval_s=config.monitoring.quote_sample_interval_s,
                         hub=hub, instrument=config.market.instrument)
        quoter = AvellanedaQuoter(config, url, credentials, core, on_command=log.on_command, on_event=log.on_event,
                                  on_notices=log.on_notices, latency=hub.metrics if hub is not None else None)
        wire_controls(hub, quoter, config)  # the dashboard's kill, resume and limits
        runner = asyncio.create_task(quoter.run(), name="quoter")
        stack.enter_context(_signals_stop(quoter, runner))
        view = _TerminalView(show_status)
        stack.callback(view.stop)
        if on_started is not None:
            on_started(quoter)
        deadline = None if duration_s is None else started + duration_s
        next_publish, exit_reason = started, "stopped"
        try:
            while not runner.done():
                await asyncio.wait({runner}, timeout=status_interval_s)
                status = core.status()
                log.sample(status)
                if hub is not None and time.monotonic() >= next_publish:
                    next_publish = time.monotonic() + publish_interval_s
                    hub.publish(status, quoter.stats, log.totals)
                view.update(status, quoter, log)
                if deadline is not None and time.monotonic() >= deadline:
                    quoter.request_stop("duration reached")
            try:
                exit_reason = await runner
            except asyncio.CancelledError:
                exit_reason = "aborted (second signal)"
        finally:
            if not runner.done():
                runner.cancel()
            status = core.status()
            try:
                log.finish(status.ts_ns)  # journal the fills still waiting for their fee
                log.sample(status)
            finally:
                exit_reason = log.outcome.exit_reason(exit_reason)  # a kill or risk halt leads
                if journal is not None:
                    journal.finish_run(run_id, exit_reason)
    t = log.totals
    return SessionSummary(
        exit_reason=exit_reason, seconds=time.monotonic() - started, fills=status.fills, volume=status.volume,
        pnl_realised=status.pnl_realised, pnl_unrealised=status.pnl_unrealised, fees=status.fees,
        pnl_total=status.pnl_total, funding=status.funding, position=status.position,
        max_abs_position=max(t.max_abs_position, status.max_abs_position, abs(status.position)),
        quote_steps=status.quote_steps, inserts=t.inserts, amends=t.amends, cancels=t.cancels,
        rejects=status.rejects, reconnects=quoter.stats.reconnects, run_id=run_id, fee_rates=fee_rates,
        open_orders_after=len(status.open_orders) if open_orders_left is None else open_orders_left(status),
    )


@contextlib.contextmanager
def _signals_stop(quoter: AvellanedaQuoter, runner: asyncio.Task[str]):
    """First SIGINT/SIGTERM: clean shutdown (cancel_session, summary). Second: abort."""
    loop = asyncio.get_running_loop()
    seen: list[None] = []  # one entry per signal

    def on_signal() -> None:
        seen.append(None)
        quoter.request_stop("signal") if len(seen) == 1 else runner.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


class _TerminalView:
    """A rich Live view on a terminal; one plain line every few seconds otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._live = None
        self._last_line = 0.0
        if enabled and sys.stdout.isatty():
            from rich.live import Live

            self._live = Live(auto_refresh=False, transient=False)
            self._live.start()

    def update(self, status: CoreStatus, quoter: AvellanedaQuoter, log: SessionLog) -> None:
        if not self.enabled:
            return
        if self._live is not None:
            self._live.update(render_status(status, quoter.stats, log.totals), refresh=True)
            return
        now = time.monotonic()
        if now - self._last_line >= 5.0:
            self._last_line, s = now, status
            print(
                f"[{s.trading_state}:{s.state_reason}] mid={_f(s.mid)} fv={_f(s.fair_value)} r={_f(s.reservation)} "
                f"bid={_f(s.our_bid)} ask={_f(s.our_ask)} pos={s.position:+.3f} pnl={s.pnl_total:+.2f} "
                f"σ={_f(s.sigma)} A={_f(s.A)} k={_f(s.k, 3)} fills={s.fills}", flush=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def _f(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
