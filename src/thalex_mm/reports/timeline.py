"""The timeline of a run: what happened besides trading (halts, kills, errors, reconnects).

A report lists these in a table and marks them on every chart, so a trader sees at once why
quoting stopped and what the equity did around it. Entries come from the core's trading-state
changes (journaled as ``risk_events``; collected directly in a backtest) and from the errors a
run journaled. Expected races (an amend of an order that just filled) are information, not
timeline entries.

Units: ``ts_ns`` in ns since the Unix epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["INFO_SOURCE", "KIND_COLORS", "TimelineEvent", "error_event", "state_change_event"]

#: ``errors.source`` of a journaled notice that is information, not an error: an expected race
#: such as an amend of an order that had just filled. Not a timeline entry.
INFO_SOURCE = "info"

#: Marker colour of each kind of entry (charts and table).
KIND_COLORS: dict[str, str] = {
    "kill": "#b00020",
    "halt": "#d9480f",
    "reduce": "#e69500",
    "resume": "#2a9d4b",
    "disconnect": "#6b4fbb",
    "error": "#c2185b",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEvent:
    """One entry. ``kind`` is a key of :data:`KIND_COLORS`; ``text`` says what and why."""

    ts_ns: int
    kind: str
    text: str


def state_change_event(ts_ns: int, state: str, previous: str | None, reason: str,
                       detail: str | None = "") -> TimelineEvent:
    """A trading-state change as a timeline entry (``state``/``reason`` as journaled, e.g.
    ``halted`` / ``kill_switch``)."""
    state, reason = str(state).lower(), str(reason).lower()
    if reason == "kill_switch":
        kind = "kill"
    elif reason == "disconnected":
        kind = "disconnect"
    elif state == "halted":
        kind = "halt"
    elif state == "reducing":
        kind = "reduce"
    else:
        kind = "resume"
    arrow = f"{previous} → {state}" if previous else state
    text = f"{arrow}: {reason}" + (f" ({detail})" if detail and detail not in reason else "")
    if kind == "kill" and detail:
        text = f"{arrow}: {detail}"
    return TimelineEvent(ts_ns=int(ts_ns), kind=kind, text=text)


def error_event(ts_ns: int, source: str, code: object, message: str) -> TimelineEvent:
    """An error the run journaled (an exchange error, a rejection, a discrepancy)."""
    code_text = f" {code}" if code not in (None, "") else ""
    return TimelineEvent(ts_ns=int(ts_ns), kind="error", text=f"{source}{code_text}: {message}"[:300])
