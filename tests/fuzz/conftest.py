"""Make the helper modules of this folder importable (test dirs have no ``__init__.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
