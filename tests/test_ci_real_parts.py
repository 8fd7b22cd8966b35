"""Under CI=true a skipped test of a real part fails, naming what was missing (issue 12, finding 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SAMPLE = '''
import pytest

@pytest.mark.real_part("headless Chromium")
def test_browser():
    pytest.skip("chromium not found")

@pytest.mark.real_part("the shared market data")
@pytest.mark.skipif(True, reason="no data dir")
def test_data():
    pass

def test_ordinary_skip():
    pytest.skip("not a real part")
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "thalex_mm.testing.ci_real_parts", "-q", "-rA",
         "-p", "no:cacheprovider", str(tmp_path / "test_sample.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )


def test_real_part_skip_when_ci_is_true_fails_naming_what_was_missing(tmp_path: Path) -> None:
    out = _run(tmp_path, "true")
    assert out.returncode == 1, out.stdout
    # a skip in the call is a failure, one at setup (a skipif mark, a fixture) an error
    assert "1 failed, 1 skipped, 1 error" in out.stdout
    assert "headless Chromium is missing" in out.stdout and "chromium not found" in out.stdout
    assert "the shared market data is missing" in out.stdout


def test_real_part_skip_when_not_in_ci_still_skips_with_its_reason(tmp_path: Path) -> None:
    out = _run(tmp_path, None)
    assert out.returncode == 0, out.stdout
    assert "3 skipped" in out.stdout and "chromium not found" in out.stdout
