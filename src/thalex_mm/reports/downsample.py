"""Downsampling of long series for report charts: keep each bucket's minimum and maximum, so
spikes survive and a day of data stays a few thousand points per chart."""

from __future__ import annotations

import numpy as np

__all__ = ["downsample_minmax"]


def downsample_minmax(
    x: np.ndarray, y: np.ndarray, max_points: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a series to at most ``max_points`` points keeping each bucket's min and max.

    Points are bucketed by index; each bucket yields its minimum and maximum (NaN ignored; an
    all-NaN bucket yields NaN, i.e. a gap) in their original order.

    Args:
        x: x values (sorted).
        y: y values.
        max_points: upper bound on the output length (>= 2).

    Returns:
        ``(x, y)`` float64 arrays.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    k = -(-n // buckets)
    buckets = -(-n // k)
    pad = buckets * k - n
    yp = np.concatenate((y, np.full(pad, np.nan))).reshape(buckets, k)
    xp = np.concatenate((x, np.full(pad, x[-1]))).reshape(buckets, k)
    nan = np.isnan(yp)
    i_min = np.argmin(np.where(nan, np.inf, yp), axis=1)
    i_max = np.argmax(np.where(nan, -np.inf, yp), axis=1)
    rows = np.arange(buckets)
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    all_nan = nan.all(axis=1)
    ox = np.column_stack((xp[rows, first], xp[rows, second])).reshape(-1)
    oy = np.column_stack((yp[rows, first], yp[rows, second])).reshape(-1)
    oy[np.repeat(all_nan, 2)] = np.nan
    return ox, oy
