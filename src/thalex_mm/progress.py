"""Progress of long work (backtests, sweeps, data conversion, walk-forward evaluations).

One reusable reporter so every long command looks the same to the person waiting:

- on a terminal: a rich progress bar with done/total (simulated time, runs or files),
  events per second, ETA and PnL so far;
- otherwise (a log file, CI, a pipe): one plain line per 10 % and one at the end, so logs
  stay short.

Use::

    from thalex_mm.progress import Progress

    with Progress("backtest", total=7200.0, unit="sim_s") as progress:
        for ...:
            progress.update(done=simulated_s, events=events_so_far, pnl=pnl_so_far)

Long-running library functions take an optional ``progress`` argument typed
:class:`ProgressSink` (anything with ``update``); pass nothing and they stay silent, so tests
and workers print nothing. ``unit`` says how ``done``/``total`` are shown: ``"sim_s"``
(simulated seconds, shown as ``1h02m``), ``"runs"`` or ``"files"``.

The reporter reads the wall clock (``time.monotonic``) itself; the clock is injectable for
tests. ``update`` is cheap to call often: output is rate-limited (at most 10 redraws a
second on a terminal).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

__all__ = ["Progress", "ProgressSink", "format_duration", "format_pnl"]

_UNITS = ("sim_s", "runs", "files")
_REDRAW_S = 0.1


class ProgressSink(Protocol):
    """What long-running functions call; :class:`Progress` is one."""

    def update(self, *, done: float, events: int | None = None, pnl: float | None = None) -> None: ...


def format_duration(seconds: float | None) -> str:
    """``1h02m03s`` / ``4m05s`` / ``12.3s``; ``-`` for None or not finite."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def format_pnl(pnl: float | None) -> str:
    """``+12.34``, ``-0.50``; ``-`` when unknown."""
    return "-" if pnl is None or not math.isfinite(pnl) else f"{pnl:+,.2f}"


class Progress:
    """Shows progress of one piece of long work.

    Args:
        title: what is running, e.g. ``"backtest"``.
        total: the amount of work, in ``unit`` (> 0; a non-positive total shows no ETA).
        unit: ``"sim_s"`` (simulated seconds), ``"runs"`` or ``"files"``.
        stream: where to write (default ``sys.stderr``, so stdout stays the command's result).
        tty: force terminal (True) or plain-line (False) output; None = ask the stream.
        enabled: False makes every call a no-op.
        pnl_label: the label of the PnL figure (e.g. ``"best pnl_total"`` for a sweep).
        clock: monotonic seconds (tests inject one).
        width: terminal width in columns (None = the terminal's own).
    """

    def __init__(
        self,
        title: str,
        total: float,
        *,
        unit: str = "sim_s",
        stream: TextIO | None = None,
        tty: bool | None = None,
        enabled: bool = True,
        pnl_label: str = "PnL",
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        if unit not in _UNITS:
            raise ValueError(f"Progress unit: got {unit!r}, expected one of {', '.join(_UNITS)}")
        self.title = title
        self.total = float(total)
        self.unit = unit
        self.enabled = enabled
        self.pnl_label = pnl_label
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)()) if tty is None else tty
        self._clock = clock
        self._width = width
        self._started = clock()
        self._done = 0.0
        self._events: int | None = None
        self._pnl: float | None = None
        self._next_decile = 1
        self._last_draw = -math.inf
        self._live: Any = None
        self._closed = False

    # -- the figures ------------------------------------------------------------------------

    @property
    def fraction(self) -> float:
        """Done / total, within 0..1 (0 when the total is unknown)."""
        return min(1.0, max(0.0, self._done / self.total)) if self.total > 0 else 0.0

    def _elapsed(self) -> float:
        return max(0.0, self._clock() - self._started)

    def eta_s(self) -> float | None:
        """Seconds left at the average pace so far; None before any progress."""
        f = self.fraction
        if f <= 0.0:
            return None
        return self._elapsed() * (1.0 - f) / f

    def events_per_s(self) -> float | None:
        elapsed = self._elapsed()
        return None if self._events is None or elapsed <= 0 else self._events / elapsed

    def _amount(self, x: float) -> str:
        if self.unit == "sim_s":
            return format_duration(x)
        return f"{x:g}"

    def describe(self) -> str:
        """One plain line: ``backtest 30% 36m00s/2h00m00s simulated, 350,000 events/s, ETA 12.0s, PnL +1.20``."""
        parts = [f"{self.title} {self.fraction * 100:3.0f}%",
                 f"{self._amount(self._done)}/{self._amount(self.total)}"
                 + (" simulated" if self.unit == "sim_s" else f" {self.unit}")]
        rate = self.events_per_s()
        if rate is not None:
            parts.append(f"{rate:,.0f} events/s")
        parts.append(f"ETA {format_duration(self.eta_s())}")
        if self._pnl is not None:
            parts.append(f"{self.pnl_label} {format_pnl(self._pnl)}")
        return ", ".join(parts)

    # -- the calls --------------------------------------------------------------------------

    def update(self, *, done: float, events: int | None = None, pnl: float | None = None) -> None:
        """Report the work done so far (absolute, in ``unit``), events processed, PnL so far."""
        if not self.enabled or self._closed:
            return
        self._done = float(done)
        if events is not None:
            self._events = int(events)
        if pnl is not None:
            self._pnl = float(pnl)
        if self._tty:
            now = self._clock()
            if now - self._last_draw >= _REDRAW_S:
                self._last_draw = now
                self._draw()
            return
        if self._next_decile <= 9 and self._next_decile / 10 <= self.fraction < 1.0:
            self._next_decile = int(self.fraction * 10) + 1  # one line, however far it jumped
            self._line()

    def advance(self, n: float = 1.0, *, events: int | None = None, pnl: float | None = None) -> None:
        """Add ``n`` to the work done (runs, files)."""
        self.update(done=self._done + n, events=events, pnl=pnl)

    def close(self) -> None:
        """The work ended: a last line (plain) or the final bar (terminal)."""
        if not self.enabled or self._closed:
            return
        self._closed = True
        if self._tty:
            self._draw()
            if self._live is not None:
                self._live.stop()
                self._live = None
        else:
            self._line(final=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- output -----------------------------------------------------------------------------

    def _line(self, final: bool = False) -> None:
        text = self.describe() + (f"; took {format_duration(self._elapsed())}" if final else "")
        self._stream.write(text + "\n")
        self._stream.flush()

    def _draw(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.progress_bar import ProgressBar
        from rich.table import Table

        row = Table.grid(padding=(0, 1))
        row.add_row(
            f"[bold]{self.title}[/]",
            ProgressBar(total=1.0, completed=self.fraction, width=30),
            self.describe().split(" ", 1)[1],
        )
        if self._live is None:
            console = Console(file=self._stream, force_terminal=True, width=self._width)
            self._live = Live(row, console=console, auto_refresh=False, transient=False)
            self._live.start()
        self._live.update(row, refresh=True)
