"""Fixtures for the matching-engine tests."""

from __future__ import annotations

import pytest
from sim_engine_helpers import make_engine

from thalex_mm.sim.engine import MatchingEngine


@pytest.fixture
def engine() -> MatchingEngine:
    return make_engine()
