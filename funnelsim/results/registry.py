"""The KPIs, each declared once: name, label, unit, how a finished run computes it, how it aggregates.

In the spirit of the EMA workbench's declared outcomes: `run_kpis`, the sweep file check, the
tables, reports and dashboard all read this registry instead of keeping their own lists. A KPI
added to `KPIS` appears in every run's KPIs, the run summary, the reports and a sweep's choices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from funnelsim.results.records import LeadState

if TYPE_CHECKING:
    from funnelsim.model.model import FunnelModel

NAN = float("nan")


class Unit(StrEnum):
    """What a KPI's number is; formatting and axes follow from it."""

    MONEY = "money"
    COUNT = "count"
    SHARE = "share"
    HOURS = "hours"
    DAYS = "days"
    SCORE = "score"  # skill, on [0, 1], shown to three decimals


@dataclass(frozen=True)
class Aggregation:
    """How a KPI aggregates over replications: the mean with a Student-t interval, kept within
    the bounds the quantity cannot leave (a share in [0, 1], a count at least 0)."""

    lower: float = -math.inf
    upper: float = math.inf


MEAN_T = Aggregation()
NON_NEGATIVE = Aggregation(lower=0.0)
PROPORTION = Aggregation(lower=0.0, upper=1.0)
DEFAULT_AGGREGATION = {
    Unit.MONEY: MEAN_T,
    Unit.COUNT: NON_NEGATIVE,
    Unit.SHARE: PROPORTION,
    Unit.HOURS: NON_NEGATIVE,
    Unit.DAYS: NON_NEGATIVE,
    Unit.SCORE: PROPORTION,
}


class Run:
    """What several KPIs of one finished model share, computed once and only when asked for."""

    def __init__(self, model: FunnelModel):
        self.model = model

    @cached_property
    def book(self) -> dict[str, np.ndarray]:
        return self.model.book.arrays()

    @cached_property
    def worked(self) -> int:
        return int(np.count_nonzero(self.book["first_attempt"] >= 0))

    @cached_property
    def won(self) -> int:
        return self.model.deals_won + self.model.deals_won_by_email

    @cached_property
    def used(self) -> float:
        return float(sum(r.hours_used for r in self.model.roster))

    @cached_property
    def available(self) -> float:
        return float(sum(r.hours_available for r in self.model.roster))

    @cached_property
    def per_rep(self) -> list[float]:
        return [r.hours_used / r.hours_available for r in self.model.roster if r.hours_available > 0]

    @cached_property
    def response(self) -> np.ndarray:
        return response_hours(self.model, self.book)

    @cached_property
    def cycle(self) -> np.ndarray:
        return cycle_days(self.model, self.book)

    @cached_property
    def fit_worked(self) -> float:
        fits = self.book["fit"][self.book["first_attempt"] >= 0]
        return float(np.mean(fits)) if len(fits) else NAN

    def ended(self, state: LeadState) -> int:
        return int(np.count_nonzero(self.book["state"] == state))


def response_hours(model: FunnelModel, book: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Calendar hours from reaching sales to a rep's first attempt, for every worked lead."""
    book = model.book.arrays() if book is None else book
    worked = book["first_attempt"] >= 0
    cal = model.calendar
    return cal.calendar_hours_array(book["first_attempt"][worked]) - cal.calendar_hours_array(book["entered"][worked])


def cycle_days(model: FunnelModel, book: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Calendar days from lead creation to close, for every deal won by a rep."""
    book = model.book.arrays() if book is None else book
    won = book["state"] == LeadState.WON
    cal = model.calendar
    return (cal.calendar_hours_array(book["ended"][won]) - cal.calendar_hours_array(book["created"][won])) / 24.0


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if len(x) else NAN


def _ratio(a: float, b: float) -> float:
    return a / b if b else NAN


@dataclass(frozen=True)
class Kpi:
    """One measured outcome of a run. `short` is the dashboard's compact label."""

    name: str
    label: str
    unit: Unit
    compute: Callable[[Run], float]
    short: str = ""
    aggregation: Aggregation | None = None

    @property
    def bounds(self) -> Aggregation:
        return self.aggregation or DEFAULT_AGGREGATION[self.unit]

    def bounded(self, x):
        """`x` (a number or an array: interval ends) kept within the KPI's bounds; NaN stays NaN."""
        b = self.bounds
        return np.clip(x, b.lower, b.upper)


M, C, S, H, D = Unit.MONEY, Unit.COUNT, Unit.SHARE, Unit.HOURS, Unit.DAYS
UTILISATION = NON_NEGATIVE  # hours used can pass hours available (a task finishes past the day's end)

KPIS: tuple[Kpi, ...] = (
    Kpi("revenue", "Revenue ($)", M, lambda r: r.model.revenue, "Revenue"),
    Kpi("cost", "Cost ($)", M, lambda r: r.model.cost, "Cost"),
    Kpi("profit", "Profit ($)", M, lambda r: r.model.revenue - r.model.cost, "Profit"),
    Kpi("deals_won", "Deals won", C, lambda r: r.won, "Deals won"),
    Kpi("leads_created", "Leads created", C, lambda r: r.model.leads_created, "Leads bought"),
    Kpi("leads_worked", "Leads worked by a rep", C, lambda r: r.worked),
    Kpi("leads_never_worked", "Leads never worked", C, lambda r: r.model.leads_created - r.worked, "Never called"),
    Kpi("win_rate", "Win rate (won / created)", S, lambda r: _ratio(r.won, r.model.leads_created)),
    Kpi(
        "response_time_hours_median",
        "Response time, median (h)",
        H,
        lambda r: _median(r.response),
        "Median first call",
    ),
    Kpi("cycle_days_median", "Sales cycle, median (days)", D, lambda r: _median(r.cycle)),
    Kpi("rep_hours_available", "Rep selling hours available", H, lambda r: r.available),
    Kpi("rep_hours_used", "Rep selling hours used", H, lambda r: r.used),
    Kpi(
        "rep_utilization",
        "Rep utilisation",
        S,
        lambda r: _ratio(r.used, r.available),
        "Rep utilisation",
        UTILISATION,
    ),
    Kpi("revenue_per_rep_hour", "Revenue per rep selling hour ($)", M, lambda r: _ratio(r.model.revenue, r.used)),
    Kpi("backlog_end", "Backlog at end (tasks)", C, lambda r: r.model.backlog_end),
    # more than the minimum
    Kpi("mqls", "MQLs", C, lambda r: r.model.mqls),
    Kpi("sales_leads", "Leads sent to sales", C, lambda r: r.model.sales_entries),
    Kpi("deals_won_by_email", "Deals won by email alone", C, lambda r: r.model.deals_won_by_email),
    Kpi(
        "response_within_1h_share",
        "Responded within 1 h (share)",
        S,
        lambda r: float(np.mean(r.response <= 1.0)) if len(r.response) else NAN,
        "Called within 1 h",
    ),
    Kpi(
        "response_time_hours_mean",
        "Response time, mean (h)",
        H,
        lambda r: float(np.mean(r.response)) if len(r.response) else NAN,
    ),
    Kpi("lead_cost", "Lead cost ($)", M, lambda r: r.model.lead_cost),
    Kpi("email_cost", "Email cost ($)", M, lambda r: r.model.email_cost),
    Kpi("salary_cost", "Salary cost ($)", M, lambda r: r.model.salary_cost),
    Kpi(
        "rep_utilization_max",
        "Busiest rep's utilisation",
        S,
        lambda r: max(r.per_rep, default=NAN),
        aggregation=UTILISATION,
    ),
    Kpi(
        "reps_overloaded_share",
        "Reps over 95% utilised (share)",
        S,
        lambda r: float(np.mean(np.array(r.per_rep) > 0.95)) if r.per_rep else NAN,
    ),
    Kpi("leads_abandoned", "Leads dropped unworked", C, lambda r: r.ended(LeadState.ABANDONED)),
    Kpi("leads_let_go", "Leads let go under load", C, lambda r: r.ended(LeadState.LET_GO)),
    Kpi("leads_open_end", "Leads still open at end", C, lambda r: r.ended(LeadState.OPEN)),
    Kpi("mean_deal_value", "Mean deal value ($)", M, lambda r: _ratio(r.model.revenue, r.won)),
    # people dynamics
    Kpi("training_cost", "Training cost ($)", M, lambda r: r.model.training_cost),
    Kpi("mentoring_hours", "Hours spent mentoring", H, lambda r: float(sum(x.mentoring_hours for x in r.model.roster))),
    Kpi("hires", "Hires", C, lambda r: r.model.people.hires),
    Kpi("leavers", "Leavers", C, lambda r: r.model.people.leavers),
    Kpi("revenue_net_of_refunds", "Revenue net of refunds ($)", M, lambda r: r.model.revenue - r.model.refunds),
    Kpi("refunds", "Refunds ($)", M, lambda r: r.model.refunds),
    Kpi(
        "profit_net_of_refunds",
        "Profit net of refunds ($)",
        M,
        lambda r: r.model.revenue - r.model.refunds - r.model.cost,
    ),
    Kpi(
        "mean_skill_end",
        "Mean rep skill at end",
        Unit.SCORE,
        lambda r: float(np.mean([x.skill for x in r.model.reps])) if len(r.model.reps) else NAN,
    ),
    Kpi("headcount_end", "Reps at end", C, lambda r: len(r.model.reps), "Reps"),
    Kpi("leads_ignored", "Leads ignored by reps (low trust)", C, lambda r: r.ended(LeadState.IGNORED)),
    Kpi("trust_end", "Reps' trust in marketing leads at end", S, lambda r: r.model.alignment.trust),
    Kpi("referral_leads", "Referral leads", C, lambda r: r.model.referral_leads),
    # the mechanisms a verdict names (funnelsim.report.mechanism)
    Kpi(
        "leads_never_worked_share",
        "Leads sent to sales never worked (share)",
        S,
        lambda r: _ratio(r.model.sales_entries - r.worked, r.model.sales_entries),
        "Never called (share)",
    ),
    Kpi("fit_worked_mean", "Persona fit of the leads worked, mean", Unit.SCORE, lambda r: r.fit_worked),
    Kpi(
        "deals_gone_cold_share",
        "Leads worked that went cold between stages (share)",
        S,
        lambda r: _ratio(r.ended(LeadState.WENT_COLD), r.worked),
    ),
)
del M, C, S, H, D

KPI = {k.name: k for k in KPIS}
KPI_NAMES: tuple[str, ...] = tuple(KPI)
KPI_LABELS: dict[str, str] = {k.name: k.label for k in KPIS}


def kpi_names(unit: Unit) -> frozenset[str]:
    """Names of the KPIs measured in `unit`."""
    return frozenset(k.name for k in KPIS if k.unit is unit)


def unit_of(name: str) -> Unit | None:
    kpi = KPI.get(name)
    return kpi.unit if kpi else None


def label_of(name: str) -> str:
    """The KPI's label; a name outside the registry is shown as it is."""
    kpi = KPI.get(name)
    return kpi.label if kpi else name


def short_label(name: str) -> str:
    kpi = KPI[name]
    return kpi.short or kpi.label


def compute_kpis(model: FunnelModel, kpis: tuple[Kpi, ...] | None = None) -> dict[str, float]:
    """Every KPI of a finished model (default: the whole registry), in registry order."""
    run = Run(model)
    return {k.name: k.compute(run) for k in (KPIS if kpis is None else kpis)}
