"""Why a strategy wins: the measured quantity that moved most, in plain words.

Among the mechanism KPIs whose difference is significant, the one furthest from the baseline
in ratio (|ln(strategy / baseline)|) is named. A ratio, not a difference, because the quantities
have different units: a median first call of 28 h against 315 h (ln ratio 2.4) moved more than
utilisation 81% against 94% (0.15). Shares and scores get a small floor so that 0% against 2%
is a large ratio but not an infinite one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from funnelsim.experiment.compare import Comparison
from funnelsim.report.tables import fmt

FLOOR = 1e-3

# KPI -> what it means for a strategy, with {mine} and {theirs} (the baseline)
MECHANISMS: dict[str, str] = {
    "response_time_hours_median": "its reps call new leads within {mine} (median) against {theirs}",
    "rep_utilization": "its reps use {mine} of their selling hours against {theirs}",
    "leads_never_worked_share": "{mine} of the leads it sends to sales are never worked against {theirs}",
    "fit_worked_mean": "the leads its reps work fit the buyer persona at {mine} on average against {theirs}",
    "deals_gone_cold_share": "{mine} of the leads its reps work go cold between stages against {theirs}",
}


@dataclass(frozen=True)
class Mechanism:
    kpi: str
    mine: float
    theirs: float

    @property
    def log_ratio(self) -> float:
        return log_ratio(self.mine, self.theirs)

    def phrase(self) -> str:
        return MECHANISMS[self.kpi].format(mine=_value(self.kpi, self.mine), theirs=_value(self.kpi, self.theirs))


def log_ratio(mine: float, theirs: float) -> float:
    """|ln(mine / theirs)| with both floored at FLOOR; NaN when either is missing or negative."""
    if any(math.isnan(x) or x < 0 for x in (mine, theirs)):
        return math.nan
    return abs(math.log(max(mine, FLOOR) / max(theirs, FLOOR)))


def _value(kpi: str, x: float) -> str:
    if kpi == "response_time_hours_median":
        return f"{x:.0f} h" if x >= 10 else f"{x:.1f} h"
    if kpi == "fit_worked_mean":
        return f"{x:.2f}"
    return fmt(kpi, x)


def mechanism(cmp: Comparison, name: str) -> Mechanism | None:
    """The mechanism KPI that moved most among those with a significant difference, or None."""
    best = None
    for kpi in MECHANISMS:
        if not cmp.difference(name, kpi).significant:
            continue
        found = Mechanism(kpi, cmp.summary(name).at[kpi, "mean"], cmp.summary(cmp.baseline).at[kpi, "mean"])
        if math.isnan(found.log_ratio):
            continue
        if best is None or found.log_ratio > best.log_ratio:
            best = found
    return best


def mechanism_sentence(cmp: Comparison, name: str, kpi: str = "revenue") -> str:
    """'What moved most: its reps call new leads within 28 h (median) against 315 h.' when the
    difference of `kpi` is significant and some mechanism moved significantly; else ''."""
    if not cmp.difference(name, kpi).significant:
        return ""
    found = mechanism(cmp, name)
    return f"What moved most: {found.phrase()}." if found else ""
