"""Fault injection for the simulated exchange: scriptable from tests, configurable from the CLI.

Every knob is plain data on :class:`FaultPlan`; the server consults it at well-defined points
(before answering a request, before sending a notification, on each market tick). Randomness
comes from the plan's own seeded ``random.Random`` so a chaos run is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["FaultPlan"]


@dataclass
class FaultPlan:
    """What to break, and when.

    Attributes:
        seed: seed of the plan's random source.
        drop_after_messages: close a connection after it has sent us this many requests.
        drop_at_s: close every connection this many seconds after server start.
        drop_probability: chance per request to close the connection instead of answering.
        response_delay_s: delay every response by this long.
        reorder_responses: hold each response and send it after the next one.
        error_share: share of private requests answered with ``error_code`` instead.
        error_code: the code used by ``error_share`` (20 TemporaryFailure by default).
        malformed_share: share of notifications replaced by a malformed frame.
        duplicate_notifications: send every private notification twice.
        freeze_market: stop publishing market data (stale feed) while true.
        throttle_everything: answer every matching-engine request with code 4.
    """

    seed: int = 0
    drop_after_messages: int | None = None
    drop_at_s: float | None = None
    drop_probability: float = 0.0
    response_delay_s: float = 0.0
    reorder_responses: bool = False
    error_share: float = 0.0
    error_code: int = 20
    malformed_share: float = 0.0
    duplicate_notifications: bool = False
    freeze_market: bool = False
    throttle_everything: bool = False
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def roll(self, probability: float) -> bool:
        return probability > 0.0 and self.rng.random() < probability

    def reset(self) -> None:
        """Back to a healthy exchange (keeps the random stream)."""
        self.drop_after_messages = None
        self.drop_at_s = None
        self.drop_probability = 0.0
        self.response_delay_s = 0.0
        self.reorder_responses = False
        self.error_share = 0.0
        self.malformed_share = 0.0
        self.duplicate_notifications = False
        self.freeze_market = False
        self.throttle_everything = False
