"""Confidence intervals over replications."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; the interval is (nan, nan) with fewer than 2 values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(np.mean(x))
    if len(x) < 2:
        return mean, math.nan, math.nan
    sem = float(np.std(x, ddof=1)) / math.sqrt(len(x))
    if sem == 0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 1)) * sem
    return mean, mean - half, mean + half
