"""Every module under thalex_mm.core stays pure: no I/O, clocks, randomness or logging."""

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


def _core_modules() -> list[Path]:
    root = Path(thalex_mm.core.__file__).parent
    names = [m.name for m in pkgutil.walk_packages([str(root)])]
    paths = sorted(root.rglob("*.py"))
    assert len(paths) >= len(names) >= 4
    return paths


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


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
