"""The daily series: what the model's data collector records at the end of every working day.

Each series is declared once, in column order; one that tracks a KPI of the registry names it and
takes its label and unit from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from funnelsim.results.registry import KPI, Unit


@dataclass(frozen=True)
class Series:
    """One daily column: a model attribute or a function of the model, read at each day's end.

    `kpi` names the registry KPI the series follows day by day; a `cumulative` series never
    decreases and ends, on the horizon's row, at that KPI's value."""

    name: str
    reporter: str | Callable
    kpi: str | None = None
    label: str = ""
    unit: Unit | None = None
    cumulative: bool = False

    @property
    def title(self) -> str:
        return self.label or (KPI[self.kpi].label if self.kpi else self.name)

    @property
    def measure(self) -> Unit | None:
        return self.unit or (KPI[self.kpi].unit if self.kpi else None)


def _hours_used(m) -> float:
    """Selling hours used by every rep who ever worked, leavers included, so the series never
    falls when a rep leaves. A task that runs past today's hours counts only up to them: the rest
    is borrowed from tomorrow (and trimmed at the horizon), so the series never overshoots."""
    return sum(r.hours_used + min(r.budget, 0.0) for r in m.roster)


def _hours_available(m) -> float:
    return sum(r.hours_available for r in m.roster)


def _mean_skill(m) -> float:
    return float(np.mean([r.skill for r in m.reps])) if len(m.reps) else float("nan")


DAILY: tuple[Series, ...] = (
    Series("day", "day", label="Working day", unit=Unit.DAYS),
    Series("leads_created", "leads_created", "leads_created", cumulative=True),
    Series("mqls", "mqls", "mqls", cumulative=True),
    Series("sales_entries", "sales_entries", "sales_leads", cumulative=True),
    Series("deals_won", lambda m: m.deals_won + m.deals_won_by_email, "deals_won", cumulative=True),
    Series("revenue", "revenue", "revenue", cumulative=True),
    Series("cost", "cost", "cost", cumulative=True),
    Series("profit", "profit", "profit"),
    Series("rep_hours_used", _hours_used, "rep_hours_used", cumulative=True),
    Series("rep_hours_available", _hours_available, "rep_hours_available", cumulative=True),
    Series("backlog", lambda m: len(m.pool) + sum(len(r.queue) for r in m.reps), "backlog_end"),
    Series("waiting_first_touch", "waiting_first_touch", label="Leads waiting for a first call", unit=Unit.COUNT),
    Series("headcount", lambda m: len(m.reps), "headcount_end"),
    Series("hires", lambda m: m.people.hires, "hires", cumulative=True),
    Series("leavers", lambda m: m.people.leavers, "leavers", cumulative=True),
    Series("refunds", "refunds", "refunds", cumulative=True),
    Series("trust", lambda m: m.alignment.trust, "trust_end"),
    Series("fit_gain", lambda m: m.alignment.fit_gain, label="Fit gain from alignment", unit=Unit.SHARE),
    Series("mean_skill", _mean_skill, "mean_skill_end"),
)

DAILY_SERIES: dict[str, str | Callable] = {s.name: s.reporter for s in DAILY}
