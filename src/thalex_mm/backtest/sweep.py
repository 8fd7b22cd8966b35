"""Parameter sweeps: a grid of config overrides, each a backtest, run in parallel.

``parse_grid("avellaneda.gamma=0.01,0.1,1")`` → ``("avellaneda.gamma", (0.01, 0.1, 1.0))``;
:func:`grid_points` is the cartesian product in a fixed order. :func:`run_sweep` runs the
points with ``multiprocessing`` (spawn context: safe on every platform) or, given an address,
on a Ray cluster (``ray`` is an optional dependency: a clear error when it is missing).
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Sequence
from typing import Any

from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.config.models import BotConfig

__all__ = ["apply_overrides", "grid_points", "parse_grid", "run_point", "run_sweep"]


def _value(text: str) -> object:
    t = text.strip()
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    for conv in (int, float):
        try:
            return conv(t)
        except ValueError:
            pass
    return t


def parse_grid(spec: str) -> tuple[str, tuple[object, ...]]:
    """``'section.key=v1,v2'`` → ``('section.key', (v1, v2))`` (numbers and booleans parsed).

    Raises:
        ValueError: no ``=``, no dotted key, or no values.
    """
    key, sep, values = spec.partition("=")
    key = key.strip()
    vals = tuple(_value(v) for v in values.split(",") if v.strip())
    if not sep or "." not in key or not vals:
        raise ValueError(f"--grid {spec!r}: expected section.key=v1,v2,... "
                         "(e.g. avellaneda.gamma=0.01,0.1,1)")
    return key, vals


def grid_points(grids: Sequence[tuple[str, tuple[object, ...]]]) -> list[dict[str, object]]:
    """The cartesian product of the grids, first grid varying slowest."""
    keys = [k for k, _ in grids]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(v for _, v in grids))]


def apply_overrides(config: BotConfig, overrides: dict[str, object]) -> BotConfig:
    """A new validated config with ``section.key`` values replaced.

    Raises:
        ConfigError: an unknown key or a bad value (named).
    """
    from thalex_mm.config.loader import parse_config

    data = config.model_dump(mode="json")
    for path, value in overrides.items():
        node = data
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return parse_config(data)


def run_point(args: tuple[list[str], dict[str, Any], dict[str, object], BacktestSettings,
                          int | None, int | None]) -> dict[str, Any]:
    """Run one grid point (a top-level function so spawned workers can import it)."""
    from thalex_mm.backtest.api import run_backtest
    from thalex_mm.config.loader import parse_config

    data, cfg_json, overrides, settings, start, end = args
    config = apply_overrides(parse_config(cfg_json), overrides)
    out = run_backtest(data, config, settings, start_ns=start, end_ns=end)
    summary = {k: v for k, v in out.summary.items() if k != "config"}
    return {"params": overrides, "summary": summary}


def run_sweep(
    data: Sequence[str],
    config: BotConfig,
    grids: Sequence[tuple[str, tuple[object, ...]]],
    settings: BacktestSettings,
    *,
    jobs: int | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
    ray_address: str | None = None,
) -> list[dict[str, Any]]:
    """Run every grid point; results in grid order, each ``{"params", "summary"}``.

    Raises:
        ConfigError: a grid value the config rejects (checked before anything runs).
        RuntimeError: ``ray_address`` given but ``ray`` is not installed.
    """
    points = grid_points(grids)
    for p in points:
        apply_overrides(config, p)  # fail fast, before starting workers
    cfg_json = config.model_dump(mode="json")
    tasks = [(list(data), cfg_json, p, settings, start_ns, end_ns) for p in points]
    if ray_address is not None:
        return _run_ray(tasks, ray_address)
    n = max(1, min(jobs or multiprocessing.cpu_count(), len(tasks)))
    if n == 1:
        return [run_point(t) for t in tasks]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n) as pool:
        return pool.map(run_point, tasks, chunksize=1)


def _run_ray(tasks: list, address: str) -> list[dict[str, Any]]:
    try:
        import ray  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeError(
            "--ray-address needs the optional 'ray' package, which is not installed: "
            "pip install 'ray[default]' (or run without --ray-address to use local cores)"
        ) from None
    ray.init(address=address, ignore_reinit_error=True)
    remote = ray.remote(run_point)
    return ray.get([remote.remote(t) for t in tasks])
