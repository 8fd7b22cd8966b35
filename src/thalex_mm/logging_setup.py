"""Logging for the CLI: level and format from ``MonitoringConfig``, secrets redacted.

``configure_logging`` installs one stderr handler on the root logger with a filter that passes
every message (and traceback text) through ``thalex_mm.store.scrub_text``, so a PEM block or a
JWT never reaches the log, whoever logs it. Third-party loggers that log whole WebSocket frames
at DEBUG (``websockets``: the ``public/login`` frame carries the token) are capped at INFO even
when the bot runs at DEBUG.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

from thalex_mm.store.scrub import scrub_text

__all__ = ["CAPPED_LOGGERS", "RedactingFilter", "configure_logging"]

#: Loggers that log raw frames (with the login token) at DEBUG: never below INFO.
CAPPED_LOGGERS = ("websockets", "websockets.client", "websockets.server", "aiohttp", "thalex")

_HANDLER_NAME = "thalex-mm"


class RedactingFilter(logging.Filter):
    """Replace PEM blocks and JWTs in a record's message, arguments and traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep the raw template, scrubbed
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub_text(record.stack_info)
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": record.created, "level": record.levelname, "logger": record.name,
                               "message": record.getMessage()}
        if record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (not the object seen at setup), so a
    replaced or closed stderr (test capture, daemonisation) never breaks logging."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(monitoring: Any | None = None, *, level: str | None = None,
                      stream: TextIO | None = None) -> logging.Handler:
    """Configure the root logger once (calling again replaces our handler).

    Args:
        monitoring: a ``MonitoringConfig`` (``log_level``, ``log_format``); None = INFO, text.
        level: overrides ``monitoring.log_level`` (``DEBUG``/``INFO``/``WARNING``/``ERROR``).
        stream: where to write (default ``sys.stderr``).

    Returns:
        The installed handler (carrying a :class:`RedactingFilter`).
    """
    name = (level or getattr(monitoring, "log_level", None) or "INFO").upper()
    numeric = logging.getLevelName(name)
    if not isinstance(numeric, int):
        raise ValueError(f"log level: got {name!r}, expected DEBUG, INFO, WARNING or ERROR")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RedactingFilter())
    if getattr(monitoring, "log_format", "text") == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(numeric)
    for capped in CAPPED_LOGGERS:
        logging.getLogger(capped).setLevel(max(numeric, logging.INFO))
    return handler
