"""Readers (``thalex-mm runs`` / ``report``, :class:`JournalReader`) never write to a journal.

They open SQLite with ``mode=ro``: a missing or empty file is refused without being created or
given a schema, and a journal at another schema version is refused with one line naming both
versions (never upgraded under a running older bot).
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from test_journal_migration import _make_v1

from thalex_mm.cli import main
from thalex_mm.errors import DataFileError
from thalex_mm.store import SCHEMA_VERSION, Journal, JournalReader


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _max_version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    finally:
        conn.close()


def test_runs_when_db_file_empty_refuses_and_leaves_it_empty(tmp_path, capsys):
    path = tmp_path / "new.sqlite"
    path.write_bytes(b"")
    assert main(["runs", "--db", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert str(path) in captured.err and "empty or not a journal" in captured.err
    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.sqlite"]  # no -wal / -shm


def test_reader_when_db_older_refuses_naming_both_versions_and_does_not_upgrade(tmp_path,
                                                                                capsys):
    path = tmp_path / "v1.sqlite"
    _make_v1(path)
    before = _digest(path)
    with pytest.raises(DataFileError, match=rf"version 1 is older than version {SCHEMA_VERSION}"):
        JournalReader(path)
    assert main(["runs", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"version 1 is older than version {SCHEMA_VERSION}" in err
    assert _max_version(path) == 1
    assert _digest(path) == before
    # The writer still upgrades it, after which readers accept it.
    Journal(path).close()
    with JournalReader(path) as reader:
        assert reader.schema_version == SCHEMA_VERSION
        assert [r.run_id for r in reader.list_runs()] == ["old-run"]


def test_reader_when_db_newer_refuses_naming_both_versions(tmp_path, capsys):
    path = tmp_path / "future.sqlite"
    Journal(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    assert main(["runs", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (f"version {SCHEMA_VERSION + 1} is newer than version {SCHEMA_VERSION}" in err
            and "upgrade thalex-mm" in err)


def test_reader_when_current_cannot_write(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        run_id = journal.start_run("paper", {})
    with JournalReader(path) as reader:
        assert reader.get_run(run_id).pid is not None
        assert reader._conn is not None
        with pytest.raises(Exception, match="readonly"):
            reader._conn.execute("DELETE FROM runs")
    with JournalReader(path) as reader:
        assert [r.run_id for r in reader.list_runs()] == [run_id]
