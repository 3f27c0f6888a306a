"""The page's parts: lever controls, run controls, the KPI strip and the figure cards.

Each part gets plain values and callbacks; the state lives in `app.Workbench`. Type is large and
controls are few, for a room watching a projector.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import solara
from reacton import ipyvue
from reacton import ipyvuetify as rv

from funnelsim.dashboard.figures import FigureSpec, colour
from funnelsim.dashboard.levers import GROUPS, LEVERS, Lever, lever_max
from funnelsim.dashboard.snapshot import Snapshot
from funnelsim.report.figures import money
from funnelsim.results.registry import KPI, Unit, short_label
from funnelsim.scenario.schema import Scenario

CSS = """
.funnelsim { font-size: 18px; line-height: 1.35; }
.funnelsim h1 { font-size: 30px; margin: 0 0 4px 0; font-weight: 700; }
.funnelsim h2 { font-size: 22px; margin: 0; font-weight: 700; }
.funnelsim .fs-controls { width: 390px; min-width: 390px; padding: 12px 16px; background: #f4f6f9;
  height: 100vh; overflow-y: auto; position: sticky; top: 0; }
.funnelsim .fs-main { flex: 1; min-width: 0; padding: 12px 20px; }
.funnelsim .fs-group { font-size: 19px; font-weight: 700; margin: 14px 0 2px 0; color: #1f5fa8; }
.funnelsim .fs-help { font-size: 14px; color: #555; margin: 0 0 8px 0; }
.funnelsim .fs-lever-label { font-size: 16px; margin-top: 6px; }
.funnelsim .fs-lever-label b { color: #000; }
.funnelsim .fs-moved { color: #d9730d; font-weight: 700; }
.funnelsim .v-label, .funnelsim .v-select__selection, .funnelsim .v-btn { font-size: 16px !important; }
.funnelsim .v-btn { letter-spacing: 0; text-transform: none; }
.funnelsim .fs-clock { font-size: 26px; font-weight: 700; }
.funnelsim .fs-problem { color: #b00020; background: #fdecea; border-left: 4px solid #b00020; padding: 8px 12px;
  margin: 4px 0; font-size: 17px; }
.funnelsim .fs-status { font-size: 16px; color: #555; min-height: 22px; }
.funnelsim .fs-grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; }
.funnelsim .fs-card { background: white; border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 12px; }
.funnelsim .fs-caption { font-size: 16px; color: #444; margin: 2px 0 4px 0; min-height: 42px; }
.funnelsim .fs-figure { width: 100%; height: auto; display: block; }
.funnelsim table.fs-kpis { border-collapse: collapse; margin: 6px 0 12px 0; }
.funnelsim table.fs-kpis th { font-size: 15px; color: #555; font-weight: 600; text-align: right; padding: 2px 14px; }
.funnelsim table.fs-kpis td { font-size: 24px; font-weight: 700; text-align: right; padding: 2px 14px; }
.funnelsim table.fs-kpis td.fs-name { text-align: left; font-size: 19px; }
.funnelsim .fs-error pre { font-size: 16px; white-space: pre-wrap; background: #fff4f4; padding: 12px;
  border-left: 4px solid #c23b3b; }
"""


def speeds(days_per_week: int) -> dict[str, int]:
    """Days advanced by a step (and by each frame while playing)."""
    month = round(days_per_week * 52 / 12)
    return {"1 day": 1, "1 week": days_per_week, "1 month": month, "1 quarter": 3 * month}


# -- levers -------------------------------------------------------------------------------------
@solara.component
def LeverControl(lever: Lever, value: Any, own: Any, top: float, on_change: Callable[[str, Any], None]):
    """One lever: its name and value (orange when moved from the file's), the control, one line of help."""
    moved = value != own
    shown = html.escape(lever.show(value))
    note = f' <span class="fs-moved">(file: {html.escape(lever.show(own))})</span>' if moved else ""
    if lever.kind == "bool":
        solara.Switch(
            label=lever.label, value=bool(value), on_value=lambda x: on_change(lever.key, bool(x)), color="primary"
        )
        if moved:
            solara.HTML(tag="div", unsafe_innerHTML=note, classes=["fs-lever-label"])
    elif lever.kind == "choice":
        labels = [lever.labels.get(c, c) if lever.labels else c for c in lever.choices]
        by_label = dict(zip(labels, lever.choices, strict=True))
        solara.HTML(tag="div", unsafe_innerHTML=f"{html.escape(lever.label)}{note}", classes=["fs-lever-label"])
        solara.Select(
            label="",
            values=labels,
            value=lever.labels.get(value, value) if lever.labels else value,
            on_value=lambda label: on_change(lever.key, by_label[label]),
        )
    else:
        text = f"{html.escape(lever.label)}: <b>{shown}</b>{note}"
        solara.HTML(tag="div", unsafe_innerHTML=text, classes=["fs-lever-label"])
        LeverSlider(lever, value, top, on_change)
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(lever.help), classes=["fs-help"])


@solara.component
def LeverSlider(lever: Lever, value: float, top: float, on_change: Callable[[str, Any], None]):
    """A slider that commits when released, not at every pixel of a drag ("end" in Vuetify 3, "change" in 2)."""

    def commit(_widget, _event, data):
        if data is not None:  # a browser's 12 x 0.05 is 0.6000000000000001
            on_change(lever.key, int(data) if lever.kind == "int" else round(float(data), 6))

    slider = rv.Slider(
        v_model=value,
        min=lever.min,
        max=top,
        step=lever.step,
        thumb_label=True,
        hide_details=True,
        dense=True,
        class_=f"fs-lever-{lever.key}",
    )
    ipyvue.use_event(slider, "end", commit)
    ipyvue.use_event(slider, "change", commit)
    return slider


@solara.component
def LeverPanel(
    values: dict[str, Any],
    own: dict[str, Any],
    scenario: Scenario,
    on_change: Callable,
    on_undo: Callable,
    apply_note: str,
):
    with solara.Row(justify="space-between", style={"align-items": "center"}):
        solara.HTML(tag="h2", unsafe_innerHTML="Levers")
        solara.Button("Undo my changes", on_click=on_undo, disabled=values == own, outlined=True, color="primary")
    if apply_note:
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(apply_note), classes=["fs-help"])
    for group in GROUPS:
        solara.HTML(tag="div", unsafe_innerHTML=group, classes=["fs-group"])
        for lever in LEVERS:
            if lever.group == group:
                LeverControl(lever, values[lever.key], own[lever.key], lever_max(lever, scenario), on_change)


# -- running ------------------------------------------------------------------------------------
@solara.component
def RunControls(
    playing: bool,
    running: bool,
    busy: bool,
    speed: str,
    speed_names: list[str],
    on_play: Callable,
    on_step: Callable,
    on_reset: Callable,
    on_speed: Callable,
):
    with solara.Row(gap="8px"):
        solara.Button(
            "Pause" if playing else "Play",
            on_click=on_play,
            color="primary",
            disabled=not running and not playing,
            style={"min-width": "96px"},
        )
        solara.Button(f"Step +{speed}", on_click=on_step, color="primary", disabled=playing or busy or not running)
        solara.Button("Reset", on_click=on_reset, outlined=True, color="primary")
    solara.Select(label="Speed: time per step", values=speed_names, value=speed, on_value=on_speed)


@solara.component
def Clock(day: int, days_total: int, days_per_week: int, status: str):
    week = day / days_per_week
    weeks = days_total / days_per_week
    text = f"Week {week:.0f} of {weeks:.0f}" if day % days_per_week == 0 else f"Week {week:.1f} of {weeks:.0f}"
    solara.HTML(tag="div", unsafe_innerHTML=f"{text} <small>(day {day})</small>", classes=["fs-clock"])
    solara.HTML(tag="div", unsafe_innerHTML=html.escape(status), classes=["fs-status"])


# -- results ------------------------------------------------------------------------------------
def dollars(x: float) -> str:
    return "-" + money(-x) if x < 0 else money(x)


def hours(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x * 60:.0f} min" if x < 1 else f"{x:,.1f} h"


def share(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.0%}"


FORMATS: dict[Unit, Callable[[float], str]] = {
    Unit.MONEY: dollars,
    Unit.HOURS: hours,
    Unit.SHARE: share,
    Unit.COUNT: lambda x: f"{x:,.0f}",
}
STRIP = (
    "revenue",
    "cost",
    "profit",
    "deals_won",
    "response_time_hours_median",
    "response_within_1h_share",
    "leads_never_worked",
    "rep_utilization",
)
KPIS = tuple((key, short_label(key), FORMATS[KPI[key].unit]) for key in STRIP)


def kpi_table(snaps: list[Snapshot]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in KPIS)
    rows = []
    for i, s in enumerate(snaps):
        name = f'<td class="fs-name" style="color:{colour(i)}">{html.escape(s.name)}</td>'
        cells = "".join(f"<td>{fmt(s.kpis[key])}</td>" for key, _, fmt in KPIS)
        rows.append(f"<tr>{name if len(snaps) > 1 else ''}{cells}</tr>")
    if len(snaps) == 2:
        a, b = snaps[0].kpis, snaps[1].kpis
        diff = []
        for key, _, fmt in KPIS:
            d = b[key] - a[key]
            diff.append(f"<td>{_signed(d, fmt, key)}</td>")
        rows.append(f'<tr><td class="fs-name">difference</td>{"".join(diff)}</tr>')
    corner = "<th></th>" if len(snaps) > 1 else ""
    return f'<table class="fs-kpis"><tr>{corner}{head}</tr>{"".join(rows)}</table>'


def _signed(d: float, fmt, key: str) -> str:
    if math.isnan(d):
        return "-"
    unit = KPI[key].unit
    if unit is Unit.SHARE:
        return f"{d * 100:+.0f} pts"
    if unit is Unit.HOURS:
        return ("+" if d > 0 else "-" if d < 0 else "") + hours(abs(d))
    sign = "+" if d > 0 else "-" if d < 0 else ""
    return sign + fmt(abs(d))


@solara.component
def KpiStrip(snaps: list[Snapshot]):
    solara.HTML(tag="div", unsafe_innerHTML=kpi_table(snaps))


@solara.component
def FigureCard(spec: FigureSpec, svg: bytes):
    """A figure (drawn once per simulated day, see `Workshop.frame`) with its title and one line on what to see."""
    with solara.Column(classes=["fs-card"], gap="0px"):
        solara.HTML(tag="h2", unsafe_innerHTML=html.escape(spec.title))
        solara.HTML(tag="div", unsafe_innerHTML=html.escape(spec.caption), classes=["fs-caption"])
        solara.Image(svg, format="svg+xml", width="100%", classes=["fs-figure", f"fs-figure-{spec.key}"])


@solara.component
def ErrorPanel(title: str, message: str):
    """A problem the trainer can fix, shown as the command line shows it: no traceback."""
    with solara.Column(classes=["fs-error"]):
        solara.HTML(tag="h2", unsafe_innerHTML=html.escape(title))
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(message))
