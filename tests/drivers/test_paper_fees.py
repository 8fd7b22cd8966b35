"""Paper tells the truth about fees: the model and the simulator use one set of rates."""

from __future__ import annotations

import inspect

from thalex_mm.config.models import AvellanedaConfig, BotConfig
from thalex_mm.fees import FeeRates, paper_fee_rates
from thalex_mm.sim.app import build_simulated_exchange
from thalex_mm.sim.engine import EngineConfig


def test_fee_defaults_when_nothing_configured_are_the_same_for_config_and_simulator() -> None:
    av, eng = AvellanedaConfig(), EngineConfig()
    params = inspect.signature(build_simulated_exchange).parameters
    assert (av.maker_fee_rate, av.taker_fee_rate) == (eng.maker_fee_rate, eng.taker_fee_rate)
    assert params["maker_fee_rate"].default == av.maker_fee_rate
    assert params["taker_fee_rate"].default == av.taker_fee_rate


def test_paper_fee_rates_when_config_sets_them_the_simulator_charges_them() -> None:
    cfg = BotConfig(avellaneda=AvellanedaConfig(maker_fee_rate=0.0002, taker_fee_rate=0.0007))
    core_cfg, sim_kwargs, rates = paper_fee_rates(cfg, {"seed_offset": 1})
    assert core_cfg is cfg
    assert sim_kwargs == {"seed_offset": 1, "maker_fee_rate": 0.0002, "taker_fee_rate": 0.0007}
    assert rates.source == "config avellaneda.*"


def test_paper_fee_rates_when_sim_overrides_the_model_learns_the_override() -> None:
    cfg = BotConfig()
    core_cfg, sim_kwargs, rates = paper_fee_rates(cfg, {"maker_fee_rate": -0.0002})
    assert core_cfg.avellaneda.maker_fee_rate == -0.0002 == sim_kwargs["maker_fee_rate"]
    assert core_cfg.avellaneda.taker_fee_rate == cfg.avellaneda.taker_fee_rate
    assert "--sim override of maker_fee_rate" in rates.describe()


def test_fee_rates_describe_names_both_rates_in_basis_points() -> None:
    text = FeeRates(maker=-0.0001, taker=0.0005).describe()
    assert text == "maker -1.00 bp, taker 5.00 bp of notional (config avellaneda.*)"
