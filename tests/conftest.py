"""Suite-wide settings.

Hypothesis: CI (``CI`` set) runs a fixed set of examples (``derandomize``), so a red CI run is
reproducible with ``CI=1 make test`` and a green local run with ``CI=1`` means a green CI; on a
developer's machine every run explores new examples. ``HYPOTHESIS_PROFILE`` overrides either.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Under CI=true a skipped test of a real part (marked ``real_part``) fails: see the plugin.
pytest_plugins = ["thalex_mm.testing.ci_real_parts"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
