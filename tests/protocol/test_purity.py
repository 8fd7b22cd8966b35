"""The codec is pure: no event loop, sockets, clock, randomness or logging in its modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import thalex_mm.protocol as protocol

FORBIDDEN = {"asyncio", "socket", "time", "random", "uuid", "threading", "logging", "sqlite3",
             "datetime", "websockets", "aiohttp"}
MODULES = sorted(Path(protocol.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_protocol_module_when_parsed_imports_nothing_impure(path):
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{path.name} imports {sorted(imported & FORBIDDEN)}"
    assert len(path.read_text().splitlines()) <= 600


def test_protocol_package_when_imported_exports_its_all():
    missing = [name for name in protocol.__all__ if not hasattr(protocol, name)]
    assert missing == []
