"""Fixtures for the matching-engine tests (helpers live in ``sim_engine_helpers``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sim_engine_helpers import make_engine

from thalex_mm.sim.engine import MatchingEngine


@pytest.fixture
def engine() -> MatchingEngine:
    return make_engine()
