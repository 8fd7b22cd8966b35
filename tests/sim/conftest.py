"""Shared fixtures for simulator tests (WebSocket helpers live in ``sim_ws_helpers``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from thalex_mm.protocol.auth import generate_rsa_keypair

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """A key pair made at run time (no key material is ever committed)."""
    return generate_rsa_keypair()
