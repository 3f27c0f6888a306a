"""The dashboard's figures, drawn from snapshots: one strategy, or two overlaid.

Made to be read from the back of a room: large type, units on every axis, one colour per strategy
(blue, then orange) and line styles for what is measured. Titles and the one-line explanations are
written by the page above each figure, in page type, so the figures keep their space for data.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from matplotlib.transforms import Bbox

from funnelsim.dashboard.snapshot import Snapshot
from funnelsim.report.figures import PALETTE, STYLE
from funnelsim.report.figures import money as _money

STRATEGY_COLOURS = (PALETTE[0], PALETTE[1])
GROUP_STYLES = ("-", ":", "-.")
MUTED = "#555555"
DASHBOARD_STYLE = {
    **{k: v for k, v in STYLE.items() if not k.startswith("savefig.")},
    "font.size": 15,
    "axes.labelsize": 16,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "axes.titlesize": 16,
    "svg.fonttype": "none",
    "svg.hashsalt": "funnelsim",
}
FIGSIZE = (7.4, 4.1)


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the dashboard: what the page writes above it and how it is drawn."""

    key: str
    title: str
    caption: str
    draw: Callable[[Axes, list[Snapshot]], None]


def money(x: float, _pos=None) -> str:
    return "-" + _money(-x) if x < 0 else _money(x)


def colour(i: int) -> str:
    return STRATEGY_COLOURS[i % len(STRATEGY_COLOURS)]


def _weeks_axis(ax: Axes, snaps: list[Snapshot]) -> None:
    ax.set_xlim(0, max(s.weeks_total for s in snaps))
    ax.set_xlabel("Week")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.grid(axis="y", alpha=0.3)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=15, color=MUTED, wrap=True)


def _headroom(ax: Axes, snaps: list[Snapshot], keys: tuple[str, ...]) -> None:
    """Room above the lines for the legend, which sits top left."""
    top = max([float(s.series[k].max()) for s in snaps for k in keys if len(s.series[k])] + [0.0])
    ax.set_ylim(0, top * 1.4 if top > 0 else 10)


def _weeks(s: Snapshot) -> np.ndarray:
    return s.series["day"] / s.days_per_week


# -- the figures --------------------------------------------------------------------------------
def draw_funnel(ax: Axes, snaps: list[Snapshot]) -> None:
    names = [name for name, _ in snaps[0].funnel]
    y = np.arange(len(names))[::-1].astype(float)
    height = 0.8 / len(snaps)
    top = max(10, *(v for s in snaps for _, v in s.funnel))
    for i, s in enumerate(snaps):
        values = np.array([v for _, v in s.funnel], dtype=float)
        offset = (len(snaps) - 1) / 2 * height - i * height
        ax.barh(y + offset, values, height=height * 0.92, color=colour(i), label=s.name)
        for k, (yy, v) in enumerate(zip(y + offset, values, strict=True)):
            note = f"{v:,.0f}"
            if len(snaps) == 1 and k > 0 and values[k - 1] > 0:
                note += f"  ({v / values[k - 1]:.0%})"
            ax.text(v + top * 0.01, yy, note, va="center", fontsize=13 if len(snaps) > 1 else 14)
    ax.set_yticks(y, names)
    ax.set_xlim(0, top * 1.4)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_xlabel("Leads so far")
    if len(snaps) > 1:
        ax.legend(frameon=False, loc="lower right")


def draw_money(ax: Axes, snaps: list[Snapshot]) -> None:
    for i, s in enumerate(snaps):
        weeks = _weeks(s)
        for key, style in (("revenue", "-"), ("cost", "--")):
            values = s.series[key]
            ax.plot(weeks, values, ls=style, lw=3, color=colour(i))
            if len(values):
                ax.annotate(
                    money(values[-1]),
                    (weeks[-1], values[-1]),
                    xytext=(6, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=13,
                    color=colour(i),
                    annotation_clip=False,
                )
    _weeks_axis(ax, snaps)
    _headroom(ax, snaps, ("revenue", "cost"))
    ax.yaxis.set_major_formatter(FuncFormatter(money))
    ax.set_ylabel("Cumulative ($)")
    handles = [Line2D([], [], color="#333", lw=3, ls="-"), Line2D([], [], color="#333", lw=3, ls="--")]
    labels = ["Revenue", "Cost"]
    if len(snaps) > 1:
        handles += [Line2D([], [], color=colour(i), lw=6) for i in range(len(snaps))]
        labels += [s.name for s in snaps]
    ax.legend(handles, labels, frameon=False, loc="upper left", ncol=2 if len(snaps) > 1 else 1)


def draw_utilisation(ax: Axes, snaps: list[Snapshot]) -> None:
    if not any(len(s.utilisation) for s in snaps):
        _empty(ax, "Appears after the first day")
    for i, s in enumerate(snaps):
        util = np.clip(s.utilisation, 0, 1.1) * 100
        ranks = np.arange(1, len(util) + 1)
        if len(snaps) == 1:
            ax.bar(ranks, util, width=0.85, color=colour(i))
        elif len(util):
            ax.step(ranks, util, where="mid", lw=3.5, color=colour(i), label=f"{s.name} ({len(util)} reps)")
    ax.axhline(90, color=MUTED, ls="--", lw=1.5)
    ax.text(1.0, 91.5, "90%: work starts to queue", transform=ax.get_yaxis_transform(), ha="right", fontsize=13)
    ax.set_ylim(0, 112)
    ax.set_xlim(0.4, max([len(s.utilisation) for s in snaps] + [1]) + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel("Reps, busiest first")
    ax.set_ylabel("Selling hours used")
    if len(snaps) > 1 and ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, loc="lower left")


def draw_backlog(ax: Axes, snaps: list[Snapshot]) -> None:
    for i, s in enumerate(snaps):
        weeks = _weeks(s)
        ax.plot(weeks, s.series["backlog"], lw=3, color=colour(i))
        ax.plot(weeks, s.series["waiting_first_touch"], lw=3, ls="--", color=colour(i))
    _weeks_axis(ax, snaps)
    _headroom(ax, snaps, ("backlog", "waiting_first_touch"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.set_ylabel("Leads waiting")
    handles = [Line2D([], [], color="#333", lw=3), Line2D([], [], color="#333", lw=3, ls="--")]
    labels = ["In a rep's queue", "Not yet called"]
    if len(snaps) > 1:
        handles += [Line2D([], [], color=colour(i), lw=6) for i in range(len(snaps))]
        labels += [s.name for s in snaps]
    ax.legend(handles, labels, frameon=False, loc="upper left", ncol=2 if len(snaps) > 1 else 1)


RESPONSE_BINS = ((0, 1, "< 1 h"), (1, 4, "1-4 h"), (4, 24, "4-24 h"), (24, 72, "1-3\ndays"), (72, np.inf, "> 3\ndays"))


def response_shares(s: Snapshot) -> tuple[list[str], np.ndarray]:
    """Share of the leads sent to sales by time to first call, then not yet called, then never."""
    hours = s.response_hours
    counts = [np.count_nonzero((hours >= lo) & (hours < hi)) for lo, hi, _ in RESPONSE_BINS]
    counts += [s.waiting_first_touch, s.never_worked]
    labels = [label for _, _, label in RESPONSE_BINS] + ["not yet\ncalled", "never\ncalled"]
    total = sum(counts)
    return labels, np.array(counts, dtype=float) / total * 100 if total else np.zeros(len(counts))


def draw_response(ax: Axes, snaps: list[Snapshot]) -> None:
    width = 0.8 / len(snaps)
    labels: list[str] = []
    for i, s in enumerate(snaps):
        labels, shares = response_shares(s)
        x = np.arange(len(labels)) + (i - (len(snaps) - 1) / 2) * width
        bars = ax.bar(x, shares, width=width * 0.92, color=colour(i), label=s.name)
        bars[-1].set_hatch("//")
        bars[-1].set_edgecolor("white")
        for xx, v in zip(x, shares, strict=True):
            if v >= 0.5:
                ax.text(xx, v + 1, f"{v:.0f}", ha="center", va="bottom", fontsize=12 if len(snaps) > 1 else 13)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_ylim(0, 105)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_ylabel("Leads sent to sales")
    ax.set_xlabel("Time to a rep's first call (calendar time)", labelpad=2)
    ax.grid(axis="y", alpha=0.3)
    if len(snaps) > 1:
        ax.legend(frameon=False, loc="best")


def ramp_placeholder(snaps: list[Snapshot]) -> str:
    """What the ramp figure says when it has no curve to draw: why, from the run itself."""
    hires = max((s.ramp.hires for s in snaps), default=0)
    if hires == 0:
        return "No new hires yet.\nTry the growth-spurt lever."
    who = "1 new hire" if hires == 1 else f"{hires} new hires"
    return f"{who} so far: too few weeks on the job\nfor a monthly rate. Try the growth-spurt lever."


def draw_ramp(ax: Axes, snaps: list[Snapshot]) -> None:
    """One line per group of hires; side by side, each strategy's first group (the growth spurt)."""
    drawn = False
    for i, s in enumerate(snaps):
        curves = list(s.ramp.curves.items())
        if len(snaps) > 1:
            curves = curves[:1]
        for j, (label, curve) in enumerate(curves):
            c = PALETTE[(2 * j) % len(PALETTE)] if len(snaps) == 1 else colour(i)
            name = label if len(snaps) == 1 else f"{s.name}: {label[0].lower()}{label[1:]}"
            ax.plot(curve.index, curve.to_numpy(), marker="o", ms=7, lw=3, color=c, ls=GROUP_STYLES[j % 3], label=name)
            drawn = True
        if not np.isnan(s.ramp.veterans):
            c = MUTED if len(snaps) == 1 else colour(i)
            ax.axhline(s.ramp.veterans, color=c, ls="--", lw=2, label="Veterans" if len(snaps) == 1 else None)
    if not drawn:
        _empty(ax, ramp_placeholder(snaps))
    months = max([int(c.index.max()) for s in snaps for c in s.ramp.curves.values()] + [6])
    ax.set_xlim(0.5, months + 0.5)
    ax.set_xlabel("Months since hire")
    ax.set_ylabel("Deals per rep per month")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    top = max(
        [float(c.max()) for s in snaps for c in s.ramp.curves.values()] + [s.ramp.veterans for s in snaps] + [0.1]
    )
    ax.set_ylim(0, 1.45 * np.nanmax([top, 0.1]))
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, loc="upper left", fontsize=13)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec(
        "funnel",
        "Funnel by stage",
        "Leads that reached each step so far; in brackets, the share of the step above that got through.",
        draw_funnel,
    ),
    FigureSpec(
        "money",
        "Revenue and cost over time",
        "Cumulative since week 0. Revenue lags the leads by the length of the sales cycle; costs start at once.",
        draw_money,
    ),
    FigureSpec(
        "utilisation",
        "Rep workload: utilisation per rep",
        "Share of each rep's selling hours used over the last 4 weeks. Near 100%, new leads queue.",
        draw_utilisation,
    ),
    FigureSpec(
        "backlog",
        "Rep workload: the backlog",
        "Leads waiting for their rep's next call at each day's end; dashed: new leads nobody has called yet.",
        draw_backlog,
    ),
    FigureSpec(
        "response",
        "Speed to lead: response-time distribution",
        "Called within the hour, a lead is ~7x likelier to qualify than an hour later (HBR 2011).",
        draw_response,
    ),
    FigureSpec(
        "ramp",
        "New hires' ramp-up, by cohort",
        "Deals each new hire wins per month by months on the job; dashed: the veterans' level.",
        draw_ramp,
    ),
)
BY_KEY = {spec.key: spec for spec in FIGURES}


def make_figure(spec: FigureSpec, snaps: list[Snapshot]) -> Figure:
    """A matplotlib Figure (not pyplot's: safe to draw from the page's worker threads)."""
    with mpl.rc_context(DASHBOARD_STYLE):
        fig = Figure(figsize=FIGSIZE, dpi=100)
        ax = fig.subplots()
        spec.draw(ax, snaps)
        fig.subplots_adjust(left=0.16, right=0.97, top=0.96, bottom=0.19)
        if spec.key == "funnel":
            fig.subplots_adjust(left=0.27, bottom=0.16)
        elif spec.key == "money":
            fig.subplots_adjust(right=0.86)
        elif spec.key == "response":
            fig.subplots_adjust(bottom=0.25)
        return fig


def render(spec: FigureSpec, snaps: list[Snapshot], fmt: str = "svg") -> bytes:
    """The figure as image bytes (SVG scales to any screen; PNG for files and screenshots)."""
    fig = make_figure(spec, snaps)
    buf = io.BytesIO()
    with mpl.rc_context(DASHBOARD_STYLE):
        # the whole canvas, always: a frame the same size as the last one does not jump
        fig.savefig(buf, format=fmt, bbox_inches=Bbox.from_bounds(0, 0, *fig.get_size_inches()))
    return buf.getvalue()


def draw_all(snaps: list[Snapshot]) -> dict[str, bytes]:
    """Every figure of the page as SVG, by key: what a frame shows."""
    return {spec.key: render(spec, snaps, "svg") for spec in FIGURES}
