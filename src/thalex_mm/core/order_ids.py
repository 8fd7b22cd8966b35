"""Client order ids that stay unique for the account's lifetime, across processes and sessions.

Thalex accepts a ``client_order_id`` only in the session that created it and (by the strictest
reading of its documents) only up to 2**32 - 1 (thalex_protocol.md §5.1, "stay <= 2^32-1").
A process that numbered from 1 again after a restart would reuse the ids of the previous run's
orders, some of which may still rest (persistent orders, another connected session, a
cancel-on-disconnect timeout not yet run out).

The scheme: a *run base* taken from the wall clock when the run starts (supplied by the driver;
the core has no clock) plus a counter. The base advances ``IDS_PER_SECOND`` ids per second of
wall-clock time since ``ID_EPOCH_S``, so a run that averages fewer than that many new orders per
second never reaches the first id of a run started after it; the 32-bit space wraps after
2**32 / ``IDS_PER_SECOND`` seconds (about 2.1 years). On top, every client id seen on a live
order of the account that is not ours (``avoid``) is skipped, so no order of ours ever shares a
client id with another live order we know of. Backtests take the base from their seed
(``seeded_base``): same seed, same ids.
"""

from __future__ import annotations

__all__ = [
    "IDS_PER_SECOND",
    "ID_EPOCH_S",
    "MAX_CLIENT_ORDER_ID",
    "ClientIdAllocator",
    "run_base_from_wall_clock",
    "seeded_base",
]

MAX_CLIENT_ORDER_ID = 2**32 - 1
"""Largest client order id we send (thalex_protocol.md §5.1: stay within 32 bits)."""

ID_EPOCH_S = 1_735_689_600
"""2025-01-01T00:00:00Z, seconds since the Unix epoch: where the run bases start counting."""

IDS_PER_SECOND = 64
"""Ids the base advances per second of wall clock: the average insert rate a run may sustain
without reaching the ids of a run started after it."""

_SPAN = MAX_CLIENT_ORDER_ID  # ids live in 1..MAX_CLIENT_ORDER_ID (0 is never handed out)


def run_base_from_wall_clock(start_wall_ns: int) -> int:
    """First client order id of a run started at ``start_wall_ns`` (Unix time, ns).

    Returns:
        An id in ``1..MAX_CLIENT_ORDER_ID``, ``IDS_PER_SECOND`` higher per second later
        (modulo the 32-bit range).
    """
    seconds = start_wall_ns // 1_000_000_000 - ID_EPOCH_S
    return 1 + (seconds * IDS_PER_SECOND) % _SPAN


def seeded_base(seed: int) -> int:
    """A deterministic run base for a backtest with ``seed`` (Knuth's multiplicative hash)."""
    return 1 + (seed * 2_654_435_761) % _SPAN


class ClientIdAllocator:
    """Hands out client order ids: ``base``, ``base + 1``, ... wrapping inside the 32-bit
    range, skipping ids held by live orders of the account that are not ours.

    Args:
        base: the first id (``run_base_from_wall_clock`` live and in paper, ``seeded_base`` in
            backtests), ``1..MAX_CLIENT_ORDER_ID``.

    Raises:
        ValueError: ``base`` is outside ``1..MAX_CLIENT_ORDER_ID``.
    """

    __slots__ = ("_avoid", "_next", "issued")

    def __init__(self, base: int) -> None:
        if not 1 <= base <= MAX_CLIENT_ORDER_ID:
            raise ValueError(f"first client order id: got {base}, expected 1..{MAX_CLIENT_ORDER_ID}")
        self._next = base
        self._avoid: set[int] = set()
        self.issued = 0

    def avoid(self, client_order_id: int) -> None:
        """Never hand out ``client_order_id``: a live order of the account (not ours) has it."""
        self._avoid.add(client_order_id)

    def next(self) -> int:
        """The next id (never one in ``avoid``)."""
        cid = self._next
        while cid in self._avoid:
            cid = cid + 1 if cid < MAX_CLIENT_ORDER_ID else 1
        self._next = cid + 1 if cid < MAX_CLIENT_ORDER_ID else 1
        self.issued += 1
        return cid
