"""Journal locations for the store tests: a SQLite file, and PostgreSQL when a server is given.

PostgreSQL tests run against the server in ``THALEX_MM_TEST_POSTGRES_URL``
(``postgresql://user:password@host:port/database``; ``.ci/run`` starts one in CI) and skip, saying
why, when it is unset, asyncpg is missing or the server cannot be reached. Each test gets its own
fresh schema (through ``search_path`` in the URL), dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

# Test modules here share helpers (test dirs have no ``__init__.py``).
sys.path.insert(0, str(Path(__file__).parent))

PG_ENV = "THALEX_MM_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgres")


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``search_path=schema`` (asyncpg passes it to the server as a setting)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The test server's URL, or a skip with the reason."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL journal tests need a server: set {PG_ENV}="
                    "postgresql://user:password@host:port/database")
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL journal tests need asyncpg (pip install -e '.[postgres]')")
    from thalex_mm.errors import TransportError
    from thalex_mm.store.backend import open_connection

    try:
        open_connection(url).close()
    except TransportError as exc:
        pytest.skip(f"PostgreSQL test server unreachable: {exc}")
    return url


@pytest.fixture(scope="module")
def pg_module_url(pg_server_url):
    """A fresh schema for a whole module (hypothesis tests cannot use per-test fixtures)."""
    yield from _schema(pg_server_url)


@pytest.fixture
def pg_url(pg_server_url):
    """A fresh, empty schema for one test, dropped afterwards."""
    yield from _schema(pg_server_url)


def _schema(server_url: str):
    from thalex_mm.store.backend import open_connection

    schema = f"thalex_mm_test_{secrets.token_hex(5)}"
    admin = open_connection(server_url)
    try:
        admin.execute(f"CREATE SCHEMA {schema}")
        yield with_search_path(server_url, schema)
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        admin.close()


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path) -> str:
    """A journal location: a new SQLite file, or a URL to an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "j.sqlite")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def count_rows():
    """``count_rows(location, table)``: rows in a table, through an independent connection."""
    from thalex_mm.store.backend import open_connection

    def count(location: str, table: str) -> int:
        conn = open_connection(location)
        try:
            ((n,),) = conn.query(f"SELECT COUNT(*) FROM {table}")
            return int(n)
        finally:
            conn.close()

    return count


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the PostgreSQL server are tests of a real part: under CI=true their skip (no
    server configured or reachable) is a failure (``thalex_mm.testing.ci_real_parts``)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_server_url" in getattr(item, "fixturenames", ()) or params.get("location") == "postgres":
            item.add_marker(pytest.mark.real_part("a PostgreSQL server (THALEX_MM_TEST_POSTGRES_URL)"))
