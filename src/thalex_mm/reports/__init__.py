"""Run reports shared by the backtester and ``thalex-mm report``: metrics, JSON, offline HTML.

Build a :class:`RunRecord` (directly, or with :class:`RunRecorder` during a run), then call
:func:`write_report` (``summary.json`` + ``report.html``) or :func:`compute_summary`.
"""

from thalex_mm.reports.inputs import RunRecord, RunRecorder
from thalex_mm.reports.metrics import (
    DEFAULT_MARKOUT_HORIZONS_S,
    MIN_SHARPE_INTERVALS,
    SECONDS_PER_YEAR,
    SHARPE_INTERVAL_S,
    average_cost_pnl,
    compute_summary,
    equity_at,
    equity_curve,
    markout_key,
    markouts,
    max_drawdown,
    position_at,
    quote_uptime,
    sharpe_ratio,
    time_weighted_abs_position,
)
from thalex_mm.reports.multi import concatenated_curves, render_sessions_html
from thalex_mm.reports.writer import (
    HTML_NAME,
    SUMMARY_NAME,
    TIMING_KEYS,
    format_summary_table,
    render_html,
    stable_json,
    write_report,
)

__all__ = [
    "DEFAULT_MARKOUT_HORIZONS_S",
    "HTML_NAME",
    "MIN_SHARPE_INTERVALS",
    "SECONDS_PER_YEAR",
    "SHARPE_INTERVAL_S",
    "SUMMARY_NAME",
    "TIMING_KEYS",
    "RunRecord",
    "RunRecorder",
    "average_cost_pnl",
    "compute_summary",
    "concatenated_curves",
    "equity_at",
    "equity_curve",
    "format_summary_table",
    "markout_key",
    "markouts",
    "max_drawdown",
    "position_at",
    "quote_uptime",
    "render_html",
    "render_sessions_html",
    "sharpe_ratio",
    "stable_json",
    "time_weighted_abs_position",
    "write_report",
]
