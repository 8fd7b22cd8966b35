"""Chaos tests: the real quoter against the simulated exchange with faults (helpers in
``chaos_helpers``; test folders have no ``__init__``, so the folder goes on ``sys.path``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _restore_thalex_mm_log_level() -> Iterator[None]:
    """Chaos helpers quiet the ``thalex_mm`` loggers; give later tests their logging back."""
    logger = logging.getLogger("thalex_mm")
    level = logger.level
    yield
    logger.setLevel(level)
