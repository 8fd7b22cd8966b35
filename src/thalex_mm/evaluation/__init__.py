"""Walk-forward evaluation of the trading core over recorded sessions (``thalex-mm evaluate``).

:mod:`~thalex_mm.evaluation.walkforward` plans and runs it (design in its docstring),
:mod:`~thalex_mm.evaluation.gate` holds the core back during each calibration window,
:mod:`~thalex_mm.evaluation.session_run` is one (grid point, session) task,
:mod:`~thalex_mm.evaluation.blocks` computes the metrics and their bootstrap intervals,
:mod:`~thalex_mm.evaluation.report` writes ``evaluation.json`` and ``evaluation.html``.
"""
