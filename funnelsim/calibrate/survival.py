"""Survival maths for censored funnel data: Kaplan-Meier, Aalen-Johansen, bootstrap weights.

Every estimator takes a matrix of case weights, one row per bootstrap replicate (a row of ones is
the estimate itself), so replicates cost one pass of numpy rather than a Python loop each.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

CENSORED, PASSED, LOST = 0, 1, 2
DAY_STARTS_HOURS = 9.0  # a working day starts at 09:00 (as funnelsim's synthetic exports lay it)
BLOCK = 25  # bootstrap replicates computed at once: bounds memory at BLOCK x rows


def weight_blocks(n: int, replicates: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Bootstrap case weights (how often each of `n` rows is drawn), `BLOCK` replicates at a time."""
    done = 0
    while done < replicates:
        b = min(BLOCK, replicates - done)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
        done += b


def bootstrap(n: int, replicates: int, rng: np.random.Generator, statistic) -> np.ndarray:
    """`statistic(weights)` (weights: replicates x n, returns replicates x k) over all replicates."""
    if replicates <= 0 or n == 0:
        return np.atleast_2d(statistic(np.ones((1, n))).T).T[:0]
    return np.concatenate([np.atleast_2d(statistic(w).T).T for w in weight_blocks(n, replicates, rng)])


def percentile_interval(point: float, draws: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of bootstrap draws (NaN when there are none)."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    if len(draws) < 2 or not np.isfinite(point):
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(draws, [0.025, 0.975])
    return (float(lo), float(hi))


def working_days(start: pd.Series | np.ndarray, end: pd.Series | np.ndarray, hours_per_day: float, days_per_week: int):
    """Working days between two times as the model counts them: working days count whole,
    within a day only the `hours_per_day` from 09:00, days off not at all."""
    a = pd.DatetimeIndex(start)
    b = pd.DatetimeIndex(end)
    mask = [1] * days_per_week + [0] * (7 - days_per_week)
    da = a.normalize().values.astype("datetime64[D]")
    db = b.normalize().values.astype("datetime64[D]")
    ok = ~(np.isnat(da) | np.isnat(db))
    out = np.full(len(a), np.nan)
    whole = np.busday_count(da[ok], db[ok], weekmask=mask).astype(float)

    def into_day(t: pd.DatetimeIndex, d: np.ndarray) -> np.ndarray:
        hours = (t - t.normalize()).total_seconds().to_numpy() / 3600.0
        frac = np.clip((hours - DAY_STARTS_HOURS) / hours_per_day, 0.0, 1.0)
        return np.where(np.is_busday(d, weekmask=mask), frac, 0.0)

    out[ok] = whole + into_day(b[ok], db[ok]) - into_day(a[ok], da[ok])
    return out


class Competing:
    """Times to an event with two outcomes (passed, lost) or censoring, ready for weighted estimates.

    `time`: duration from entering the state; `event`: CENSORED, PASSED or LOST.
    """

    def __init__(self, time: np.ndarray, event: np.ndarray):
        time = np.asarray(time, dtype=float)
        order = np.argsort(time, kind="stable")
        self.time = time[order]
        self.event = np.asarray(event)[order]
        self.order = order
        self.times, self.starts = np.unique(self.time, return_index=True)

    def __len__(self) -> int:
        return len(self.time)

    def _sums(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per distinct time: at risk, passed, lost (replicates x times)."""
        w = np.atleast_2d(w)[:, self.order]
        total = np.add.reduceat(w, self.starts, axis=1)
        passed = np.add.reduceat(w * (self.event == PASSED), self.starts, axis=1)
        lost = np.add.reduceat(w * (self.event == LOST), self.starts, axis=1)
        at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
        return at_risk, passed, lost

    def incidence(self, w: np.ndarray | None = None) -> np.ndarray:
        """Aalen-Johansen cumulative incidence of passing at each distinct time (replicates x times)."""
        w = np.ones((1, len(self))) if w is None else w
        at_risk, passed, lost = self._sums(w)
        with np.errstate(invalid="ignore", divide="ignore"):
            hazard_pass = np.where(at_risk > 0, passed / at_risk, 0.0)
            hazard_any = np.where(at_risk > 0, (passed + lost) / at_risk, 0.0)
        surv = np.cumprod(1.0 - hazard_any, axis=1)
        before = np.concatenate([np.ones((surv.shape[0], 1)), surv[:, :-1]], axis=1)
        return np.cumsum(before * hazard_pass, axis=1)

    def eventually(self, w: np.ndarray | None = None) -> np.ndarray:
        """Probability of ever passing (the incidence at the last time), one per replicate."""
        return self.incidence(w)[:, -1]

    def quantiles(self, probs: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """Quantiles of the time to pass among those who pass: the incidence over its final value."""
        inc = self.incidence(w)
        final = inc[:, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = inc / final
        out = np.full((inc.shape[0], len(probs)), np.nan)
        for j, p in enumerate(probs):
            reached = share >= p - 1e-12
            first = np.argmax(reached, axis=1)
            ok = reached.any(axis=1) & (final[:, 0] > 0)
            out[ok, j] = self.times[first[ok]]
        return out
