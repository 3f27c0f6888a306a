"""Main effects and two-parameter tables: the mean of a KPI at each level of the parameters."""

from __future__ import annotations

import pandas as pd

from funnelsim.experiment.statistics import mean_ci

MAX_LEVELS = 10  # main effects: more distinct values than this are binned (into 8)
HEATMAP_LEVELS = 6  # heatmaps: more than this are binned (into 5), so cells of a random design fill


def levels(series: pd.Series, max_levels: int = MAX_LEVELS, bins: int = 8) -> pd.Series:
    """The value itself when there are few levels; otherwise the median of its quantile bin."""
    if series.nunique() <= max_levels or not pd.api.types.is_numeric_dtype(series) or series.dtype == bool:
        return series
    codes = pd.qcut(series, q=bins, labels=False, duplicates="drop")
    return series.groupby(codes).transform("median").astype(float)


def main_effects(ok: pd.DataFrame, params: list[str], kpi: str) -> pd.DataFrame:
    """Mean KPI (and 95% CI of that mean) at each level of each parameter, over all other runs."""
    rows = []
    for p in params:
        for level, group in ok.groupby(levels(ok[p]), sort=True, observed=True):
            mean, low, high = mean_ci(group[kpi])
            rows.append(
                {
                    "kpi": kpi,
                    "parameter": p,
                    "level": level,
                    "mean": mean,
                    "ci95_low": low,
                    "ci95_high": high,
                    "runs": len(group),
                }
            )
    return pd.DataFrame(rows)


def heatmap_table(ok: pd.DataFrame, x: str, y: str, kpi: str) -> pd.DataFrame:
    frame = pd.DataFrame({"x": levels(ok[x], HEATMAP_LEVELS, 5), "y": levels(ok[y], HEATMAP_LEVELS, 5), "v": ok[kpi]})
    return frame.pivot_table(index="y", columns="x", values="v", aggfunc="mean", observed=True)
