"""Figures of a comparison: one colour per strategy, the same in every figure.

Revenue over time with 95% CI bands, the funnel side by side, rep utilisation and response-time
distributions, a forest plot of KPI differences, and profit against team size (the crossover).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.experiment.statistics import mean_ci
from funnelsim.report.compare_report import HEADLINE_KPIS, short, signed
from funnelsim.report.figures import PALETTE, STYLE, UTILISATION_BINS, money, plt, utilisation_percent, won_note
from funnelsim.results.kpis import WON_BY_A_REP, funnel_label
from funnelsim.results.registry import Unit, label_of, unit_of

FuncFormatter = plt.matplotlib.ticker.FuncFormatter
PercentFormatter = plt.matplotlib.ticker.PercentFormatter
WIDE = (11, 6)


def money_axis(x: float, _pos=None) -> str:
    """Axis money with the sign in front: -$2.5M, $0, $7.5M."""
    return ("-" if x < 0 else "") + money(abs(x))


def save(fig, path: Path) -> None:
    """PNG at slide resolution, trimmed to its content (labels included)."""
    fig.savefig(path, dpi=STYLE["savefig.dpi"], bbox_inches="tight")
    plt.close(fig)


def strategy_colors(names) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def revenue_figure(cmp, colors):
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=WIDE)
        for name, res in cmp.results.items():
            days = res.scenario.calendar.days_per_week
            runs = np.vstack([r.daily["revenue"].to_numpy() for r in res.runs])
            weeks = res.runs[0].daily["day"].to_numpy() / days
            mean, lo, hi = mean_ci(runs, axis=0)
            ax.plot(weeks, mean, color=colors[name], lw=2.8, label=name)
            ax.fill_between(weeks, lo, hi, color=colors[name], alpha=0.25, lw=0)
        ax.yaxis.set_major_formatter(FuncFormatter(money_axis))
        ax.set_xlabel("Week")
        ax.set_ylabel("Cumulative revenue ($)")
        ax.set_title("Revenue over time (mean of replications, 95% CI band)")
        ax.set_xlim(0, None)
        ax.set_ylim(0, None)
        ax.legend(frameon=False, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        return fig


def funnel_figure(cmp, colors):
    """Mean leads reaching each step, one bar per strategy at each step."""
    means = {name: res.funnel.mean(axis=0) for name, res in cmp.results.items()}
    steps: list[str] = []
    for m in means.values():
        steps += [s for s in m.index if s not in steps]
    k = len(means)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(11, 1.5 + 0.4 * k * len(steps)))
        height = 0.8 / k
        y0 = np.arange(len(steps))[::-1].astype(float)
        top = max(float(m.max()) for m in means.values()) or 1.0
        for j, (name, m) in enumerate(means.items()):
            values = np.array([m.get(s, np.nan) for s in steps], dtype=float)
            y = y0 + 0.4 - height * (j + 0.5)
            ax.barh(y, values, height=height * 0.92, color=colors[name], label=name)
            for step, yy, v in zip(steps, y, values, strict=True):
                if not math.isnan(v):
                    note = won_note(v, cmp.results[name].kpis, short) if step == WON_BY_A_REP else f"{v:,.0f}"
                    ax.text(v + top * 0.008, yy, note, va="center", fontsize=11)
        ax.set_yticks(y0, [funnel_label(s) for s in steps])
        ax.set_xlim(0, top * 1.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.set_xlabel("Leads (mean per replication)")
        ax.set_title("Funnel by stage")
        ax.legend(frameon=False, loc="lower right")
        return fig


def utilization_figure(cmp, colors):
    """Per-rep share of selling hours used, pooled over replications, as a share of each team's reps."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=WIDE)
        low = 100.0
        for name, res in cmp.results.items():
            util = utilisation_percent(res.reps)
            if len(util) == 0:
                continue
            low = min(low, max(0.0, 10 * math.floor(util.min() / 10) - 10))
            weights = np.full(len(util), 100.0 / len(util))
            ax.hist(util, bins=UTILISATION_BINS, weights=weights, color=colors[name], alpha=0.22)
            ax.hist(
                util, bins=UTILISATION_BINS, weights=weights, color=colors[name], histtype="step", lw=2.5, label=name
            )
            ax.axvline(util.mean(), color=colors[name], lw=2, ls="--")
        ax.set_xlim(low, 100)
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel("Share of a rep's selling hours used (dashed: mean)")
        ax.set_ylabel("Share of reps")
        ax.set_title("Rep utilisation")
        ax.legend(frameon=False, loc="upper left")
        return fig


HOUR_TICKS = [
    (1 / 60, "1 min"),
    (5 / 60, "5 min"),
    (1, "1 h"),
    (8, "8 h"),
    (24, "1 day"),
    (168, "1 week"),
    (720, "1 month"),
]


def response_figure(cmp, colors):
    """Share of leads sent to sales that a rep had tried within x hours; leads never tried keep it below 100%."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=WIDE)
        right = 24.0
        for name, res in cmp.results.items():
            hours = np.sort(np.concatenate([r.response_hours for r in res.runs]).astype(float))
            sent = float(sum(r.funnel.get("sent to sales", 0) for r in res.runs))
            if len(hours) == 0 or sent == 0:
                continue
            hours = np.maximum(hours, 1 / 60)
            idx = np.unique(np.linspace(0, len(hours) - 1, 800).astype(int))
            share = (idx + 1) / sent * 100
            ax.step(hours[idx], share, where="post", color=colors[name], lw=2.8, label=name)
            right = max(right, float(hours[-1]))
        ax.set_xscale("log")
        ticks = [(h, t) for h, t in HOUR_TICKS if h <= right * 1.5]
        ax.set_xticks([h for h, _ in ticks], [t for _, t in ticks])
        ax.minorticks_off()
        ax.set_xlim(1 / 60, right * 1.2)
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        for h in (1, 24):
            ax.axvline(h, color="#888", lw=1, ls=":")
        ax.set_xlabel("Time from reaching sales to a rep's first attempt (calendar time, log scale)")
        ax.set_ylabel("Leads sent to sales already tried")
        ax.set_title("Speed to lead")
        ax.legend(frameon=False, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        return fig


def forest_figure(cmp, colors, kpis=HEADLINE_KPIS, clip: float = 150.0):
    """Each strategy's difference from the baseline, as % of the baseline mean, with its 95% CI.

    Points beyond +-`clip`% are drawn as arrows at the edge; the text on the right gives every
    difference in its own units.
    """
    others = cmp.names[1:]
    rows = [k for k in kpis if any(not math.isnan(cmp.difference(n, k).relative) for n in others)]
    per_row = max(1, len(others))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(12, 1.6 + 0.34 * len(rows) * (per_row + 0.6)))
        step = 0.7 / per_row
        for j, name in enumerate(others):
            for i, k in enumerate(rows):
                d = cmp.difference(name, k)
                y = len(rows) - 1 - i + 0.35 - step * (j + 0.5)
                if math.isnan(d.relative):
                    continue
                scale = 100 / abs(d.baseline_mean)
                x, lo, hi = (float(np.clip(v * scale, -clip, clip)) for v in (d.mean_diff, *d.ci95))
                ax.plot([lo, hi], [y, y], color=colors[name], lw=2.5, solid_capstyle="butt")
                face = colors[name] if d.significant else "white"
                shape = ">" if x >= clip else "<" if x <= -clip else "o"
                ax.plot([x], [y], shape, ms=10, mec=colors[name], mfc=face, mew=2, label=name if i == 0 else None)
                note = signed(k, d.mean_diff) + (" *" if d.significant else "")
                ax.annotate(
                    note,
                    (1.0, y),
                    xycoords=("axes fraction", "data"),
                    xytext=(10, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=12,
                    color=colors[name],
                    annotation_clip=False,
                )
        ax.axvline(0, color="#333", lw=1.2)
        ax.set_yticks(range(len(rows))[::-1], [label_of(k) for k in rows])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-clip * 1.04, clip * 1.04)
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel(f"Difference from {cmp.baseline}, % of its mean (95% CI; arrows: beyond ±{clip:.0f}%)")
        ax.set_title(f"Differences from {cmp.baseline} (filled: significant)", loc="left")
        if len(others) > 1:
            ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.04), ncol=len(others))
        ax.grid(axis="x", alpha=0.3)
        return fig


FIGURES = (
    ("revenue_over_time.png", revenue_figure, "Cumulative revenue per strategy; bands: 95% CI of the mean."),
    (
        "funnel.png",
        funnel_figure,
        "Leads reaching each step of the funnel (mean per replication); the last bar, deals a rep closed, "
        "adds the deals email closed alone to give the tables' deals won.",
    ),
    ("rep_utilization.png", utilization_figure, "Distribution of per-rep utilisation over all replications."),
    ("response_time.png", response_figure, "Speed to lead: share of leads sent to sales tried within a given time."),
    ("differences.png", forest_figure, "KPI differences from the baseline with 95% bootstrap CIs."),
)


def comparison_figures(cmp) -> dict[str, plt.Figure]:
    """The comparison's figures by file name, one colour per strategy throughout."""
    colors = strategy_colors(cmp.names)
    return {file: draw(cmp, colors) for file, draw, _ in FIGURES}


def save_comparison_figures(cmp, out: Path) -> list[tuple[str, str]]:
    """Write the comparison's PNGs into `out`; return (file name, caption) pairs."""
    for file, fig in comparison_figures(cmp).items():
        save(fig, Path(out) / file)
    written = [(file, caption) for file, _, caption in FIGURES]
    if cmp.robustness is not None:
        from funnelsim.report.robustness_report import CAPTION, robustness_figure

        save(robustness_figure(cmp, cmp.robustness), Path(out) / "robustness.png")
        written.append(("robustness.png", CAPTION))
    return written


# -- the crossover ------------------------------------------------------------------------------
def crossover_figure(sweep: pd.DataFrame, kpi: str, names: list[str], crossings: dict[str, list[float]]):
    """Every strategy's `kpi` against team size (top) and its paired difference from the baseline (bottom)."""
    colors = strategy_colors(names)
    label = label_of(kpi)
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 9.5), sharex=True, height_ratios=[3, 2])
        for name in names:
            part = sweep[sweep["strategy"] == name].sort_values("reps")
            top.plot(part["reps"], part["mean"], "o-", color=colors[name], lw=2.8, ms=7, label=name)
            top.fill_between(part["reps"], part["ci95_low"], part["ci95_high"], color=colors[name], alpha=0.2, lw=0)
        bottom.axhline(0, color="#333", lw=1.2)
        for name in names[1:]:
            diff = sweep[sweep["strategy"] == name].sort_values("reps")
            bottom.plot(
                diff["reps"], diff["diff"], "o-", color=colors[name], lw=2.8, ms=7, label=f"{name} - {names[0]}"
            )
            bottom.fill_between(diff["reps"], diff["diff_low"], diff["diff_high"], color=colors[name], alpha=0.2, lw=0)
            for x in crossings.get(name, []):
                for ax in (top, bottom):
                    ax.axvline(x, color=colors[name], ls="--", lw=1.5)
        if unit_of(kpi) is Unit.MONEY:
            for ax in (top, bottom):
                ax.yaxis.set_major_formatter(FuncFormatter(money_axis))
        top.set_ylabel(label)
        top.set_title(f"{label} against team size (mean, 95% CI)")
        top.legend(frameon=False, loc="upper left")
        top.grid(alpha=0.3)
        bottom.set_ylabel(f"Difference ({label.split(' (')[-1].rstrip(')')})" if "(" in label else "Difference")
        bottom.set_xlabel("Reps on the team")
        flips = sorted(x for xs in crossings.values() for x in xs)
        where = " and ".join(f"{x:.0f}" for x in flips)
        note = f": the order flips near {where} reps (dashed)" if flips else ": no flip in this range"
        bottom.set_title(f"Paired difference from {names[0]} (95% CI){note}", fontsize=15)
        if len(names) > 2:
            bottom.legend(frameon=False, loc="lower left")
        else:
            _ahead_labels(bottom, sweep[sweep["strategy"] == names[1]].sort_values("reps"), names, colors)
        bottom.grid(alpha=0.3)
        return fig


def _ahead_labels(ax, diff: pd.DataFrame, names: list[str], colors: dict[str, str]) -> None:
    """'B ahead' above zero and 'A ahead' below, each in the corner the curve leaves free."""
    d = diff["diff"].to_numpy()
    third = max(1, len(d) // 3)
    left, right = d[:third].mean(), d[-third:].mean()
    spots = (
        (0.96, "top", names[1], right <= left),  # above zero: the side where the curve is lower
        (0.04, "bottom", names[0], right > left),  # below zero: the side where the curve is higher
    )
    for y, va, who, on_right in spots:
        x, ha = (0.99, "right") if on_right else (0.01, "left")
        ax.text(
            x,
            y,
            f"{who} ahead",
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=14,
            color=colors[who],
            fontweight="bold",
        )
