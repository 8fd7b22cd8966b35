"""A pytest plugin: under ``CI=true`` a test of a real part that would skip fails instead.

The tests of the real parts (headless Chromium, a PostgreSQL server, the shared market data,
the official ``thalex`` client) skip on a developer's machine that lacks the part, saying why.
In CI a failed install must not turn them into quiet skips that only ``-ra`` shows, so a skip of
a test marked ``@pytest.mark.real_part("what")`` (directly, by ``pytestmark`` or by a
conftest) is reported as a failure naming what was missing. Loaded by ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

__all__ = ["ci_requires_real_parts"]

_MARKER = "real_part"


def ci_requires_real_parts(env: dict[str, str] | None = None) -> bool:
    """``CI`` is set to a true value (``true``, ``1``, ``yes``; case-insensitive)."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() in ("true", "1", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(what): a test of a real part (browser, database server, shared data, official "
        "client); under CI=true its skip is a failure naming `what`",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or not ci_requires_real_parts():
        return
    marker = item.get_closest_marker(_MARKER)
    if marker is None:
        return
    what = marker.args[0] if marker.args else "a real part"
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"CI=true: {what} is missing, so this test of a real part would have been skipped: {reason}"
