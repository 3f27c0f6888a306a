"""Pure maths of the funnel: interest decay and stage conversion."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np


class ResponseCurve:
    """Share of a lead's interest left after waiting `hours` (calendar) for a first attempt.

    Log-linear interpolation between the configured points, flat after the last one: the
    published figures are ratios, so interpolating in log space keeps them ratios.
    """

    __slots__ = ("_hours", "_logm", "_flat", "_last_h", "_last", "_xs", "_ys", "_distinct")

    def __init__(self, points: Sequence[tuple[float, float]]):
        pts = sorted(points)
        self._hours = np.array([h for h, _ in pts], dtype=float)
        self._logm = np.log(np.array([m for _, m in pts], dtype=float))
        self._flat = bool(np.all(self._logm == self._logm[0]))
        self._last_h = float(self._hours[-1])
        self._last = float(math.exp(self._logm[-1]))
        self._xs = self._hours.tolist()
        self._ys = self._logm.tolist()
        self._distinct = bool(np.all(np.diff(self._hours) > 0))

    def __call__(self, hours: float) -> float:
        if self._flat or hours >= self._last_h:
            return self._last
        if not self._distinct:
            return math.exp(float(np.interp(hours, self._hours, self._logm)))
        # np.interp's own arithmetic, in plain floats: one scalar call costs a few microseconds
        xs, ys = self._xs, self._ys
        if hours <= xs[0]:
            return math.exp(ys[0])
        j = bisect_right(xs, hours) - 1
        slope = (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])
        return math.exp(slope * (hours - xs[j]) + ys[j])

    def many(self, hours: np.ndarray) -> np.ndarray:
        return np.exp(np.interp(np.asarray(hours, dtype=float), self._hours, self._logm))


def effect(value: float, reference: float, elasticity: float) -> float:
    """Multiplier on a conversion rate: 1 at the reference, a power law around it."""
    if elasticity == 0.0:
        return 1.0
    return (max(value, 1e-9) / reference) ** elasticity


def effect_many(values: np.ndarray, reference: float, elasticity: float) -> np.ndarray:
    """`effect` for many values at once."""
    if elasticity == 0.0:
        return np.ones(len(values))
    return (np.maximum(values, 1e-9) / reference) ** elasticity


def conversion(base: float, fit_effect: float, skill_effect: float, interest: float = 1.0) -> float:
    """Probability of passing a stage, capped below certainty."""
    return min(0.99 if base < 1.0 else 1.0, base * fit_effect * skill_effect * interest)


def ramp_share(ramp, tenure_months: float) -> float:
    """Share of full skill reached after `tenure_months` (1.0 when there is no ramp)."""
    if ramp is None:
        return 1.0
    if ramp.time_constant_months is not None:
        return 1.0 - math.exp(-max(tenure_months, 0.0) / ramp.time_constant_months)
    table, months = (ramp.quarterly, 3.0) if ramp.quarterly is not None else (ramp.monthly, 1.0)
    index = int(max(tenure_months, 0.0) // months + 1e-9)
    return table[min(index, len(table) - 1)]


def saturating(amount: float, half: float, ceiling: float) -> float:
    """Diminishing returns: 0 at 0, half the ceiling at `half`, approaching `ceiling`."""
    return ceiling * (1.0 - 0.5 ** (amount / half))


def selling_shares(pattern, hours_per_day: float) -> list[float]:
    """Share of a day's selling hours that arrives at the start of each working hour.

    `morning`: all at the start of the day. `spread`: in proportion to each hour's length (the
    last hour of a 7.5-hour day is half an hour). A list: its weights, normalised.
    """
    if pattern == "morning":
        return [1.0]
    n = math.ceil(hours_per_day - 1e-9)
    spread = [min(1.0, hours_per_day - k) for k in range(n)]
    weights = spread if pattern == "spread" else [float(w) for w in pattern]
    total = sum(weights)
    return [w / total for w in weights]
