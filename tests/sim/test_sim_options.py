"""``--sim KEY=VALUE`` (simulated-market settings) and the ``restart_at_s`` fault: parsing,
CLI errors, and runs showing a changed setting takes effect."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math

import numpy as np
import pytest
from sim_ws_helpers import Client, order_params, run_sim

from thalex_mm.commands import paper_cmd, sim_cmd
from thalex_mm.data.events import EventKind
from thalex_mm.errors import ConfigError
from thalex_mm.sim.app import SIM_OPTION_KEYS, parse_sim_options, sim_options_help
from thalex_mm.sim.engine import EngineConfig, PowerProbQueue
from thalex_mm.sim.faults import FaultPlan, parse_fault_args
from thalex_mm.sim.rate_limit import RateLimits
from thalex_mm.sim.sources import SyntheticMarket, SyntheticParams

_COMMANDS = {"sim": sim_cmd, "paper": paper_cmd}


def _parser(command: str) -> argparse.ArgumentParser:
    """The subcommand's own parser, as ``thalex_mm.cli`` builds it."""
    parser = argparse.ArgumentParser(prog=f"thalex-mm {command}")
    _COMMANDS[command].add_arguments(parser)
    return parser


def main(argv: list[str]) -> int:
    command, *rest = argv
    return _COMMANDS[command].run(_parser(command).parse_args(rest))


def test_keys_come_from_the_dataclass_fields_and_help_lists_them_with_defaults():
    synth = {f.name for f in dataclasses.fields(SyntheticParams)} - {"start_ts_ns", "tick_size"}
    engine = {f.name for f in dataclasses.fields(EngineConfig)}
    limits = {f.name for f in dataclasses.fields(RateLimits)}
    assert synth | engine | limits <= set(SIM_OPTION_KEYS)
    text = sim_options_help()
    for key in synth | engine | limits:
        assert f"{key}=" in text
    assert "sigma=6," in text and "k=0.4," in text and "queue_model=risk_averse" in text
    assert "me_per_s=10," in text


def test_values_are_parsed_and_routed_to_their_dataclass():
    kw = parse_sim_options([
        "sigma=12", "A=5", "k=0.8", "background_sizes=1x3", "funding_rate=none",
        "taker_fee_rate=0.002", "queue_model=power:3", "stp=false", "collar_band_fraction=0.1",
        "me_per_s=20", "lockout_s=0.5", "publish_interval_s=0.1",
    ]).build_kwargs()
    s = kw["synthetic"]
    assert (s.sigma, s.arrival_rate_per_s, s.k) == (12.0, 5.0, 0.8)
    assert s.background_sizes == (1.0, 1.0, 1.0) and s.funding_rate is None
    assert s.initial_mid == 65_000.0  # untouched keys keep the app defaults
    assert kw["taker_fee_rate"] == 0.002 and "maker_fee_rate" not in kw
    eo = kw["engine_options"]
    assert isinstance(eo["queue_model"], PowerProbQueue) and eo["queue_model"].n == 3.0
    assert eo["self_trade_prevention"] is False and eo["collar_band_fraction"] == 0.1
    assert kw["rate_limits"] == RateLimits(me_per_s=20, lockout_s=0.5)
    assert kw["publish_interval_s"] == 0.1
    assert parse_sim_options([]).build_kwargs() == {}


@pytest.mark.parametrize(("item", "needles"), [
    ("sigma=abc", ["--sim sigma", "'abc'", "number >= 0"]),
    ("sigma=-1", ["--sim sigma", "'-1'", "number >= 0"]),
    ("dt_s=0", ["--sim dt_s", "'0'", "number > 0"]),
    ("me_per_s=0", ["--sim me_per_s", "'0'", "int >= 1"]),
    ("queue_model=fifo", ["--sim queue_model", "'fifo'", "risk_averse, power"]),
    ("stp=maybe", ["--sim self_trade_prevention", "'maybe'", "true/false"]),
    ("background_sizes=1,-2", ["--sim background_sizes", "'1,-2'", "comma-separated"]),
    ("foo=1", ["--sim foo", "'1'", "a key among", "sigma", "queue_model", "me_per_s"]),
    ("sigma", ["--sim", "'sigma'", "KEY=VALUE"]),
])
def test_bad_item_names_key_value_and_expectation(item, needles):
    with pytest.raises(ConfigError) as err:
        parse_sim_options([item])
    (line,) = err.value.lines()
    for needle in needles:
        assert needle in line


@pytest.mark.parametrize("command", ["sim", "paper"])
def test_cli_bad_sim_value_exits_2_with_one_line(command, capsys, tmp_path):
    rc = main([command, "--sim", "sigma=abc", "--duration", "0.1"]
              + (["--key-dir", str(tmp_path)] if command == "sim" else ["--no-journal"]))
    out = capsys.readouterr()
    assert rc == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "--sim sigma" in lines[0] and "'abc'" in lines[0]
    assert "expected a finite number" in lines[0]
    assert "URL" not in out.out


def test_cli_synthetic_key_with_replay_is_refused(capsys, tmp_path):
    rc = main(["sim", "--key-dir", str(tmp_path), "--replay", str(tmp_path / "x.csv"),
               "--sim", "sigma=3"])
    assert rc == 2
    assert "--sim sigma" in capsys.readouterr().err


def test_sim_help_lists_keys_with_defaults(capsys):
    with pytest.raises(SystemExit):
        _parser("sim").parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "sigma=6" in text and "taker_fee_rate=0.0005" in text and "restart_at_s" in text


def test_sigma_option_sets_the_synthetic_volatility():
    for sigma in (3.0, 12.0):
        s = parse_sim_options([f"sigma={sigma}", "mark_interval_s=0.1", "A=0",
                               "background_sizes=none"]).build_kwargs()["synthetic"]
        ev = SyntheticMarket(s, seed=5).generate(2_000.0)
        marks = ev["price"][ev["kind"] == EventKind.MARK]
        measured = float(np.std(np.diff(marks))) / math.sqrt(0.1)
        assert measured == pytest.approx(sigma, rel=0.05)


def test_fee_and_rate_limit_options_take_effect_over_the_wire(tmp_path):
    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        # static market: best ask 65,005 with 1 BTC; a buy at 65,005 takes 0.1 BTC as taker
        r = await c.call("private/insert", order_params(65_005, amount=0.1))
        assert r["result"]["status"] == "filled", r
        trades = (await c.call("private/trade_history", {}))["result"]["trades"]
        assert len(trades) == 1
        assert trades[0]["fee"] == pytest.approx(0.1 * 65_005 * 0.002)
        assert trades[0]["fee_rate"] == pytest.approx(0.002)
        # me_per_s=2: the insert above and one more pass, the third is throttled (code 4)
        ok = await c.call("private/insert", order_params(60_000))
        assert "result" in ok, ok
        third = await c.call("private/insert", order_params(60_001))
        assert third["error"]["code"] == 4

    kw = parse_sim_options(["taker_fee_rate=0.002", "me_per_s=2", "lockout_s=5"]).build_kwargs()
    run_sim(body, tmp_path, **kw)


# ---------------------------------------------------------------- restart fault


def test_restart_fault_keys_parse_and_reset():
    plan = parse_fault_args(["restart_at_s=2.5", "restart_keep_persistent=false"])
    assert plan.restart_at_s == 2.5 and plan.restart_keep_persistent is False
    assert FaultPlan().restart_at_s is None and FaultPlan().restart_keep_persistent is True
    assert parse_fault_args(["restart_at_s=none"]).restart_at_s is None
    with pytest.raises(ConfigError, match="restart_at_s"):
        parse_fault_args(["restart_at_s=-1"])
    plan.reset()
    assert plan.restart_at_s is None and plan.restart_keep_persistent is True


@pytest.mark.parametrize(("keep", "left"), [("true", [64_901]), ("false", [])])
def test_restart_at_s_restarts_the_venue_once(tmp_path, keep, left):
    seen: dict[str, object] = {}

    async def body(sim, keys):
        c = await Client.open(sim.url)
        await c.login(keys)
        await c.call("private/subscribe", {"channels": ["session.orders"]})
        await c.call("private/insert", order_params(64_901))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await c.drain(2.0)  # returns when the connection drops
        seen["after_s"] = loop.time() - t0
        seen["closed"] = c.ws.close_code
        seen["reasons"] = [o.get("delete_reason") for n in c.notes
                           if n["channel_name"] == "session.orders" for o in n["notification"]
                           if o["status"] == "cancelled"]
        fresh = await Client.open(sim.url)
        await fresh.login(keys)
        seen["left"] = [o["price"] for o in (await fresh.call("private/open_orders"))["result"]]
        await fresh.drain(0.4)  # fires once: the new connection stays up
        seen["fresh_closed"] = fresh.ws.close_code
        seen["restarts"] = sim.restarts

    faults = parse_fault_args(["restart_at_s=0.4", f"restart_keep_persistent={keep}"])
    run_sim(body, tmp_path, faults=faults)
    assert seen["closed"] is not None and seen["after_s"] < 1.5
    assert seen["left"] == left
    assert seen["reasons"] == ([] if keep == "true" else ["failover"])
    assert seen["fresh_closed"] is None and seen["restarts"] == 1
