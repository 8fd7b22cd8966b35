"""``thalex-mm paper``: the simulated exchange and the quoter in one process, over loopback.

The simulated exchange (synthetic A–S market by default, or a replay) listens on 127.0.0.1 with
a freshly generated API key; the quoter logs in with that key and trades against it over a real
WebSocket — the same code path as live trading. A terminal status (rich) shows what the bot
is doing; at the end (duration or Ctrl-C) a summary is printed and, with a journal, saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.core.market_maker import CoreStatus, MarketMakerCore
from thalex_mm.core.order_ids import run_base_from_wall_clock
from thalex_mm.drivers.monitoring_wiring import start_monitoring
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.drivers.session_log import SessionLog
from thalex_mm.drivers.status_view import render_status
from thalex_mm.sim.app import running_simulated_exchange
from thalex_mm.store import close_crashed_runs

__all__ = ["PaperResult", "run_paper"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperResult:
    """End-of-run figures. PnL in quote currency, amounts in contracts."""

    exit_reason: str
    seconds: float
    fills: int
    volume: float
    pnl_realised: float
    pnl_unrealised: float
    fees: float
    pnl_total: float
    funding: float = 0.0
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
            f"funding            {self.funding:+.2f} USD",
            f"PnL total          {self.pnl_total:+.2f} USD",
            f"final position     {self.position:+.3f} contracts",
            f"max |position|     {self.max_abs_position:.3f} contracts",
            f"requotes           {self.quote_steps} quote steps; {self.inserts} inserts, {self.amends} amends, {self.cancels} cancels",
            f"rejects            {self.rejects}",
            f"reconnects         {self.reconnects}",
            f"open orders left   {self.open_orders_after}",
        ] + ([f"journal run        {self.run_id}"] if self.run_id else [])


async def run_paper(
    config: BotConfig,
    *,
    duration_s: float | None = 60.0,
    replay: Sequence[str] | None = None,
    seed: int = 0,
    journal: Any | None = None,
    show_status: bool = True,
    status_interval_s: float = 0.5,
    hub: Any | None = None,
    dashboard_port: int | None = None,
    sim_kwargs: dict[str, Any] | None = None,
    on_started: Any | None = None,
) -> PaperResult:
    """Run one paper session; returns its summary.

    Args:
        config: BOT_CONFIG (market.network is ignored: the venue is the embedded simulator).
        duration_s: stop after this long (None = until Ctrl-C / SIGTERM).
        replay: recorded data files to replay instead of the synthetic market.
        seed: seed of the synthetic market.
        journal: a ``thalex_mm.store`` journal, or None.
        show_status: render the live terminal status.
        hub: a monitoring hub with ``publish(status, stats, totals)``; None starts the dashboard
            from ``config.monitoring`` (when enabled) and uses its hub.
        dashboard_port: override of ``monitoring.dashboard_port`` (0 = ephemeral).
        sim_kwargs: extra arguments for ``build_simulated_exchange``: the CLI's ``--sim``,
            ``--fault`` and replay-mapping options (``commands.sim_cmd.market_kwargs``), or a
            test's faults/rates. Fee rates given here override the config's.
        on_started: called with ``(sim, quoter)`` once both run (tests and the dashboard).
    """
    started = time.monotonic()
    stop_dashboard = None
    if hub is None:
        hub, stop_dashboard, url = await start_monitoring(config.monitoring, port=dashboard_port)
        if url and show_status:
            print(f"dashboard: {url}", flush=True)
    try:
        return await _run(
            config, duration_s=duration_s, replay=replay, seed=seed, journal=journal,
            show_status=show_status, status_interval_s=status_interval_s, hub=hub,
            sim_kwargs=sim_kwargs, on_started=on_started, started=started,
        )
    finally:
        if stop_dashboard is not None:
            await stop_dashboard()


async def _run(
    config: BotConfig,
    *,
    duration_s: float | None,
    replay: Sequence[str] | None,
    seed: int,
    journal: Any | None,
    show_status: bool,
    status_interval_s: float,
    hub: Any | None,
    sim_kwargs: dict[str, Any] | None,
    on_started: Any | None,
    started: float,
) -> PaperResult:
    key_dir = tempfile.mkdtemp(prefix="thalex-mm-paper-")
    # The simulated exchange charges the fees the model is told about (unless a test overrides).
    kwargs = {
        "maker_fee_rate": config.avellaneda.maker_fee_rate,
        "taker_fee_rate": config.avellaneda.taker_fee_rate,
        **(sim_kwargs or {}),
    }
    async with running_simulated_exchange(seed=seed, replay=replay, key_dir=key_dir, **kwargs) as (sim, keys):
        creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
        core = MarketMakerCore(config, first_client_order_id=run_base_from_wall_clock(time.time_ns()))
        run_id = None
        if journal is not None:
            close_crashed_runs(journal, "paper", config)  # earlier paper runs killed with kill -9
            run_id = journal.start_run("paper", config)
        log = SessionLog(journal, run_id, quote_sample_interval_s=config.monitoring.quote_sample_interval_s, hub=hub)
        quoter = AvellanedaQuoter(config, sim.url, creds, core, on_command=log.on_command, on_event=log.on_event, latency=getattr(hub, "metrics", None))
        if hub is not None and hasattr(hub, "set_kill_switch"):
            hub.set_kill_switch(lambda: quoter.press_kill_switch("dashboard"))
        loop = asyncio.get_running_loop()
        runner = asyncio.create_task(quoter.run(), name="quoter")
        signals_seen = 0

        def on_signal() -> None:
            # First Ctrl-C / SIGTERM: clean shutdown (cancel_session, summary). Second: abort.
            nonlocal signals_seen
            signals_seen += 1
            if signals_seen == 1:
                quoter.request_stop("signal")
            else:
                runner.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_signal)
        if on_started is not None:
            on_started(sim, quoter)
        deadline = None if duration_s is None else time.monotonic() + duration_s
        live = _Live(show_status)
        try:
            while not runner.done():
                await asyncio.wait({runner}, timeout=status_interval_s)
                status = core.status()
                log.drain(core.drain_records(), status.ts_ns)
                log.sample(status)
                if hub is not None:
                    hub.publish(status, quoter.stats, log.totals)
                live.update(status, quoter, log)
                if deadline is not None and time.monotonic() >= deadline:
                    quoter.request_stop("duration reached")
            try:
                exit_reason = await runner
            except asyncio.CancelledError:
                exit_reason = "aborted (second signal)"
        finally:
            live.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)
            if not runner.done():
                runner.cancel()
        status = core.status()
        log.drain(core.drain_records(), status.ts_ns)
        log.finish(status.ts_ns)  # journal the fills still waiting for their fee
        log.sample(status)
        # Shutdown runs cancel_session; give the exchange a moment to finish fanning it out.
        left = len(sim.open_orders(keys.account))
        result = _result(exit_reason, time.monotonic() - started, status, quoter, log, left, run_id)
        if journal is not None:
            journal.finish_run(run_id, exit_reason)
        return result


def _result(exit_reason: str, seconds: float, s: CoreStatus, quoter: AvellanedaQuoter, log: SessionLog, left: int, run_id: str | None) -> PaperResult:
    t = log.totals
    return PaperResult(
        exit_reason=exit_reason, seconds=seconds, fills=s.fills, volume=s.volume,
        pnl_realised=s.pnl_realised, pnl_unrealised=s.pnl_unrealised, fees=s.fees, pnl_total=s.pnl_total, funding=s.funding,
        position=s.position, max_abs_position=max(t.max_abs_position, s.max_abs_position, abs(s.position)),
        quote_steps=s.quote_steps, inserts=t.inserts, amends=t.amends, cancels=t.cancels,
        rejects=s.rejects, reconnects=quoter.stats.reconnects, open_orders_after=left, run_id=run_id,
    )


class _Live:
    """A rich Live view on a terminal; one plain line every few seconds otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stdout.isatty()
        self._live = None
        self._last_line = 0.0
        if self.tty:
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
            self._last_line = now
            s = status
            print(
                f"[{s.trading_state}:{s.state_reason}] mid={_f(s.mid)} fv={_f(s.fair_value)} r={_f(s.reservation)} "
                f"bid={_f(s.our_bid)} ask={_f(s.our_ask)} pos={s.position:+.3f} pnl={s.pnl_total:+.2f} "
                f"σ={_f(s.sigma)} A={_f(s.A)} k={_f(s.k, 3)} fills={s.fills}",
                flush=True,
            )

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def _f(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
