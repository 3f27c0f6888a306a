"""What the figures need from a running model, taken once a frame and then left alone.

A snapshot copies the few arrays the figures draw (daily series, the funnel, per-rep workload,
response times, ramp curves), so drawing never touches a model that may be stepping. Leads still
in the funnel count where they have got to: a live dashboard must not wait for leads to finish.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelsim.model.agents import Lead
from funnelsim.model.model import FunnelModel
from funnelsim.report.figures import ramp_curves
from funnelsim.results.kpis import funnel_label, funnel_steps, rep_weekly, stage_passes
from funnelsim.results.records import LeadState

UTILISATION_WEEKS = 4
MIN_RAMP_WEEKS = 4  # before a month has passed, nobody has a monthly rate


@dataclass(frozen=True, eq=False)
class Ramp:
    """Deals per new hire per month by tenure month, per group of hires, and the veterans' level."""

    curves: dict[str, pd.Series] = field(default_factory=dict)
    veterans: float = float("nan")
    hires: int = 0  # new hires so far, drawn or not (a curve needs enough rep-weeks a month)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One strategy's state at the end of a simulated day (equal only to itself: cheap to compare)."""

    name: str
    day: int
    days_total: int
    days_per_week: int
    series: dict[str, np.ndarray]
    funnel: list[tuple[str, int]]
    utilisation: np.ndarray
    response_hours: np.ndarray
    never_worked: int
    waiting_first_touch: int
    ramp: Ramp
    kpis: dict[str, float]  # registry KPIs so far (utilisation: over the last weeks)

    @property
    def week(self) -> float:
        return self.day / self.days_per_week

    @property
    def weeks_total(self) -> float:
        return self.days_total / self.days_per_week


SERIES = ("day", "revenue", "cost", "profit", "backlog", "headcount", "deals_won")


class Tracker:
    """What the dashboard records beside a model, day by day: per-rep hours at the ends of recent
    weeks (for recent utilisation) and the leads waiting for a first call.

    Leads that ended without a first attempt (dropped, ignored, no rep) are counted here as
    never worked.
    """

    def __init__(self, model: FunnelModel):
        self.marks: deque[dict] = deque([rep_marks(model)], maxlen=UTILISATION_WEEKS + 1)
        self.waiting: list[float] = []
        self.never_called = 0
        self._seen = 0

    def update(self, model: FunnelModel) -> None:
        """After each day."""
        if model.day % model.calendar.days_per_week == 0:
            self.marks.append(rep_marks(model))
        book = model.book.arrays()
        new = slice(self._seen, len(book["state"]))
        self._seen = new.stop
        unworked = (
            (book["entered"][new] >= 0) & (book["first_attempt"][new] < 0) & (book["state"][new] != LeadState.OPEN)
        )
        self.never_called += int(np.count_nonzero(unworked))
        self.waiting.append(model.waiting_first_touch)


def take_snapshot(model: FunnelModel, name: str, tracker: Tracker, ramp: Ramp) -> Snapshot:
    """Copy what the figures draw; `ramp` is passed in because it only changes once a week."""
    book = model.book.arrays()
    live = list(model.agents_by_type.get(Lead, ()))
    series = {k: np.asarray(model.datacollector.model_vars.get(k, ()), dtype=float) for k in SERIES}
    series["waiting_first_touch"] = np.asarray(tracker.waiting, dtype=float)
    response = _response_hours(model, book, live)
    never = tracker.never_called
    util = utilisation(model, tracker.marks[0])
    revenue, cost = model.revenue, model.cost
    kpis = {
        "revenue": revenue,
        "cost": cost,
        "profit": revenue - cost,
        "deals_won": model.deals_won + model.deals_won_by_email,
        "leads_created": model.leads_created,
        "response_time_hours_median": float(np.median(response)) if len(response) else float("nan"),
        "response_within_1h_share": float(np.mean(response <= 1.0)) if len(response) else float("nan"),
        "leads_never_worked": never,
        "rep_utilization": float(np.mean(util)) if len(util) else float("nan"),
        "headcount_end": len(model.reps),
    }
    return Snapshot(
        name=name,
        day=model.day,
        days_total=model.days_total,
        days_per_week=model.calendar.days_per_week,
        series=series,
        funnel=live_funnel(model, book, live),
        utilisation=util,
        response_hours=response,
        never_worked=never,
        waiting_first_touch=model.waiting_first_touch,
        ramp=ramp,
        kpis=kpis,
    )


def live_funnel(model: FunnelModel, book: dict[str, np.ndarray], live: list) -> list[tuple[str, int]]:
    """Leads that reached each step so far, finished or not (`results.kpis.funnel` counts finished
    leads only, which is right at the horizon and far too low mid-run)."""
    names = [s.name for s in model.sales.stages]
    worked = int(np.count_nonzero(book["first_attempt"] >= 0))
    passed = stage_passes(book, len(names))
    for lead in live:
        if lead.entered < 0:
            continue
        if lead.first_attempt >= 0:
            worked += 1
        for k in range(min(max(lead.step, 0), len(names))):
            passed[k] += 1
    counts = [model.leads_created, model.sales_entries, worked, *passed]
    return [(funnel_label(step), n) for step, n in zip(funnel_steps(names), counts, strict=True)]


def _response_hours(model: FunnelModel, book: dict[str, np.ndarray], live: list) -> np.ndarray:
    """Calendar hours from reaching sales to the first attempt, for every lead worked so far."""
    worked = book["first_attempt"] >= 0
    first = [book["first_attempt"][worked]]
    entered = [book["entered"][worked]]
    pairs = [(lead.first_attempt, lead.entered) for lead in live if lead.first_attempt >= 0]
    if pairs:
        arr = np.asarray(pairs, dtype=float)
        first.append(arr[:, 0])
        entered.append(arr[:, 1])
    cal = model.calendar
    return cal.calendar_hours_array(np.concatenate(first)) - cal.calendar_hours_array(np.concatenate(entered))


def rep_marks(model: FunnelModel) -> dict[int, tuple[float, float]]:
    """Each active rep's hours used and available so far."""
    return {r.unique_id: (r.hours_used, r.hours_available) for r in model.reps}


def utilisation(model: FunnelModel, since: dict[int, tuple[float, float]]) -> np.ndarray:
    """Share of selling hours each active rep used since `since` (or since hire), busiest first."""
    out = []
    for rep in model.reps:
        used0, avail0 = since.get(rep.unique_id, (0.0, 0.0))
        avail = rep.hours_available - avail0
        if avail > 1e-9:
            out.append((rep.hours_used - used0) / avail)
    return np.sort(np.asarray(out, dtype=float))[::-1]


def ramp_by_cohort(model: FunnelModel) -> Ramp:
    """Ramp curves of the planned cohorts (a growth spurt), and of all other hires together."""
    if model.people.weekly.last_week < MIN_RAMP_WEEKS:
        return Ramp()
    weekly = rep_weekly(model)
    hires = weekly[weekly["cohort"] >= 0]
    veterans = weekly[weekly["cohort"] < 0]
    if hires.empty:
        _, level = ramp_curves(weekly)
        return Ramp({}, level)
    planned = {int(round(c.week)) for c in model.config.people.hiring.cohorts}
    groups = {}
    for week in sorted(planned):
        members = hires[hires["cohort"] == week]
        if not members.empty:
            groups[f"Hired week {week} ({members['rep_id'].nunique()} reps)"] = members
    others = hires[~hires["cohort"].isin(planned)]
    if not others.empty:
        groups[f"Other hires ({others['rep_id'].nunique()} reps)"] = others
    curves = {}
    level = float("nan")
    for label, members in groups.items():
        curve, level = ramp_curves(pd.concat([members, veterans]))
        if len(curve):
            curves[label] = curve
    if not curves:
        _, level = ramp_curves(weekly)
    return Ramp(curves, level, int(hires["rep_id"].nunique()))
