"""Leads a week per channel and the team's size, over the whole weeks an export covers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from funnelsim.calibrate.estimates import Arrivals, Estimate, PatternTest
from funnelsim.calibrate.survival import DAY_STARTS_HOURS, bootstrap, percentile_interval

WEEK = pd.Timedelta(days=7)


def full_weeks(first: pd.Timestamp, as_of: pd.Timestamp, hours_per_day: float, days_per_week: int):
    """(Monday of the first whole week, number of whole weeks) between the first lead and `as_of`.

    A week counts when the export covers all its working hours: the first lead's week only if
    that lead came on the week's first working day, the last only if it ends before `as_of`.
    Partial weeks would bias the rate down.
    """
    monday = first.normalize() - pd.Timedelta(days=first.weekday())
    start = monday if first.weekday() == 0 else monday + WEEK
    last_work = pd.Timedelta(days=days_per_week - 1, hours=DAY_STARTS_HOURS + hours_per_day)
    weeks = 0
    while start + weeks * WEEK + last_work <= as_of:
        weeks += 1
    return start, weeks


def weekly_counts(times: pd.Series, start: pd.Timestamp, weeks: int) -> np.ndarray:
    k = ((times - start) // WEEK).to_numpy(dtype=float)
    k = k[(k >= 0) & (k < weeks)].astype(int)
    return np.bincount(k, minlength=weeks)


def rate_estimate(counts: np.ndarray) -> tuple[float, float, float]:
    """Mean weekly count with a t interval on the weekly counts (honest when they are overdispersed)."""
    w = len(counts)
    mean = float(counts.mean())
    if w < 2:
        lo = stats.chi2.ppf(0.025, 2 * counts.sum()) / 2 if counts.sum() else 0.0
        return mean, float(lo), float(stats.chi2.ppf(0.975, 2 * counts.sum() + 2) / 2)
    half = stats.t.ppf(0.975, w - 1) * counts.std(ddof=1) / np.sqrt(w)
    return mean, max(mean - half, 0.0), mean + half


def trend_test(counts: np.ndarray) -> PatternTest:
    """Quasi-Poisson regression of weekly counts on the week: Wald t test of the slope."""
    w = len(counts)
    x = np.arange(w) - (w - 1) / 2
    X = np.column_stack([np.ones(w), x])
    beta = np.array([np.log(max(counts.mean(), 1e-9)), 0.0])
    for _ in range(50):
        mu = np.exp(X @ beta)
        step = np.linalg.solve(X.T @ (mu[:, None] * X), X.T @ (counts - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = np.exp(X @ beta)
    phi = max(float(((counts - mu) ** 2 / mu).sum() / (w - 2)), 1e-12)
    se = np.sqrt(phi * np.linalg.inv(X.T @ (mu[:, None] * X))[1, 1])
    t = float(beta[1] / se)
    p = float(2 * stats.t.sf(abs(t), w - 2))
    change = float(np.expm1(beta[1] * 52))
    return PatternTest(
        "trend", p < 0.05, p, t, f"quasi-Poisson regression on the week: {change:+.1%} a year (t statistic)"
    )


def weekday_test(times: pd.Series, start: pd.Timestamp, weeks: int) -> PatternTest:
    """Kruskal-Wallis test that daily counts differ by weekday (days off excluded when empty)."""
    day = ((times - start) // pd.Timedelta(days=1)).to_numpy(dtype=float)
    day = day[(day >= 0) & (day < 7 * weeks)].astype(int)
    daily = np.bincount(day, minlength=7 * weeks).reshape(weeks, 7)
    used = [d for d in range(7) if daily[:, d].sum() > 0]
    if len(used) < 2:
        return PatternTest("weekday", False, 1.0, 0.0, "all leads on one weekday")
    h, p = stats.kruskal(*(daily[:, d] for d in used))
    return PatternTest("weekday", bool(p < 0.05), float(p), float(h), "Kruskal-Wallis on daily counts by weekday")


def season_test(counts: np.ndarray, start: pd.Timestamp) -> PatternTest:
    """Kruskal-Wallis test that weekly counts differ by month of the year (needs two years)."""
    months = (start + np.arange(len(counts)) * WEEK).month
    groups = [counts[months == m] for m in range(1, 13) if (months == m).sum() > 1]
    h, p = stats.kruskal(*groups)
    return PatternTest("season", bool(p < 0.05), float(p), float(h), "Kruskal-Wallis on weekly counts by month")


def channel_arrivals(crm, hours_per_day: float, days_per_week: int) -> tuple[dict[str, Arrivals], list[str]]:
    leads = crm.leads
    too_few: list[str] = []
    if leads.empty:
        return {}, ["no leads: arrivals kept at the defaults"]
    start, weeks = full_weeks(leads["created"].min(), crm.as_of, hours_per_day, days_per_week)
    if weeks < 1:
        return {}, ["the export covers no whole week: arrivals kept at the defaults"]
    if weeks < 8:
        too_few.append(f"{weeks} whole weeks: trend not tested (needs 8)")
    if weeks < 104:
        too_few.append(f"{weeks} whole weeks: yearly seasonality not tested (needs 104)")
    out = {}
    for channel, rows in leads.groupby("channel", sort=True, observed=True):
        counts = weekly_counts(rows["created"], start, weeks)
        mean, lo, hi = rate_estimate(counts)
        tests = {}
        if weeks >= 8:
            tests["trend"] = trend_test(counts)
        if weeks >= 3:
            tests["weekday"] = weekday_test(rows["created"], start, weeks)
        if weeks >= 104:
            tests["season"] = season_test(counts, start)
        how = f"mean of {weeks} whole weekly counts from {start.date()}, t interval"
        out[str(channel)] = Arrivals(Estimate(mean, lo, hi, int(counts.sum()), ("leads",), how), weeks, tests)
    return out, too_few


def team(crm, hours_per_day: float, days_per_week: int, replicates: int, rng) -> tuple[dict, list, list[str]]:
    """Reps active a week, and activities per rep per week in which the rep was active."""
    too_few: list[str] = []
    first = crm.leads["created"].min() if not crm.leads.empty else crm.opportunities["created"].min()
    start = first.normalize() - pd.Timedelta(days=first.weekday())
    weeks = max(int((crm.as_of - start) // WEEK) + 1, 1)
    begins = pd.date_range(start, periods=weeks, freq="7D")
    acts = crm.activities
    out: dict[str, Estimate] = {}
    if crm.reps is not None and not crm.reps.empty:
        r = crm.reps
        s = _times(r["start"], np.datetime64("1678-01-01", "ns")) if "start" in r else None
        e = _times(r["end"], np.datetime64("2262-01-01", "ns")) if "end" in r else None
        active = np.ones((len(r), weeks), dtype=bool)
        if s is not None:
            active &= s < (begins + WEEK).to_numpy()[None, :]
        if e is not None:
            active &= e >= begins.to_numpy()[None, :]
        per_week, source, how = active.sum(axis=0), ("reps",), "reps employed each week (start/end)"
    elif acts is not None and not acts.empty:
        k = ((acts["time"] - start) // WEEK).to_numpy()
        per_week = pd.Series(acts["rep_id"].to_numpy()).groupby(k).nunique().reindex(range(weeks), fill_value=0)
        per_week, source, how = per_week.to_numpy(), ("activities",), "distinct reps logging an activity each week"
    else:
        owners = crm.leads.dropna(subset=["owner"])
        k = ((owners["created"] - start) // WEEK).to_numpy()
        per_week = pd.Series(owners["owner"].to_numpy()).groupby(k).nunique().reindex(range(weeks), fill_value=0)
        per_week, source, how = per_week.to_numpy(), ("leads",), "distinct owners of the week's new leads"
        too_few.append("no reps or activities table: team size from lead owners, a lower bound")
    series = [(str(b.date()), int(n)) for b, n in zip(begins, per_week, strict=True)]
    if len(per_week):
        lo, hi = np.quantile(per_week, [0.025, 0.975])
        out["reps_per_week"] = Estimate(
            float(np.mean(per_week)), float(lo), float(hi), int(np.sum(per_week)), source,
            f"{how}; low/high: spread over the weeks, not uncertainty",
        )  # fmt: skip
    if acts is None or acts.empty:
        too_few.append("no activities table: selling capacity per rep kept at the default")
        return out, series, too_few
    week = ((acts["time"] - start) // WEEK).to_numpy()
    per_rep = pd.DataFrame({"rep": acts["rep_id"].to_numpy(), "week": week}).groupby("rep")
    n_acts = per_rep.size().to_numpy(dtype=float)
    n_weeks = per_rep["week"].nunique().to_numpy(dtype=float)
    value = n_acts.sum() / n_weeks.sum()
    draws = bootstrap(len(n_acts), replicates, rng, lambda w: (w @ n_acts) / (w @ n_weeks))
    lo, hi = percentile_interval(value, draws.ravel())
    hours = hours_per_day * days_per_week
    out["activities_per_rep_week"] = Estimate(
        float(value), lo, hi, len(acts), ("activities",),
        f"activities per rep per week with any activity ({hours:g} working hours); bootstrap over reps",
    )  # fmt: skip
    too_few.append("activity durations unknown: selling hours per rep not estimated, only activity counts")
    return out, series, too_few


def _times(column: pd.Series, missing: np.datetime64) -> np.ndarray:
    """A column of times as a (n, 1) nanosecond array, `missing` where there is none."""
    t = column.to_numpy(dtype="datetime64[ns]")
    return np.where(np.isnat(t), missing, t)[:, None]
