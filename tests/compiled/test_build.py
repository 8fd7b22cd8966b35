"""The compiled build (setup.py) and the pure-Python switch (thalex_mm/__init__.py)."""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import thalex_mm

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if k != thalex_mm.PURE_PYTHON_ENV}
    done = subprocess.run([sys.executable, "-c", code], env={**full, **env}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


@pytest.mark.real_part("the mypyc-compiled build (pip install compiles; see docs/build.md)")
def test_install_when_built_has_every_listed_module_compiled() -> None:
    info = thalex_mm.build_info()
    if not info["compiled"]:
        pytest.skip(f"the install is pure Python: {info['reason']}")
    root = Path(thalex_mm.__file__).parent.parent
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    assert len(info["modules"]) >= 40
    for module in info["modules"]:
        base = root / module.replace(".", "/")
        assert any(Path(str(base) + s).is_file() for s in suffixes), f"{module} not compiled"
    # and as installed (no switch) the hot path really runs the compiled code
    assert _run("import thalex_mm.core.market_maker as m; print(m.__file__)").endswith(".so")
    assert _run("import thalex_mm; print(thalex_mm.build_mode())") == "compiled"


def test_pure_switch_when_set_loads_every_module_from_its_source() -> None:
    out = _run(
        "import thalex_mm, sys\n"
        "import thalex_mm.backtest.runner, thalex_mm.core.market_maker\n"
        "mods = [m for n, m in sys.modules.items() if n.startswith('thalex_mm')]\n"
        "print(all(m.__file__.endswith('.py') for m in mods), len(mods))\n"
        "print(thalex_mm.build_mode())",
        THALEX_MM_PURE_PYTHON="1",
    )
    first, mode = out.splitlines()
    assert first.startswith("True ") and int(first.split()[1]) > 40
    assert mode == "pure (THALEX_MM_PURE_PYTHON=1)"


def test_pure_switch_when_zero_keeps_the_install_as_built() -> None:
    mode = _run("import thalex_mm; print(thalex_mm.build_mode())", THALEX_MM_PURE_PYTHON="0")
    assert not mode.startswith("pure (THALEX_MM_PURE_PYTHON")


@pytest.mark.parametrize("pure", ["0", "1"])
def test_cli_version_when_asked_names_the_build_mode(pure: str) -> None:
    out = _run("import thalex_mm; print(thalex_mm.build_mode())\n"
               "from thalex_mm.cli import main; main(['--version'])", THALEX_MM_PURE_PYTHON=pure)
    mode, version = out.splitlines()
    assert version == f"thalex-mm {thalex_mm.__version__} ({mode})"
    assert (mode == "pure (THALEX_MM_PURE_PYTHON=1)") == (pure == "1")


def _setup_build(tmp_path: Path, **env: str) -> tuple[dict, str]:
    """``setup.py build`` into ``tmp_path`` (the repository's src/ is not touched)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("THALEX_MM_")}
    done = subprocess.run(
        [sys.executable, "setup.py", "build", "--build-base", str(tmp_path / "b")],
        cwd=REPO, env={**full, **env}, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (record,) = (tmp_path / "b").glob("lib*/thalex_mm/_build_info.json")
    info = json.loads(record.read_text())
    assert not list((tmp_path / "b").rglob("*.so"))
    return info, done.stderr


def test_setup_when_compile_disabled_builds_pure_and_says_why(tmp_path: Path) -> None:
    info, err = _setup_build(tmp_path, THALEX_MM_COMPILE="0")
    assert info["compiled"] is False and info["reason"] == "THALEX_MM_COMPILE=0 at install time"
    assert err.count("WARNING: installing pure Python") == 1


def test_setup_when_mypyc_cannot_be_imported_builds_pure_and_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "site" / "mypyc"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('mypyc broken for this test')\n")
    info, err = _setup_build(tmp_path, PYTHONPATH=str(tmp_path / "site"))
    assert info["compiled"] is False
    assert "mypyc cannot be imported" in info["reason"] and "broken for this test" in info["reason"]
    assert err.count("WARNING: installing pure Python") == 1


@pytest.mark.slow
def test_setup_when_c_compiler_fails_builds_pure_and_says_why(tmp_path: Path) -> None:
    pytest.importorskip("mypyc.build", reason="mypy (a dev dependency) translates the modules")
    info, err = _setup_build(tmp_path, CC=str(tmp_path / "no-such-cc"))
    assert info["compiled"] is False and info["reason"].startswith("compiling failed")
    assert err.count("WARNING: installing pure Python") == 1
