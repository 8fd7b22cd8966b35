"""What ended a run, in words a trader reads: the exit reason of the summary, ``runs`` and journal.

A run stops for one of a few reasons: the operator (``signal``), the planned ``duration``, a
fatal error, or it kept running after trading was halted for good (a kill switch or a sticky
risk halt such as drawdown or session loss). In the last case the halt is what ended the
trading, so it leads the exit reason and the stop that followed is appended:

    kill switch (dashboard 127.0.0.1) at 2026-12-02 17:45:01 UTC; then duration reached
    risk halt: drawdown 812.40 USD from peak at 2026-12-02 17:50:12 UTC; then signal

Only the first sticky halt counts (a later one repeats what is already halted). A sticky halt
that a human reset (``resumed``) no longer ended the run and is forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from thalex_mm.core.reasons import STICKY_REASONS, Reason, TradingState, TradingStateChanged

__all__ = ["RunOutcome", "describe_halt", "utc_text"]


def utc_text(ts_ns: int) -> str:
    """``2026-12-02 17:45:01 UTC`` for a timestamp in ns since the Unix epoch."""
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_halt(change: TradingStateChanged) -> str:
    """One line naming a sticky halt: who or what, and when (UTC)."""
    when = utc_text(change.local_ts_ns or change.exchange_ts_ns)
    if change.reason is Reason.KILL_SWITCH:
        # the core's detail is already "kill switch (<source>)"
        what = change.detail or "kill switch"
    elif change.reason is Reason.MANUAL:
        what = f"manual halt {change.detail}".strip()
    elif change.detail.startswith(change.reason.value):  # "drawdown 812.40 USD from peak"
        what = f"risk halt: {change.detail}"
    else:
        what = f"risk halt: {change.reason.value} {change.detail}".strip()
    return f"{what} at {when}"


class RunOutcome:
    """Watches the core's state changes; composes the exit reason at the end of the run."""

    def __init__(self) -> None:
        self.halt: TradingStateChanged | None = None

    def observe(self, notices: Iterable[Any]) -> None:
        """Take the core's notices (anything not a :class:`TradingStateChanged` is ignored)."""
        for rec in notices:
            if not isinstance(rec, TradingStateChanged):
                continue
            if rec.state is TradingState.HALTED and rec.reason in STICKY_REASONS:
                if self.halt is None:
                    self.halt = rec
            elif rec.state is not TradingState.HALTED and self.halt is not None:
                self.halt = None  # a human lifted the halt: trading went on

    def exit_reason(self, stop_reason: str) -> str:
        """The run's exit reason, given why the driver stopped (``signal``, ``duration
        reached``, ``fatal: ...``)."""
        if self.halt is None:
            return stop_reason
        return f"{describe_halt(self.halt)}; then {stop_reason}"
