"""Evaluation tests. Helpers live in ``evaluation_market`` (test folders have no
``__init__.py`` and pytest runs with ``--import-mode=importlib``, so the folder goes on
``sys.path`` here). Each test gets its own data cache."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("THALEX_MM_CACHE_DIR", str(tmp_path / "cache"))
