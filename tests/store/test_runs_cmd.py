"""``thalex-mm runs``: the table of runs, newest first; a missing file is a clear error."""

from __future__ import annotations

from thalex_mm.cli import main
from thalex_mm.commands.runs_cmd import format_duration
from thalex_mm.store import Journal

_T0_NS = 1_714_564_800 * 1_000_000_000  # 2024-05-01 12:00:00 UTC


def test_runs_when_db_has_runs_lists_them_newest_first(tmp_path, capsys):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        old = journal.start_run("paper", {}, started_ns=_T0_NS)
        for i in range(4):
            journal.fill(old, ts_ns=i, trade_id=f"T{i}", side="buy", price=1.0, amount=1.0)
        journal.finish_run(old, "signal", stopped_ns=_T0_NS + 3_723 * 1_000_000_000)
        new = journal.start_run("backtest", {}, started_ns=_T0_NS + 86_400 * 1_000_000_000)
    assert main(["runs", "--db", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["RUN", "ID", "MODE", "STARTED", "(UTC)", "DURATION", "FILLS",
                              "EXIT", "REASON"]
    assert out[1].split() == [new, "backtest", "2024-05-02", "12:00:00", "-", "0",
                              "(not", "finished)"]
    assert out[2].split() == [old, "paper", "2024-05-01", "12:00:00", "1h02m03s", "4", "signal"]
    assert len(out) == 3


def test_runs_when_db_missing_says_so_and_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope" / "journal.sqlite"
    assert main(["runs", "--db", str(missing)]) == 2
    captured = capsys.readouterr()
    assert "no journal at" in captured.err and str(missing) in captured.err
    assert captured.out == ""
    assert not missing.exists()


def test_runs_when_db_empty_says_no_runs(tmp_path, capsys):
    path = tmp_path / "empty.sqlite"
    Journal(path).close()
    assert main(["runs", "--db", str(path)]) == 0
    assert capsys.readouterr().out == f"no runs in {path}\n"


def test_runs_when_config_names_the_db_uses_it(tmp_path, capsys):
    path = tmp_path / "from_config.sqlite"
    with Journal(path) as journal:
        run_id = journal.start_run("live", {})
    cfg = tmp_path / "bot.toml"
    cfg.write_text(f'[monitoring]\njournal_path = "{path}"\n')
    assert main(["runs", "--config", str(cfg)]) == 0
    assert run_id in capsys.readouterr().out


def test_runs_when_postgres_url_unusable_exits_2_naming_it_without_password(capsys):
    # Port 1 on loopback: nothing listens (or, before the command reads PostgreSQL journals,
    # the URL is refused as a config error); either way exit 2 and never the password.
    assert main(["runs", "--db", "postgresql://u:hunter2@127.0.0.1:1/db"]) == 2
    captured = capsys.readouterr()
    assert "postgresql://u@127.0.0.1:1/db" in captured.err
    assert "hunter2" not in captured.err + captured.out


def test_format_duration_units():
    assert [format_duration(s) for s in (None, 0.04, 59.94, 60.0, 3_599.4, 7_200.0)] == [
        "-", "0.0s", "59.9s", "1m00s", "59m59s", "2h00m00s"]
