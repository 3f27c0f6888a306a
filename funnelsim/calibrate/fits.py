"""Maximum-likelihood fits of the distributions a scenario can hold, vectorised over bootstrap weights.

Deal values: lognormal, gamma and Weibull (two parameters each, origin at zero), chosen by AIC.
Delays: a triangular (low, mode, high), the shape of the model's `buyer_delay_days`.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

VALUE_FAMILIES = ("lognormal", "gamma", "weibull")


def lognormal_fit(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Closed form: the median is exp(mean log), sigma the (weighted, MLE) sd of the log."""
    logx = np.log(x)
    total = w.sum(axis=1)
    mu = (w * logx).sum(axis=1) / total
    var = (w * (logx - mu[:, None]) ** 2).sum(axis=1) / total
    return {"median": np.exp(mu), "sigma": np.sqrt(var)}


def gamma_fit(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Shape by Newton on log k - digamma(k) = log mean - mean log, from Minka's start."""
    total = w.sum(axis=1)
    mean = (w * x).sum(axis=1) / total
    s = np.log(mean) - (w * np.log(x)).sum(axis=1) / total
    s = np.maximum(s, 1e-12)
    k = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(20):
        f = np.log(k) - special.digamma(k) - s
        k = np.maximum(k - f / (1 / k - special.polygamma(1, k)), 1e-8)
    return {"shape": k, "scale": mean / k}


def weibull_fit(x: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Shape by Newton on the profile equation, scale in closed form; x rescaled for stability."""
    ref = np.exp(np.mean(np.log(x)))
    y = x / ref
    logy = np.log(y)
    total = w.sum(axis=1)
    mean_log = (w * logy).sum(axis=1) / total
    k = np.full(w.shape[0], 1.2 / max(float(np.std(logy)), 1e-9))
    for _ in range(60):
        yk = y[None, :] ** k[:, None]
        a = (w * yk).sum(axis=1)
        b = (w * yk * logy).sum(axis=1)
        c = (w * yk * logy**2).sum(axis=1)
        g = b / a - 1 / k - mean_log
        dg = (c * a - b * b) / a**2 + 1 / k**2
        step = g / dg
        k = np.maximum(k - step, k / 4)
        if np.all(np.abs(step) < 1e-10 * k):
            break
    a = (w * y[None, :] ** k[:, None]).sum(axis=1)
    return {"shape": k, "scale": ref * (a / total) ** (1 / k)}


def loglik(family: str, params: dict[str, float], x: np.ndarray) -> float:
    if family == "lognormal":
        return float(stats.lognorm.logpdf(x, params["sigma"], scale=params["median"]).sum())
    if family == "gamma":
        return float(stats.gamma.logpdf(x, params["shape"], scale=params["scale"]).sum())
    return float(stats.weibull_min.logpdf(x, params["shape"], scale=params["scale"]).sum())


FITTERS = {"lognormal": lognormal_fit, "gamma": gamma_fit, "weibull": weibull_fit}


def fit_triangular(x: np.ndarray) -> tuple[float, float, float] | None:
    """Maximum-likelihood triangular (low, mode, high) of positive delays; None if too few or degenerate.

    The likelihood (scipy.stats.triang's density, written out in numpy for speed) is maximised
    by Nelder-Mead from a start just outside the data: the MLE of low and high lies beyond the
    extreme values. low stays >= 0, as a scenario's delays must.
    """
    x = np.asarray(x, dtype=float)
    x = np.maximum(x[np.isfinite(x)], 1e-6)
    if len(x) < 5 or np.ptp(x) <= 0:
        return None
    lo0, hi0 = float(x.min()), float(x.max())
    pad = 0.05 * (hi0 - lo0)
    mode0 = float(np.clip(3 * x.mean() - lo0 - hi0, lo0, hi0))

    def nll(p: np.ndarray) -> float:
        lo, mode, hi = p
        if not (lo < lo0 and hi > hi0 and lo <= mode <= hi and lo >= 0):
            return 1e300
        ll = triangular_logpdf(x, lo, mode, hi)
        return float(-ll.sum()) if np.all(np.isfinite(ll)) else 1e300

    start = np.array([max(lo0 - pad, lo0 / 2), mode0, hi0 + pad])
    res = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6, "maxiter": 4000})
    best = res.x if nll(res.x) < nll(start) else start
    return tuple(float(v) for v in best)


def triangular_logpdf(x: np.ndarray, lo: float, mode: float, hi: float) -> np.ndarray:
    """log of scipy.stats.triang.pdf(x, (mode - lo) / (hi - lo), loc=lo, scale=hi - lo)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.log(2 * (x - lo)) - np.log((hi - lo) * (mode - lo))
        right = np.log(2 * (hi - x)) - np.log((hi - lo) * (hi - mode))
    out = np.where(x < mode, left, right)
    return np.where((x < lo) | (x > hi), -np.inf, out)
