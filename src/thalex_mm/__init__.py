"""thalex-mm: an Avellaneda-Stoikov / GLFT market maker for Thalex.

One pure core (``thalex_mm.core``), three drivers (live, paper over the simulated
exchange, backtest). See ``docs/`` and the README.

The hot modules may be compiled with mypyc (``docs/build.md``). ``THALEX_MM_PURE_PYTHON=1``
runs the very same ``.py`` sources instead, even when the compiled modules are installed: a
finder put first on ``sys.meta_path`` here loads every ``thalex_mm`` submodule from its source
file. This module itself is never compiled, so the switch always works.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__version__ = "0.1.0"
__all__ = [
    "PURE_PYTHON_ENV", "__version__", "build_info", "build_mode", "is_compiled", "stale_modules",
]

PURE_PYTHON_ENV = "THALEX_MM_PURE_PYTHON"
"""Set to 1 to run the pure-Python sources even when compiled modules are installed."""


def _pure_requested() -> bool:
    return os.environ.get(PURE_PYTHON_ENV, "").strip().lower() not in ("", "0", "false", "no")


class _SourceOnlyFinder(importlib.abc.MetaPathFinder):
    """Finds ``thalex_mm.*`` modules as ``.py`` files only (never a compiled extension)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("thalex_mm.") or path is None:
            return None
        leaf = fullname.rpartition(".")[2]
        for entry in path:
            package = os.path.join(entry, leaf, "__init__.py")
            if os.path.isfile(package):
                return importlib.util.spec_from_file_location(
                    fullname, package,
                    loader=importlib.machinery.SourceFileLoader(fullname, package),
                    submodule_search_locations=[os.path.dirname(package)],
                )
            module = os.path.join(entry, leaf + ".py")
            if os.path.isfile(module):
                return importlib.util.spec_from_file_location(
                    fullname, module, loader=importlib.machinery.SourceFileLoader(fullname, module)
                )
        return None


if _pure_requested() and not any(isinstance(f, _SourceOnlyFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _SourceOnlyFinder())


def build_info() -> dict:
    """The install's build record (``_build_info.json``, written by setup.py).

    Keys: ``compiled`` (bool), ``reason`` (why not compiled, or None), ``modules`` (the compiled
    module names). A source tree that was never installed has no record: ``compiled`` False.
    """
    try:
        return json.loads((Path(__file__).with_name("_build_info.json")).read_text("utf-8"))
    except (OSError, ValueError):
        return {"compiled": False, "reason": "no build record (not installed with pip)",
                "modules": []}


def is_compiled(module: str = "thalex_mm.core.market_maker") -> bool:
    """Whether ``module`` runs compiled in this process (an extension module, not a .py)."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return isinstance(getattr(loaded, "__spec__", None) and loaded.__spec__.loader,
                          importlib.machinery.ExtensionFileLoader)
    spec = importlib.util.find_spec(module)
    return spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)


def stale_modules() -> list[str]:
    """Compiled modules whose ``.py`` source changed since the build (an editable install
    keeps running the old compiled code until it is rebuilt: ``pip install -e .``)."""
    info = build_info()
    root = Path(__file__).parent.parent
    stale = []
    for module, digest in (info.get("sources") or {}).items():
        try:
            data = (root / (module.replace(".", "/") + ".py")).read_bytes()
        except OSError:
            continue  # an install without sources cannot drift
        if hashlib.sha256(data).hexdigest() != digest:
            stale.append(module)
    return stale


def build_mode() -> str:
    """``"compiled"``, ``"pure (THALEX_MM_PURE_PYTHON=1)"`` or ``"pure (not compiled: <why>)"``."""
    if _pure_requested():
        return f"pure ({PURE_PYTHON_ENV}=1)"
    info = build_info()
    if not info.get("compiled"):
        return f"pure (not compiled: {info.get('reason') or 'unknown'})"
    root = Path(__file__).parent.parent
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    missing = [m for m in info.get("modules", [])
               if not any((root / (m.replace(".", "/") + sfx)).is_file() for sfx in suffixes)]
    if missing:
        return f"pure (not compiled: the compiled {missing[0]} is missing; reinstall)"
    stale = stale_modules()
    if stale:
        return f"compiled, stale ({stale[0]} changed since the build: pip install -e .)"
    return "compiled"
