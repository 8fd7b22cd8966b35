"""Run independent backtest tasks on all local cores or on a Ray cluster (one helper for
``sweep`` and ``evaluate``).

:func:`map_tasks` applies a top-level function to each task and returns the results **in task
order**, whatever order they finished in, so a run is reproducible however it was spread out.
Local runs use a ``multiprocessing`` pool with the *spawn* context (safe on every platform;
workers import the function by name, so it must be a module-level function and tasks must
pickle); one task or one job runs in this process. Given ``ray_address`` the tasks run as Ray
remote functions (``ray`` is an optional extra: ``pip install 'thalex-mm[ray]'``); any address
``ray.init`` accepts works (``"auto"``, ``"ray://host:10001"``, ``"127.0.0.1:6379"``,
``"local"`` for a throw-away in-process cluster).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["RAY_MISSING", "local_workers", "map_tasks"]

T = TypeVar("T")
R = TypeVar("R")

RAY_MISSING = ("--ray-address needs the optional 'ray' package, which is not installed: "
               "pip install 'thalex-mm[ray]' (or run without --ray-address to use local cores)")


def local_workers(jobs: int | None, n_tasks: int) -> int:
    """Worker processes a local run uses: ``jobs`` (default: all cores), at most one per task;
    1 means the tasks run in this process."""
    return max(1, min(jobs or multiprocessing.cpu_count(), n_tasks))


def map_tasks(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    *,
    jobs: int | None = None,
    ray_address: str | None = None,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[fn(t) for t in tasks]``, spread over processes or a Ray cluster.

    Args:
        fn: a module-level function (workers import it by name).
        tasks: picklable arguments, one per call.
        jobs: local worker processes (default: all cores; capped at the number of tasks).
        ray_address: run on this Ray cluster instead of local processes.
        on_result: called in this process as each result arrives, with the task's index
            (for progress; completion order, not task order).

    Returns:
        The results in task order.

    Raises:
        RuntimeError: ``ray_address`` given but ``ray`` is not installed.
    """
    if ray_address is not None:
        return _map_ray(fn, tasks, ray_address, on_result)
    n = local_workers(jobs, len(tasks))
    if n == 1:
        out = []
        for i, t in enumerate(tasks):
            out.append(fn(t))
            if on_result is not None:
                on_result(i, out[-1])
        return out
    results: list[Any] = [None] * len(tasks)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(n) as pool:
        for i, r in pool.imap_unordered(_Indexed(fn), list(enumerate(tasks)), chunksize=1):
            results[i] = r
            if on_result is not None:
                on_result(i, r)
    return results


class _Indexed:
    """``(i, task) -> (i, fn(task))``: a picklable wrapper so unordered results find their slot."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: tuple[int, Any]) -> tuple[int, Any]:
        i, task = item
        return i, self.fn(task)


def _map_ray(fn: Callable[[T], R], tasks: Sequence[T], address: str,
             on_result: Callable[[int, R], None] | None) -> list[R]:
    try:
        import ray  # type: ignore[import-not-found]
    except ImportError:
        raise RuntimeError(RAY_MISSING) from None
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    remote = ray.remote(fn)
    refs = [remote.remote(t) for t in tasks]
    index = {ref: i for i, ref in enumerate(refs)}
    results: list[Any] = [None] * len(tasks)
    pending = list(refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        for ref in done:
            i = index[ref]
            results[i] = ray.get(ref)
            if on_result is not None:
                on_result(i, results[i])
    return results
