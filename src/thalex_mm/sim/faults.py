"""Fault injection for the simulated exchange: scriptable from tests, configurable from the CLI.

Every knob is plain data on :class:`FaultPlan`; the server consults it at well-defined points
(before answering a request, before sending a notification, on each market tick). Randomness
comes from the plan's own seeded ``random.Random`` so a chaos run is reproducible.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from thalex_mm.errors import ConfigError

__all__ = ["FAULT_KEYS", "FaultPlan", "parse_fault_args", "parse_key_values"]


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
        restart_at_s: restart the venue (``SimExchange.restart``: orders deleted with reason
            ``failover``, every connection dropped) this many seconds after server start;
            executed once by exchanges built with ``thalex_mm.sim.app``.
        restart_keep_persistent: whether that restart keeps persistent orders.
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
    restart_at_s: float | None = None
    restart_keep_persistent: bool = True
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
        self.restart_at_s = None
        self.restart_keep_persistent = True


#: ``--fault`` keys and what each accepts.
FAULT_KEYS: dict[str, str] = {
    "seed": "an int",
    "drop_after_messages": "an int >= 1 (or none)",
    "drop_at_s": "a number >= 0, seconds (or none)",
    "drop_probability": "a probability in [0, 1]",
    "response_delay_s": "a number >= 0, seconds",
    "reorder_responses": "true/false",
    "error_share": "a probability in [0, 1]",
    "error_code": "an int (Thalex error code)",
    "malformed_share": "a probability in [0, 1]",
    "duplicate_notifications": "true/false",
    "freeze_market": "true/false",
    "throttle_everything": "true/false",
    "restart_at_s": "a number >= 0, seconds (or none)",
    "restart_keep_persistent": "true/false",
}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_BOOL_KEYS = frozenset({"reorder_responses", "duplicate_notifications", "freeze_market",
                        "throttle_everything", "restart_keep_persistent"})
_OPTIONAL_KEYS = frozenset({"drop_after_messages", "drop_at_s", "restart_at_s"})


def _parse_value(key: str, text: str) -> object:
    t = text.strip().lower()
    if key in _BOOL_KEYS:
        if t in _TRUE:
            return True
        if t in _FALSE:
            return False
        raise ValueError
    if key in _OPTIONAL_KEYS and t in ("none", ""):
        return None
    if key in ("seed", "error_code", "drop_after_messages"):
        v = int(t)
        if key == "drop_after_messages" and v < 1:
            raise ValueError
        return v
    f = float(t)
    if not math.isfinite(f) or f < 0:
        raise ValueError
    if key in ("drop_probability", "error_share", "malformed_share") and f > 1:
        raise ValueError
    return f


def parse_key_values(
    items: Iterable[str],
    flag: str,
    keys: Iterable[str],
    parse: Callable[[str, str], object],
    expected: Callable[[str], str],
    aliases: Mapping[str, str] | None = None,
    usage: str = "KEY=VALUE with KEY",
) -> dict[str, object]:
    """Parse a CLI option's ``KEY=VALUE`` items (``--fault``, ``--sim``) into ``{key: value}``.

    Args:
        items: the raw items.
        flag: the option's name, for messages.
        keys: the valid keys (in the order the messages list them).
        parse: ``parse(key, text)`` -> value; raises ``ValueError`` on a bad value.
        expected: ``expected(key)`` -> what a good value of ``key`` looks like.
        aliases: short names accepted for keys.
        usage: how an item without ``=`` is told its form (before "one of <keys>").

    Raises:
        ConfigError: one problem per bad item, naming ``flag KEY``, the value and what is
            expected (an unknown key lists the valid ones).
    """
    valid = list(keys)
    values: dict[str, object] = {}
    problems: list[tuple[str, object, str]] = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        key = (aliases or {}).get(key, key)
        if not sep:
            problems.append((flag, item, f"{usage} one of {', '.join(valid)}"))
            continue
        if key not in valid:
            problems.append((f"{flag} {key}", text, f"a key among {', '.join(valid)}"))
            continue
        try:
            values[key] = parse(key, text)
        except ValueError:
            problems.append((f"{flag} {key}", text, expected(key)))
    if problems:
        raise ConfigError(problems)
    return values


def parse_fault_args(items: Iterable[str], base: FaultPlan | None = None) -> FaultPlan:
    """Build a plan from ``key=value`` strings (the CLI's ``--fault``).

    Args:
        items: e.g. ``["drop_after_messages=50", "response_delay_s=0.2"]``.
        base: plan to start from (a healthy one by default).

    Raises:
        ConfigError: one entry per bad item, naming the key, the value and what is allowed.
    """
    values = parse_key_values(items, "--fault", FAULT_KEYS, _parse_value, FAULT_KEYS.__getitem__,
                              usage="key=value with key")
    plan = base or FaultPlan()
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan) if f.init}
    fields.update(values)
    return FaultPlan(**fields)  # type: ignore[arg-type]
