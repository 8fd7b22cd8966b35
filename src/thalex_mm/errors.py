"""The one error tree of thalex-mm.

- ``ThalexMMError``: the root; catch it to catch everything we raise on purpose.
- ``ConfigError``: a setting is wrong. Carries the key path, the bad value and what is allowed.
- ``ProtocolError``: Thalex (or the simulator) sent something we cannot use.
- ``DataFileError``: a recorded data file is corrupt; names the file and the line.
- ``InvalidState``: our own bug (an impossible state); also an ``AssertionError``.
- ``InvalidTransition``: a state machine was asked for a move its table does not allow.
- ``TransportError``: connection-level failures; raised only by drivers.

The pure core never raises for venue misbehaviour: it turns it into events and commands.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataFileError",
    "InvalidState",
    "InvalidTransition",
    "ProtocolError",
    "ThalexMMError",
    "TransportError",
]


class ThalexMMError(Exception):
    """Root of every error thalex-mm raises on purpose."""


class ConfigError(ThalexMMError):
    """A configuration value is invalid.

    Args:
        problems: one ``(key_path, value, expected)`` triple per problem, e.g.
            ``("risk.max_position", -1, "a number > 0")``.
    """

    def __init__(self, problems: list[tuple[str, object, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        """One human line per problem: ``key: got VALUE, expected WHAT``."""
        return [f"{key}: got {value!r}, expected {expected}" for key, value, expected in self.problems]


class ProtocolError(ThalexMMError):
    """The exchange sent a frame or value we cannot use."""


class DataFileError(ThalexMMError):
    """A recorded data file is unreadable or corrupt.

    Args:
        path: the file.
        line: 1-based line number (0 when not line-oriented).
        reason: what is wrong.
    """

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {reason}")


class InvalidState(ThalexMMError, AssertionError):
    """An impossible internal state: a bug in thalex-mm, never the venue's fault."""


class InvalidTransition(InvalidState):
    """A state machine was asked for a move that its transition table does not allow."""

    def __init__(self, state: object, trigger: object) -> None:
        self.state = state
        self.trigger = trigger
        super().__init__(f"no transition from {state!r} on {trigger!r}")


class TransportError(ThalexMMError):
    """A connection-level failure (drivers only)."""
