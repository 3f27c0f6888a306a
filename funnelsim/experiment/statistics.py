"""Confidence intervals over replications: one Student-t interval for every caller."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from funnelsim.results import registry


def t_interval(mean, sd, n, confidence: float = 0.95):
    """The interval mean -/+ t * sd / sqrt(n), from the moments (numbers or arrays alike).

    NaN where fewer than 2 values; the interval of constant values is the mean itself.
    """
    n = np.asarray(n, dtype=float)
    t = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(n >= 2, t * (sd / np.sqrt(n)), np.nan)
    return mean - half, mean + half


def mean_ci(values, confidence: float = 0.95, axis: int | None = None):
    """Mean and Student-t interval of the mean, NaN values left out.

    A 1-D sample (`axis=None`) gives three floats; with `axis`, three arrays, one value per slice
    along it (a replications x days array with `axis=0` gives each day's mean and band). The
    interval is (nan, nan) with fewer than 2 values, the mean is nan with none.
    """
    x = np.asarray(values, dtype=float)
    if axis is None:
        x = x[~np.isnan(x)]
        if len(x) == 0:
            return math.nan, math.nan, math.nan
        mean = float(np.mean(x))
        if len(x) < 2:
            return mean, math.nan, math.nan
        low, high = t_interval(mean, float(np.std(x, ddof=1)), len(x), confidence)
        return mean, float(low), float(high)
    missing = np.isnan(x)
    n = np.sum(~missing, axis=axis)
    if missing.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # slices with 0 or 1 values: NaN, as documented
            mean, sd = np.nanmean(x, axis=axis), np.nanstd(x, axis=axis, ddof=1)
    else:
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, sd = np.mean(x, axis=axis), np.std(x, axis=axis, ddof=1)
    low, high = t_interval(mean, sd, n, confidence)
    return mean, low, high


def summarise(kpis: pd.DataFrame, names=None, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and interval of each KPI (default: the registry's) over the rows (replications), as
    its registry entry aggregates it: the interval kept within the KPI's bounds (a share in [0, 1]...)."""
    rows = {}
    for name in registry.KPI_NAMES if names is None else names:
        mean, low, high = mean_ci(kpis[name], confidence)
        if name in registry.KPI:
            low, high = (float(v) for v in registry.KPI[name].bounded(np.array([low, high])))
        rows[name] = (mean, low, high)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "ci95_low", "ci95_high"])
