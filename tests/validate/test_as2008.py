"""Avellaneda & Stoikov (2008) reproduction against the journal's Table 1 (γ = 0.1)."""

from __future__ import annotations

import json
import math

import pytest

from thalex_mm.cli import main
from thalex_mm.core.model import as_spread
from thalex_mm.validate.as2008 import PAPER_TABLES, AsWorld, simulate

TABLE1 = PAPER_TABLES[0.1]


@pytest.mark.parametrize("seed", [1, 7])
def test_as2008_when_gamma_0_1_matches_journal_table1_within_10pct(seed):
    res = simulate(0.1, paths=2000, seed=seed)
    inv, sym = res["inventory"], res["symmetric"]
    assert inv.profit_mean == pytest.approx(TABLE1["inventory"]["profit_mean"], rel=0.10)
    assert inv.profit_sd == pytest.approx(TABLE1["inventory"]["profit_sd"], rel=0.10)
    assert inv.q_sd == pytest.approx(TABLE1["inventory"]["q_sd"], rel=0.10)
    assert sym.profit_mean == pytest.approx(TABLE1["symmetric"]["profit_mean"], rel=0.10)
    # the paper's qualitative finding: inventory skew halves the P&L and inventory dispersion
    assert inv.profit_sd < 0.7 * sym.profit_sd and inv.q_sd < 0.5 * sym.q_sd


def test_as2008_when_symmetric_strategy_quotes_average_of_model_spread():
    w = AsWorld()
    res = simulate(0.1, paths=10, seed=3)
    expected = math.fsum(as_spread(0.1, 2.0, w.T - i * w.dt, 1.5) for i in range(w.steps)) / w.steps
    assert res["symmetric"].spread == pytest.approx(expected)
    assert res["inventory"].spread == pytest.approx(expected)
    assert expected == pytest.approx(TABLE1["inventory"]["spread"], abs=0.005)


def test_as2008_when_bad_paths_raises_naming_argument():
    with pytest.raises(ValueError, match="paths"):
        simulate(0.1, paths=1)


def test_validate_cli_when_json_prints_gamma_keyed_figures(capsys):
    assert main(["validate", "as2008", "--paths", "50", "--seed", "2", "--gamma", "0.1", "--gamma", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"0.1", "1"}
    for by_strategy in data.values():
        assert set(by_strategy) == {"inventory", "symmetric"}
        for figs in by_strategy.values():
            assert set(figs) == {"spread", "profit_mean", "profit_sd", "q_mean", "q_sd"}


def test_validate_cli_when_text_prints_paper_figures_beside_ours(capsys):
    assert main(["validate", "as2008", "--paths", "50", "--gamma", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "(65.00)" in out and "(12.70)" in out


def test_validate_cli_when_paths_invalid_exits_with_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", "as2008", "--paths", "1"])
    assert exc.value.code == 2
    assert "expected an integer >= 2" in capsys.readouterr().err
