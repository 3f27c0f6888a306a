"""The one Student-t interval: against scipy, along an axis, and at its nominal coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from funnelsim.experiment.statistics import mean_ci


def _scipy(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    low, high = stats.t.interval(confidence, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    return float(np.mean(x)), low, high


@pytest.mark.parametrize("n", [2, 3, 7, 30, 200])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_one_sample_matches_scipy(n: int, confidence: float):
    x = np.random.default_rng(n).lognormal(3, 1, n)
    assert mean_ci(x, confidence) == pytest.approx(_scipy(x, confidence), rel=1e-12)


def test_along_an_axis_matches_each_slice():
    rng = np.random.default_rng(5)
    runs = rng.normal(10, 3, (12, 40))
    runs[3, 7] = runs[0, 9] = np.nan
    for axis in (0, 1):
        mean, low, high = mean_ci(runs, 0.95, axis=axis)
        assert mean.shape == low.shape == high.shape == (runs.shape[1 - axis],)
        slices = runs.T if axis == 0 else runs
        want = np.array([_scipy(s, 0.95) for s in slices])
        np.testing.assert_allclose(np.column_stack([mean, low, high]), want, rtol=1e-12)
        assert np.allclose(np.column_stack([mean, low, high]), [mean_ci(s) for s in slices], rtol=1e-12)


def test_small_and_degenerate_samples():
    assert all(math.isnan(v) for v in mean_ci([]))
    assert all(math.isnan(v) for v in mean_ci([np.nan, np.nan]))
    m, lo, hi = mean_ci([4.0, np.nan])
    assert m == 4.0 and math.isnan(lo) and math.isnan(hi)
    assert mean_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    mean, low, high = mean_ci(np.array([[1.0, np.nan], [3.0, np.nan], [5.0, 7.0]]), axis=0)
    assert mean[0] == 3.0 and np.isfinite(low[0]) and mean[1] == 7.0 and np.isnan(low[1]) and np.isnan(high[1])


def test_nominal_coverage():
    """Over 4,000 normal samples of 8, about 95% of the intervals hold the true mean."""
    samples = np.random.default_rng(2024).normal(1.5, 2.0, (8, 4000))
    _, low, high = mean_ci(samples, 0.95, axis=0)
    coverage = float(np.mean((low <= 1.5) & (high >= 1.5)))
    assert abs(coverage - 0.95) < 3 * math.sqrt(0.95 * 0.05 / 4000), coverage
    _, low, high = mean_ci(samples, 0.8, axis=0)
    assert abs(float(np.mean((low <= 1.5) & (high >= 1.5))) - 0.8) < 3 * math.sqrt(0.8 * 0.2 / 4000)
