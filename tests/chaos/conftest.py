"""Chaos tests: the real quoter against the simulated exchange with faults (helpers in
``chaos_helpers``; test folders have no ``__init__``, so the folder goes on ``sys.path``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
