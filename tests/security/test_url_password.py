"""A password inside a URL value (a ``postgresql://`` journal) never reaches ``config show``, the
journal's config snapshot, ``runs`` output or a report's ``summary.json``/``report.html``."""

from __future__ import annotations

from thalex_mm.cli import main
from thalex_mm.store import Journal

URL = "postgresql://mm:hunter2@127.0.0.1:5432/db"
MASKED = "postgresql://mm:***@127.0.0.1:5432/db"


def test_config_show_when_journal_url_has_password_masks_it(monkeypatch, capsys):
    monkeypatch.setenv("THALEX_MM__MONITORING__JOURNAL_PATH", URL)
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert f'journal_path = "{MASKED}"' in out.splitlines()
    assert "hunter2" not in out


def test_report_when_config_snapshot_had_password_holds_none(monkeypatch, tmp_path, capsys):
    from thalex_mm.config import load_config

    config = load_config(None, env={"THALEX_MM__MONITORING__JOURNAL_PATH": URL})
    db = tmp_path / "j.sqlite"
    with Journal(db) as journal:
        run_id = journal.start_run("paper", config, started_ns=1_000_000_000)
        journal.fill(run_id, ts_ns=2_000_000_000, trade_id="T1", side="buy", price=65_000.0,
                     amount=0.01)
        journal.finish_run(run_id, "done", stopped_ns=3_000_000_000)
    monkeypatch.delenv("THALEX_MM__MONITORING__JOURNAL_PATH", raising=False)
    assert main(["runs", "--db", str(db)]) == 0
    out_dir = tmp_path / "rep"
    code = main(["report", run_id, "--db", str(db), "--out", str(out_dir)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"summary.json", "report.html"}
    blobs = [db.read_bytes(), captured.out.encode(), captured.err.encode()]
    blobs += [p.read_bytes() for p in files]
    assert any(b"mm:***@127.0.0.1" in b for b in blobs[3:])  # the snapshot is in the report
    assert not any(b"hunter2" in b for b in blobs)
