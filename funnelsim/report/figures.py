"""Figures of a run: revenue and cost over time, the funnel by stage, rep utilisation.

Sized and lettered to be read on a slide: large fonts, few colours, units on every axis.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend; elsewhere no display is needed
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from funnelsim.report.tables import fmt  # noqa: E402
from funnelsim.results.kpis import WON_BY_A_REP, funnel_label  # noqa: E402

STYLE = {
    "font.size": 14,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
}
UTILISATION_BINS = np.linspace(0, 100, 21)  # 5% wide; the last, [95, 100], includes 100
PALETTE = ["#1f5fa8", "#d9730d", "#2a9d4b", "#9b3bb0", "#c23b3b", "#5f6b7a"]


def money(x: float, _pos=None) -> str:
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"${x / div:,.1f}{unit}"
    return f"${x:,.0f}"


def band(ax, x, runs: np.ndarray, color: str, label: str) -> None:
    """Mean line, with a 95% band across replications when there are several."""
    mean = runs.mean(axis=0)
    ax.plot(x, mean, color=color, lw=2.5, label=label)
    if runs.shape[0] > 1:
        lo, hi = np.percentile(runs, [2.5, 97.5], axis=0)
        ax.fill_between(x, lo, hi, color=color, alpha=0.18, lw=0)


def revenue_cost_figure(ts: pd.DataFrame, title: str, days_per_week: int = 5):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        for column, color, label in (("revenue", PALETTE[0], "Revenue"), ("cost", PALETTE[1], "Cost")):
            wide = ts.pivot(index="day", columns="run", values=column)
            band(ax, wide.index.to_numpy() / days_per_week, wide.to_numpy().T, color, label)
        ax.yaxis.set_major_formatter(FuncFormatter(money))
        ax.set_xlabel("Week")
        ax.set_ylabel("Cumulative amount ($)")
        ax.set_title(f"{title}: revenue and cost over time")
        ax.legend(frameon=False, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        return fig


def won_note(by_rep: float, kpis: pd.DataFrame, number: Callable[[str, float], str] = fmt, after: str = "") -> str:
    """The funnel's last bar against the KPI table (whose `number` format it takes): deals won =
    won by a rep (then `after`) + won by email alone."""
    email, won = kpis["deals_won_by_email"].mean(), kpis["deals_won"].mean()
    by_email = number("deals_won_by_email", email)
    return f"{number('deals_won', by_rep)}{after} + {by_email} by email alone = {number('deals_won', won)} deals won"


def funnel_figure(funnel: pd.DataFrame, kpis: pd.DataFrame, title: str):
    """Mean leads reaching each step, with the step-to-step conversion written on each bar."""
    mean = funnel.mean(axis=0)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        y = np.arange(len(mean))[::-1]
        ax.barh(y, mean.to_numpy(), color=PALETTE[0], alpha=0.85)
        ax.set_yticks(y, [funnel_label(str(s)) for s in mean.index])
        top = float(mean.max()) or 1.0
        for i, (yy, v) in enumerate(zip(y, mean.to_numpy(), strict=True)):
            share = f"  ({v / mean.iloc[i - 1]:.0%} of previous)" if i > 0 and mean.iloc[i - 1] > 0 else ""
            note = won_note(v, kpis, after=share) if mean.index[i] == WON_BY_A_REP else f"{v:,.0f}{share}"
            ax.text(v + top * 0.01, yy, note, va="center", fontsize=12)
        ax.set_xlim(0, top * 1.45)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.set_xlabel("Leads (mean per run)")
        ax.set_title(f"{title}: funnel by stage")
        return fig


def utilisation_percent(reps: pd.DataFrame) -> np.ndarray:
    """Per-rep utilisation in percent, rounding errors past 100% taken back so no rep falls off
    the last bin."""
    return np.clip(reps["utilization"].dropna().to_numpy() * 100, 0, 100)


def utilization_figure(reps: pd.DataFrame, title: str):
    """Per-rep share of selling hours used; hours used never exceed hours available, so the last
    bin ends at 100% (and holds the reps at exactly 100%)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        util = utilisation_percent(reps)
        ax.hist(util, bins=UTILISATION_BINS, color=PALETTE[2], alpha=0.85, edgecolor="white")
        ax.axvline(np.nanmean(util), color="#333", lw=2, ls="--", label=f"mean {np.nanmean(util):.0f}%")
        ax.set_xlim(0, 100)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Share of selling hours used (%)")
        ax.set_ylabel("Reps")
        ax.set_title(f"{title}: rep utilisation")
        ax.legend(frameon=False, loc="upper left")
        return fig


def run_figures(result, title: str) -> dict[str, plt.Figure]:
    """The run's figures by file name: revenue and cost, funnel, utilisation, headcount (and the
    ramp when anyone was hired)."""
    days = result.scenario.calendar.days_per_week
    figures = {
        "revenue_cost.png": revenue_cost_figure(result.timeseries, title, days),
        "funnel.png": funnel_figure(result.funnel, result.kpis, title),
        "rep_utilization.png": utilization_figure(result.reps, title),
        "headcount.png": headcount_figure(result.timeseries, title, days),
    }
    weekly = result.rep_weekly
    if (weekly["cohort"] >= 0).any():
        figures["ramp.png"] = ramp_figure({title: weekly}, title)
    return figures


def save_run_figures(result, out: Path, title: str) -> list[Path]:
    """Write the run's PNG figures into `out` and return their paths."""
    figures = run_figures(result, title)
    paths = []
    for name, fig in figures.items():
        path = out / name
        fig.savefig(path, dpi=STYLE["savefig.dpi"], bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


def ramp_curves(weekly: pd.DataFrame, days_per_week: int = 5) -> tuple[pd.Series, float]:
    """New hires' deals per rep per month by tenure month, and the veterans' level."""
    df = weekly.sort_values(["run", "rep_id", "week"]) if "run" in weekly else weekly.sort_values(["rep_id", "week"])
    keys = ["run", "rep_id"] if "run" in df else ["rep_id"]
    df = df.assign(deals=df.groupby(keys)["deals_won"].diff().fillna(df["deals_won"]))
    weeks_per_month = 52 / 12
    hires = df[(df["cohort"] >= 0) & (df["week"] > df["cohort"])]
    month = (hires["tenure_months"] - 1e-9).clip(lower=0).astype(int) + 1
    grouped = hires.groupby(month)["deals"]
    counts = grouped.size()
    # months seen by only a handful of rep-weeks (the last, partial ones) are noise
    keep = counts[counts >= max(20, 0.1 * counts.max())].index
    curve = grouped.mean().loc[keep] * weeks_per_month
    veterans = df[df["cohort"] < 0]["deals"].mean() * weeks_per_month
    return curve, float(veterans)


def ramp_figure(curves: dict[str, pd.DataFrame], title: str):
    """Deals per new hire per month by tenure month, one line per strategy; veterans dashed."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        vet_levels = []
        for i, (label, weekly) in enumerate(curves.items()):
            curve, veterans = ramp_curves(weekly)
            vet_levels.append(veterans)
            ax.plot(curve.index, curve.to_numpy(), marker="o", lw=2.5, color=PALETTE[i % len(PALETTE)], label=label)
        if vet_levels and not np.isnan(np.nanmean(vet_levels)):
            ax.axhline(np.nanmean(vet_levels), color="#555", ls="--", lw=1.8, label="veterans")
        ax.set_xlabel("Tenure (months since hire)")
        ax.set_ylabel("Deals won per rep per month")
        ax.set_title(f"{title}: new hires' ramp-up")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="lower right")
        ax.grid(axis="y", alpha=0.3)
        return fig


def headcount_figure(ts: pd.DataFrame, title: str, days_per_week: int = 5):
    """Reps on the team, with cumulative hires and leavers, over the weeks."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 5.5))
        for column, color, label in (
            ("headcount", PALETTE[0], "Reps on the team"),
            ("hires", PALETTE[2], "Hires (cumulative)"),
            ("leavers", PALETTE[4], "Leavers (cumulative)"),
        ):
            wide = ts.pivot(index="day", columns="run", values=column)
            band(ax, wide.index.to_numpy() / days_per_week, wide.to_numpy().T, color, label)
        ax.set_xlabel("Week")
        ax.set_ylabel("Reps")
        ax.set_title(f"{title}: headcount and attrition")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
        ax.grid(axis="y", alpha=0.3)
        return fig
