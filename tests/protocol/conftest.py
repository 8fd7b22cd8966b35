"""Shared fixtures for the protocol codec tests."""

from __future__ import annotations

import pytest

from thalex_mm.protocol.auth import generate_rsa_keypair


@pytest.fixture(scope="session")
def rsa_keypair() -> tuple[str, str]:
    """A fresh RSA key pair for this test session (never written to the repository)."""
    return generate_rsa_keypair()
