"""Runs left unfinished by a dead process (``kill -9``, power loss), told apart from live ones.

Several bots may share one journal (another instrument, another account, paper next to live).
A run without a stop time is only *crashed* when it is of the same mode, instrument, account
(and network, when given) as the run about to start **and** the process that ran it is gone:
the run row records the process id and host name (schema version 4), and the process must be
on this host and no longer alive — or its pid now belongs to a process started after the run
(pid reuse, checked on Linux through ``/proc``). Runs from another host, and runs journaled
before schema version 4 (no pid), are never closed: whether they still run cannot be known.

:func:`close_crashed_runs` is the one call a driver makes before ``start_run``; ``live``
additionally journals the fills it missed from the exchange's trade history
(``thalex_mm.commands.live_cmd``).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from thalex_mm.store.records import RunInfo, RunMode

__all__ = ["close_crashed_runs", "config_identity", "crashed_runs", "process_alive"]

_log = logging.getLogger(__name__)

# A process started this much after its run's recorded start is not the run's process.
_START_SLACK_NS = 2_000_000_000


def process_alive(pid: int, *, started_before_ns: int | None = None) -> bool:
    """Is process ``pid`` alive on this host (and, if given, started before a time)?

    Args:
        pid: a process id.
        started_before_ns: the run's start, ns since the epoch. A live process whose start
            (Linux ``/proc``) is more than 2 s later has only reused the pid: not alive.

    Returns:
        True when the process exists (even one we may not signal), else False.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if started_before_ns is not None:
        start_ns = _process_start_ns(pid)
        if start_ns is not None and start_ns > started_before_ns + _START_SLACK_NS:
            return False
    return True


def _process_start_ns(pid: int) -> int | None:
    """When ``pid`` started, ns since the epoch (Linux ``/proc``), or None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
        with open("/proc/stat", encoding="ascii") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: starttime, after comm
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return btime * 1_000_000_000 + ticks * 1_000_000_000 // hz


def config_identity(config: Any) -> dict[str, str | None]:
    """``instrument`` / ``account`` / ``network`` of a ``BotConfig`` as ``start_run`` records
    them (keyword arguments for :func:`crashed_runs`)."""
    market = config.market
    network = getattr(market.network, "value", market.network)
    return {
        "instrument": str(market.instrument),
        "account": None if market.account is None else str(market.account),
        "network": None if network is None else str(network),
    }


def crashed_runs(
    journal: Any,
    *,
    mode: RunMode | str,
    instrument: str | None,
    account: str | None,
    network: str | None = None,
) -> list[RunInfo]:
    """Unfinished runs of this mode/instrument/account(/network) whose process is gone.

    Args:
        journal: a journal or reader (anything with ``list_runs()``).
        mode: paper or live.
        instrument: the instrument the new run trades.
        account: the account it trades (None: the key's default).
        network: when given, only runs recorded with this network.

    Returns:
        The crashed runs, oldest first.
    """
    mode = RunMode(mode)
    host = socket.gethostname()
    out = []
    for run in journal.list_runs():
        if (run.stopped_ns is not None or run.mode != mode.value or run.instrument != instrument
                or run.account != account or (network is not None and run.network != network)):
            continue
        if run.pid is None or run.host != host:
            _log.info("run %s is unfinished but was started %s; leaving it open (cannot tell "
                      "whether it still runs)", run.run_id,
                      "before pids were journaled" if run.pid is None else f"on host {run.host}")
            continue
        if process_alive(run.pid, started_before_ns=run.started_ns):
            continue
        out.append(run)
    return sorted(out, key=lambda r: r.started_ns)


def close_crashed_runs(
    journal: Any, mode: RunMode | str, config: Any, *, network: str | None = None
) -> list[str]:
    """Finish every crashed run (see :func:`crashed_runs`) of ``config``'s instrument/account.

    Each is finished with exit reason ``crashed (process <pid> gone)`` and a stop time at its
    last journaled record (its start when it has none). Call it before ``start_run``.

    Args:
        journal: an open :class:`~thalex_mm.store.journal.Journal`.
        mode: paper or live.
        config: the ``BotConfig`` the new run uses.
        network: the network the new run records (default: ``config.market.network``).

    Returns:
        The ids of the runs closed, oldest first.
    """
    ident = config_identity(config)
    if network is not None:
        ident["network"] = network
    closed = []
    for run in crashed_runs(journal, mode=mode, **ident):
        last = journal.last_record_ns(run.run_id)
        journal.finish_run(run.run_id, f"crashed (process {run.pid} gone)",
                           stopped_ns=run.started_ns if last is None else max(last, run.started_ns))
        closed.append(run.run_id)
    return closed
