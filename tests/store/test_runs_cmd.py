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
                              "VOLUME", "PNL", "MAX", "|POS|", "EXIT", "REASON"]
    assert out[1].split() == [new, "backtest", "2024-05-02", "12:00:00", "-", "0", "0.000", "-",
                              "0.000", "(not", "finished)"]
    assert out[2].split() == [old, "paper", "2024-05-01", "12:00:00", "1h02m03s", "4", "4.000",
                              "-", "4.000", "signal"]
    assert len(out) == 3


def test_runs_when_a_run_traded_shows_volume_last_pnl_and_peak_position(tmp_path, capsys):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        run = journal.start_run("paper", {}, started_ns=_T0_NS)
        for i, (side, amount) in enumerate((("buy", 0.3), ("buy", 0.2), ("sell", 0.6))):
            journal.fill(run, ts_ns=_T0_NS + i, trade_id=f"T{i}", side=side, price=100.0,
                         amount=amount)
        for i, equity in enumerate((1.5, -2.25)):
            journal.pnl(run, ts_ns=_T0_NS + 10 + i, position=-0.1, avg_price=100.0, mark=100.0,
                        realised=0.0, unrealised=0.0, fees=0.0, funding=0.0, equity=equity)
        journal.finish_run(run, "kill switch (dashboard 127.0.0.1) at 2024-05-01 12:00:05 UTC; "
                                "then duration reached", stopped_ns=_T0_NS + 60 * 1_000_000_000)
    assert main(["runs", "--db", str(path)]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[5:9] == ["3", "1.100", "-2.25", "0.500"]
    assert row[9:12] == ["kill", "switch", "(dashboard"]


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


def test_runs_without_db_reads_the_journal_named_by_the_environment(tmp_path, capsys, monkeypatch):
    path = tmp_path / "env.sqlite"
    with Journal(path) as journal:
        run_id = journal.start_run("paper", {})
    monkeypatch.chdir(tmp_path)  # no runs/journal.sqlite here: only the env var can find it
    monkeypatch.setenv("THALEX_MM__MONITORING__JOURNAL_PATH", str(path))
    assert main(["runs"]) == 0
    assert run_id in capsys.readouterr().out


def test_default_journal_path_follows_config_then_env_then_default(tmp_path, monkeypatch):
    from thalex_mm.commands.journal_path import default_journal_path

    monkeypatch.delenv("THALEX_MM__MONITORING__JOURNAL_PATH", raising=False)
    assert default_journal_path() == "runs/journal.sqlite"
    cfg = tmp_path / "bot.toml"
    cfg.write_text('[monitoring]\njournal_path = "from/file.sqlite"\n')
    assert default_journal_path(cfg) == "from/file.sqlite"
    monkeypatch.setenv("THALEX_MM__MONITORING__JOURNAL_PATH", "from/env.sqlite")
    assert default_journal_path(cfg) == "from/env.sqlite"
    assert default_journal_path() == "from/env.sqlite"


def test_runs_when_default_journal_missing_suggests_a_command_that_writes_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THALEX_MM__MONITORING__JOURNAL_PATH", str(tmp_path / "none.sqlite"))
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "none.sqlite") in err
    assert "`thalex-mm paper`" in err and "backtest" not in err


def test_runs_when_env_journal_path_invalid_config_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("THALEX_MM__MONITORING__JOURNAL_PATH", '""')
    assert main(["runs"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("monitoring.journal_path: got ''")
