"""Every module under thalex_mm.core stays pure: no I/O, clocks, randomness or logging, and
nothing from the parts built around it (codec, simulator, drivers, backtest, store, monitoring):
they depend on the core, never the other way round."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import thalex_mm.core

FORBIDDEN = {
    "asyncio",
    "socket",
    "time",
    "random",
    "uuid",
    "threading",
    "logging",
    "sqlite3",
    "datetime",
}

#: The packages of thalex_mm the core must not import (it may use config, errors and itself).
OUTER = {"protocol", "sim", "drivers", "backtest", "store", "monitoring", "commands", "reports", "testing"}


def _core_modules() -> list[Path]:
    root = Path(thalex_mm.core.__file__).parent
    names = [m.name for m in pkgutil.walk_packages([str(root)])]
    paths = sorted(root.rglob("*.py"))
    assert len(paths) >= len(names) >= 4
    return paths


def _imported_modules(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (``import``, ``from``, ``__import__``),
    wherever the import sits (a lazy import inside a function counts too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def _imported_roots(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _imported_modules(path)}


def _outer_imports(path: Path) -> list[str]:
    """The thalex_mm packages outside the core that ``path`` imports."""
    return sorted(
        name for name in _imported_modules(path)
        if name.startswith("thalex_mm.") and name.split(".")[1] in OUTER
    )


def test_core_modules_when_parsed_import_no_impure_module():
    offenders = {
        str(p.name): sorted(_imported_roots(p) & FORBIDDEN)
        for p in _core_modules()
        if _imported_roots(p) & FORBIDDEN
    }
    assert offenders == {}


def test_purity_checker_when_given_impure_source_detects_it(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom asyncio import sleep\nimport os.path\n", encoding="utf-8")
    assert _imported_roots(bad) & FORBIDDEN == {"time", "asyncio"}


def test_core_modules_when_parsed_import_nothing_built_around_the_core():
    offenders = {str(p.name): _outer_imports(p) for p in _core_modules() if _outer_imports(p)}
    assert offenders == {}


def test_outer_import_checker_when_core_imports_the_codec_lazily_detects_it(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from thalex_mm.core.types import Side\n"
        "def f():\n    from thalex_mm.protocol.parsers import parse_order_status\n"
        "import thalex_mm.store.journal\nfrom thalex_mm.config.models import BotConfig\n",
        encoding="utf-8",
    )
    assert _outer_imports(bad) == ["thalex_mm.protocol.parsers", "thalex_mm.store.journal"]
