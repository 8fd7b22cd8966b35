"""Core tests: the shared ``core_harness`` helpers live in this folder (no ``__init__.py``;
pytest runs with ``--import-mode=importlib``), so the folder goes on ``sys.path`` here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
