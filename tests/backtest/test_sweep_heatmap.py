"""A sweep writes an HTML heatmap of its metric over the grid."""

from __future__ import annotations


def test_sweep_heatmap_when_two_parameters_colours_best_green_and_worst_red(tmp_path) -> None:
    import re

    from thalex_mm.backtest.sweep import SWEEP_HTML, write_sweep

    results = [{"params": {"a": a, "b": b}, "summary": {"pnl_total": a * 10 + b}}
               for a in (1, 2) for b in (0.5, 1.5)]
    results.append({"params": {"a": 3, "b": 0.5}, "summary": {"pnl_total": None}})
    write_sweep(results, tmp_path, "pnl_total")
    html = (tmp_path / SWEEP_HTML).read_text()
    cells = re.findall(r'<td style="background:rgb\((\d+),(\d+),(\d+)\)"[^>]*>([^<]+)</td>', html)
    by_value = {float(v): (int(r), int(g)) for r, g, _, v in cells}
    assert set(by_value) == {10.5, 11.5, 20.5, 21.5}
    assert by_value[21.5][1] > by_value[21.5][0]  # best: green
    assert by_value[10.5][0] > by_value[10.5][1]  # worst: red
    assert '<td class="na">n/a</td>' in html and "<script" not in html
