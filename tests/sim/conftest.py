"""Shared fixtures for simulator tests."""

from __future__ import annotations

import pytest

from thalex_mm.protocol.auth import generate_rsa_keypair


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """A key pair made at run time (no key material is ever committed)."""
    return generate_rsa_keypair()
