"""The engine is pure: no clock, no I/O, no hidden randomness (STYLE.md habit 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import thalex_mm.sim.engine as engine_pkg

FORBIDDEN = {"asyncio", "socket", "time", "random", "uuid", "threading", "logging", "sqlite3",
             "datetime"}


def test_engine_modules_when_parsed_import_nothing_impure():
    root = Path(engine_pkg.__file__).parent
    offenders = []
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
    assert len(list(root.glob("*.py"))) >= 8
