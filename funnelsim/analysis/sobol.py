"""Sobol' indices from outputs stored in Saltelli's sample order, with bootstrap intervals.

scipy's `sobol_indices` wants a function to call, or complete A/B/AB blocks of a power-of-2 size;
a sweep has stored outputs instead, some possibly missing, so the same estimators are applied here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def saltelli_indices(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen) indices: the estimators of
    `scipy.stats.sobol_indices`, for outputs that are already centred. `f_ab` has shape (d, n)."""
    var = np.var(np.concatenate([f_a, f_b]))
    if var == 0 or not np.isfinite(var):
        return np.zeros(len(f_ab)), np.zeros(len(f_ab))
    first = np.mean(f_b * (f_ab - f_a), axis=-1) / var
    total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
    return first, total


@dataclass
class SobolResult:
    """Indices of one KPI, one row per parameter, with bootstrap 95% intervals."""

    kpi: str
    table: pd.DataFrame
    used: int
    dropped: int


def sobol_indices(y: np.ndarray, n: int, names: list[str], kpi: str, resamples: int = 999) -> SobolResult:
    """Indices from outputs in Saltelli order (A, B, AB_1..AB_d; `n` rows each).

    Rows j where any of the d+2 evaluations is missing (NaN) are left out of every block.
    """
    d = len(names)
    blocks = np.asarray(y, dtype=float).reshape(d + 2, n)
    keep = np.isfinite(blocks).all(axis=0)
    blocks = blocks[:, keep]
    blocks = blocks - np.mean(blocks[:2])
    f_a, f_b, f_ab = blocks[0], blocks[1], blocks[2:]
    first, total = saltelli_indices(f_a, f_b, f_ab)
    low = np.full(2 * d, np.nan)
    high = np.full(2 * d, np.nan)
    if keep.sum() >= 4 and np.var(blocks[:2]) > 0:

        def statistic(idx):
            idx = np.asarray(idx, dtype=int)
            return np.concatenate(saltelli_indices(f_a[idx], f_b[idx], f_ab[:, idx]))

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ci = stats.bootstrap(
                (np.arange(keep.sum()),),
                statistic,
                n_resamples=resamples,
                method="BCa",
                vectorized=False,
                rng=np.random.default_rng(0),
            ).confidence_interval
        low, high = np.asarray(ci.low), np.asarray(ci.high)
    table = pd.DataFrame(
        {
            "parameter": names,
            "S1": first,
            "S1_ci95_low": low[:d],
            "S1_ci95_high": high[:d],
            "ST": total,
            "ST_ci95_low": low[d:],
            "ST_ci95_high": high[d:],
        }
    )
    return SobolResult(kpi, table, int(keep.sum()), int((~keep).sum()))
