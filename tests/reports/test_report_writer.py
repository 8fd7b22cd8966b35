"""summary.json determinism, the offline HTML report, the terminal table, downsampling."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.reports import (
    HTML_NAME,
    SUMMARY_NAME,
    TIMING_KEYS,
    RunRecord,
    RunRecorder,
    compute_summary,
    format_summary_table,
    write_report,
)
from thalex_mm.reports.downsample import downsample_minmax

S = 1_000_000_000
_VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line", "path", "circle"}


def _run(wall_seconds: float = 1.25, n_mid: int = 5_000, seed: int = 7) -> RunRecord:
    rng = np.random.default_rng(seed)
    rec = RunRecorder(
        instrument="BTC-PERPETUAL", config={"avellaneda": {"gamma": 0.1}, "x": [1, 2]}
    )
    mid = 60_000 + np.cumsum(rng.normal(0, 2, n_mid))
    for i in range(n_mid):
        t = i * S // 10
        rec.on_mid(t, float(mid[i]))
        if i % 7 == 0:
            bid = None if i % 91 == 0 else float(mid[i] - 3)
            rec.on_quote(t, bid, float(mid[i] + 3), float(mid[i]), float(mid[i] - 0.5))
        if i % 13 == 0:
            side = 1 if rng.random() < 0.5 else -1
            rec.on_fill(t, side, float(mid[i] - side * 3), 0.01, -0.0001 * 0.01 * mid[i], True)
    rec.on_funding(n_mid * S // 20, 0.5)
    rec.count_requote(100)
    return rec.finish(events=3 * n_mid, wall_seconds=wall_seconds)


def _strip_timing_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if not any(f'"{k}"' in ln for k in TIMING_KEYS)]


def test_write_report_when_same_run_twice_gives_identical_summary_bytes(tmp_path: Path):
    a = write_report(_run(), tmp_path / "a")
    b = write_report(_run(), tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / SUMMARY_NAME).read_bytes() == (
        tmp_path / "b" / SUMMARY_NAME
    ).read_bytes()
    assert (tmp_path / "a" / HTML_NAME).read_bytes() == (tmp_path / "b" / HTML_NAME).read_bytes()


def test_write_report_when_only_wall_time_differs_differs_only_on_timing_lines(tmp_path: Path):
    write_report(_run(wall_seconds=1.0), tmp_path / "a")
    write_report(_run(wall_seconds=3.0), tmp_path / "b")
    ta = (tmp_path / "a" / SUMMARY_NAME).read_text()
    tb = (tmp_path / "b" / SUMMARY_NAME).read_text()
    assert ta != tb
    assert _strip_timing_lines(ta) == _strip_timing_lines(tb)
    write_report(_run(wall_seconds=1.0), tmp_path / "c", strip_timing=True)
    write_report(_run(wall_seconds=3.0), tmp_path / "d", strip_timing=True)
    tc = (tmp_path / "c" / SUMMARY_NAME).read_bytes()
    assert tc == (tmp_path / "d" / SUMMARY_NAME).read_bytes()
    assert json.loads(tc)["wall_seconds"] is None


def test_summary_json_is_sorted_and_matches_returned_dict(tmp_path: Path):
    summary = write_report(_run(), tmp_path)
    text = (tmp_path / SUMMARY_NAME).read_text()
    loaded = json.loads(text)
    assert loaded == summary
    assert list(loaded) == sorted(loaded)
    assert loaded["config"] == {"avellaneda": {"gamma": 0.1}, "x": [1, 2]}
    assert loaded["requotes"] == 100
    assert loaded["fills"] == len(range(0, 5_000, 13))
    assert "NaN" not in text and "Infinity" not in text
    for key in ("events", "seconds_simulated", "wall_seconds", "events_per_second", "fills",
                "volume", "notional_volume", "pnl_total", "pnl_realised", "pnl_unrealised",
                "fees", "funding", "max_drawdown", "sharpe", "max_abs_position",
                "time_weighted_abs_position", "quote_uptime", "markout_1s", "markout_10s",
                "markout_60s"):  # fmt: skip
        assert key in loaded, key


class _Checker(HTMLParser):
    """Tracks open tags; records mismatched closes and every src/href value."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.links: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"close {tag} with open {self.stack[-3:]}")
            return
        self.stack.pop()


def test_report_html_when_written_is_offline_and_well_formed(tmp_path: Path):
    write_report(_run(), tmp_path)
    html = (tmp_path / HTML_NAME).read_text()
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert [ln for ln in checker.links if ln.startswith(("http:", "https:", "//"))] == []
    assert re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I) is None
    # Everything inline: no <link>, no @import, every <script> carries its code (no src).
    assert "<link" not in html and "@import" not in html
    assert re.search(r"<script[^>]*\bsrc\s*=", html) is None
    assert "uPlot" in html  # the vendored charting library, inlined
    for chart in ("equity", "drawdown", "inventory", "quotes"):
        assert f'id="plot-{chart}"' in html and f'data-chart="{chart}"' in html, chart
    data = {json.loads(m)["id"]: json.loads(m) for m in re.findall(
        r'<script type="application/json" data-chart="[a-z]+">(.*?)</script>', html)}
    assert data["equity"]["y_label"] == "quote ccy"
    assert data["inventory"]["y_label"] == "contracts"
    assert [s["label"] for s in data["quotes"]["series"]][:1] == ["mid"]
    for section in ("summary", "timeline", "charts", "markouts", "fills", "config"):
        assert f'<h2 id="{section}">' in html, section
    assert "pnl_total" in html and "BTC-PERPETUAL" in html


def test_report_html_when_series_are_long_is_downsampled(tmp_path: Path):
    n = 200_000
    r = RunRecord(
        mid_ts_ns=np.arange(n, dtype=np.int64) * (S // 100),
        mid_price=60_000 + np.sin(np.arange(n) / 500.0) * 100,
    )
    write_report(r, tmp_path)
    html = (tmp_path / HTML_NAME).read_text()
    assert len(html) < 500_000
    blocks = [json.loads(m) for m in re.findall(
        r'<script type="application/json" data-chart="[a-z]+">(.*?)</script>', html)]
    assert max(len(b["x"]) for b in blocks) <= 2_000


def test_write_report_when_empty_run_writes_valid_files(tmp_path: Path):
    summary = write_report(RunRecord(), tmp_path / "out")
    loaded = json.loads((tmp_path / "out" / SUMMARY_NAME).read_text())
    assert loaded == summary
    assert summary["fills"] == 0 and summary["pnl_total"] == 0.0
    assert summary["markout_1s"] is None and summary["sharpe"] is None
    html = (tmp_path / "out" / HTML_NAME).read_text()
    assert html.count("data-chart=") == 4 and "no fills" in html
    checker = _Checker()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []


def test_format_summary_table_lists_metrics_in_order_with_units():
    s = compute_summary(_run(), markout_horizons_s=(60.0, 1.0, 10.0))
    table = format_summary_table(s)
    lines = table.splitlines()
    assert lines[0].split() == ["metric", "value", "unit"]
    names = [ln.split()[0] for ln in lines[2:]]
    assert names.index("pnl_total") < names.index("fills") < names.index("quote_uptime")
    marks = [n for n in names if n.startswith("markout_")]
    assert marks == ["markout_1s", "markout_10s", "markout_60s"]
    assert any(ln.startswith("requotes") and ln.split()[1] == "100" for ln in lines)
    assert any(ln.startswith("rejects") and "n/a" in ln for ln in lines)
    assert any(ln.startswith("volume") and ln.rstrip().endswith("contracts") for ln in lines)


@pytest.mark.parametrize("n", [10, 2_001, 100_003])
def test_downsample_minmax_keeps_extremes_and_bounds_length(n: int):
    rng = np.random.default_rng(n)
    x = np.arange(n, dtype=np.float64)
    y = rng.normal(size=n)
    y[n // 3] = np.nan
    ox, oy = downsample_minmax(x, y, 2000)
    assert len(ox) == len(oy) <= 2000
    assert np.nanmax(oy) == np.nanmax(y) and np.nanmin(oy) == np.nanmin(y)
    assert np.all(np.diff(ox) >= 0)


def test_write_report_extra_keys_go_into_summary_and_html_and_may_not_clash(tmp_path: Path):
    block = {"batch_ms": 1.0, "data": ["a.gz", "b.gz"], "seed": 3}
    summary = write_report(_run(), tmp_path, extra={"settings": block})
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["settings"] == summary["settings"] == block
    assert "settings.batch_ms" in (tmp_path / "report.html").read_text()
    with pytest.raises(ValueError, match="'fills'"):
        write_report(_run(), tmp_path / "x", extra={"fills": 0})
