"""Progress of a long evaluation on stderr: a rich bar on a terminal, plain lines otherwise.

On a terminal the bar redraws in place; when stderr is not a terminal (CI logs, pipes) one
line is written each time another 10 % is done, so logs stay short and readable.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """``update(done, total)`` as work finishes; ``close()`` at the end.

    Args:
        label: what is being done (shown before the figures).
        stream: where to write (default stderr).
        interactive: force the rich bar (True) or plain lines (False); None = bar when the
            stream is a terminal.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None,
                 interactive: bool | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        tty = interactive if interactive is not None else self.stream.isatty()
        self._tenths = 0
        self._bar = None
        self._task = None
        if tty:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f} %"), TimeElapsedColumn(),
                                 console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(label, total=1.0)

    def update(self, done: float, total: float) -> None:
        """``done`` of ``total`` units finished (any unit; ``total`` > 0)."""
        frac = min(1.0, done / total) if total > 0 else 1.0
        if self._bar is not None:
            self._bar.update(self._task, completed=frac)
            return
        tenths = int(frac * 10 + 1e-9)
        if tenths > self._tenths:
            self._tenths = tenths
            self.stream.write(f"{self.label}: {frac * 100:.0f} % done\n")
            self.stream.flush()

    def close(self) -> None:
        """Stop the bar (idempotent)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
