"""End-to-end tests: the quoter against the simulated exchange over a loopback WebSocket.

Shared helpers live in ``e2e_harness`` (test folders have no ``__init__.py`` and pytest runs
with ``--import-mode=importlib``, so the folder goes on ``sys.path`` here).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
