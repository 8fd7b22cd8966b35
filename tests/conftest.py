"""Suite-wide settings.

Hypothesis: CI (``CI`` set) runs a fixed set of examples (``derandomize``), so a red CI run is
reproducible with ``CI=1 make test`` and a green local run with ``CI=1`` means a green CI; on a
developer's machine every run explores new examples. ``HYPOTHESIS_PROFILE`` overrides either.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

import thalex_mm

# Under CI=true a skipped test of a real part (marked ``real_part``) fails: see the plugin.
pytest_plugins = ["thalex_mm.testing.ci_real_parts"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test an editable compiled build older than its sources: the tests would run
    the old compiled code (docs/build.md). Rebuild, or test the sources in pure Python."""
    stale = [] if thalex_mm.build_mode().startswith("pure") else thalex_mm.stale_modules()
    if stale:
        pytest.exit(
            f"the compiled build is older than the sources of {', '.join(stale)}: rebuild with "
            "`.venv/bin/pip install -e .` (or `make test`), or run with THALEX_MM_PURE_PYTHON=1",
            returncode=2,
        )
