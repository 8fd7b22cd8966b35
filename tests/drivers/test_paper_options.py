"""``thalex-mm paper`` accepts the simulator's ``--sim``/``--fault``/replay-mapping options
and hands them to ``build_simulated_exchange``."""

from __future__ import annotations

import argparse

import pytest

from thalex_mm.commands import paper_cmd
from thalex_mm.commands.sim_cmd import market_kwargs
from thalex_mm.sim.engine import LogProbQueue


def _parse(argv: list[str]) -> argparse.Namespace:
    """The ``paper`` subcommand's own parser (as ``thalex_mm.cli`` builds it)."""
    parser = argparse.ArgumentParser(prog="thalex-mm paper")
    paper_cmd.add_arguments(parser)
    return parser.parse_args(argv)


def test_paper_options_become_simulator_arguments():
    args = _parse([
        "--sim", "sigma=9", "--sim", "maker_fee_rate=-0.0002",
        "--sim", "queue_model=log", "--fault", "restart_at_s=5",
        "--fault", "restart_keep_persistent=no", "--qty-unit", "usd", "--qty-scale", "2",
    ])
    kw = market_kwargs(args)
    assert kw["synthetic"].sigma == 9.0
    assert kw["maker_fee_rate"] == -0.0002
    assert isinstance(kw["engine_options"]["queue_model"], LogProbQueue)
    assert kw["faults"].restart_at_s == 5.0 and kw["faults"].restart_keep_persistent is False
    m = kw["replay_mapping"]
    assert (m.qty_unit, m.qty_scale, m.price_scale) == ("usd", 2.0, 1.0)


def test_paper_defaults_leave_the_simulator_defaults():
    kw = market_kwargs(_parse([]))
    assert set(kw) == {"faults", "replay_mapping"}
    assert kw["faults"].restart_at_s is None and kw["replay_mapping"].qty_unit == "auto"


@pytest.mark.parametrize(("argv", "needle"), [
    (["--fault", "restart_at_s=soon"], "--fault restart_at_s: got 'soon'"),
    (["--sim", "foo=1"], "--sim foo: got '1', expected a key among"),
    (["--qty-unit", "eur"], "--qty-unit: got 'eur'"),
])
def test_paper_bad_option_exits_2_before_starting(argv, needle, capsys):
    rc = paper_cmd.run(_parse(["--no-journal", "--no-status", "--duration", "0.1", *argv]))
    out = capsys.readouterr()
    assert rc == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert "session summary" not in out.out
