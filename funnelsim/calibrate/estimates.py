"""What a CRM export tells directly: estimates with their intervals, and the scenario fields they set."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Estimate:
    """One number read from the data, with a 95% interval.

    Attributes:
        value: the estimate; low, high: its 95% interval (NaN when none could be computed).
        n: rows it used; tables: the canonical tables they came from; method: how, in a few words.
    """

    value: float
    low: float
    high: float
    n: int
    tables: tuple[str, ...]
    method: str

    def covers(self, truth: float) -> bool:
        return self.low <= truth <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _num(self.value),
            "low": _num(self.low),
            "high": _num(self.high),
            "n": int(self.n),
            "tables": list(self.tables),
            "method": self.method,
        }

    def describe(self, digits: int = 3) -> str:
        def g(v: float) -> str:
            return "n/a" if not math.isfinite(v) else f"{v:.{digits}g}"

        return f"{g(self.value)} (95% {g(self.low)}-{g(self.high)}; {self.n} rows of {'+'.join(self.tables)})"


def _num(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


@dataclass(frozen=True)
class PatternTest:
    """A plain hypothesis test: was the pattern detected at the 5% level?"""

    name: str
    detected: bool
    p_value: float
    statistic: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "detected": bool(self.detected),
            "p_value": _num(self.p_value),
            "statistic": _num(self.statistic),
            "method": self.method,
        }


@dataclass
class Arrivals:
    """Leads a week from one channel, over the full weeks of the export, and tests of its pattern."""

    leads_per_week: Estimate
    weeks: int
    tests: dict[str, PatternTest] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "leads_per_week": self.leads_per_week.to_dict(),
            "weeks": self.weeks,
            "tests": {k: t.to_dict() for k, t in self.tests.items()},
        }


@dataclass
class Delay:
    """Working days from entering a stage to entering the next, among deals that went on.

    `quantiles` maps 0.25 / 0.5 / 0.75 / 0.9 to censoring-aware estimates; `triangular` is the
    maximum-likelihood (low, mode, high), None when too few delays were seen, and
    `triangular_interval` each parameter's 95% bootstrap interval; those of low and high are
    too narrow (a bootstrap cannot see past the sample's extremes), read them as a floor.
    """

    quantiles: dict[float, Estimate]
    triangular: tuple[float, float, float] | None
    n_passed: int
    triangular_note: str
    triangular_interval: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def median(self) -> Estimate:
        return self.quantiles[0.5]

    def to_dict(self) -> dict[str, Any]:
        tri = None if self.triangular is None else dict(zip(("low", "mode", "high"), self.triangular, strict=True))
        return {
            "quantiles": {f"{q:g}": e.to_dict() for q, e in self.quantiles.items()},
            "triangular": tri,
            "n_passed": self.n_passed,
            "triangular_note": self.triangular_note,
            "triangular_interval": {k: [_num(a), _num(b)] for k, (a, b) in self.triangular_interval.items()},
        }


@dataclass
class DealValues:
    """Won amounts: each family's maximum-likelihood parameters and AIC, and the chosen family."""

    chosen: str
    aic: dict[str, float]
    params: dict[str, dict[str, Estimate]]
    n: int

    @property
    def margin(self) -> float:
        """AIC of the runner-up minus that of the chosen family (how much it won by)."""
        others = sorted(v for k, v in self.aic.items() if k != self.chosen)
        return others[0] - self.aic[self.chosen] if others else float("nan")

    def weights(self) -> dict[str, float]:
        best = min(self.aic.values())
        raw = {k: math.exp(-(v - best) / 2) for k, v in self.aic.items()}
        total = sum(raw.values())
        return {k: r / total for k, r in raw.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "aic": dict(self.aic),
            "aic_margin": _num(self.margin),
            "akaike_weights": self.weights(),
            "params": {f: {k: e.to_dict() for k, e in p.items()} for f, p in self.params.items()},
            "n": self.n,
        }


@dataclass
class Responses:
    """Speed to lead in calendar hours, and qualification by how fast the first try came.

    `shares`: within_1h, 1_24h, over_24h, never (censoring-aware: a lead not yet tried at the
    export counts towards `never` only through the Kaplan-Meier tail). `curve`: relative
    qualification rate per response bucket, placed at the bucket's median response time.
    `first_hour_rate`: the qualified share of leads first tried within the hour, where the curve
    is 1: the nearest the export comes to the first stage's conversion once a lead is reached.
    """

    shares: dict[str, Estimate]
    median_hours: Estimate
    curve: list[tuple[float, Estimate]] = field(default_factory=list)
    first_hour_rate: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "shares": {k: e.to_dict() for k, e in self.shares.items()},
            "median_hours": self.median_hours.to_dict(),
            "curve": [{"hours": h, **e.to_dict()} for h, e in self.curve],
            "first_hour_rate": None if self.first_hour_rate is None else self.first_hour_rate.to_dict(),
        }


@dataclass
class DirectEstimates:
    """Everything `direct.estimate` reads from a CRM export.

    Attributes:
        arrivals: per channel.
        conversions: per transition, e.g. "lead->mql", "mql->sql", "discovery->proposal",
            "negotiation->won", "opportunity->won": probability of ever passing.
        delays: per stage of the opportunity (time in it), plus "sales_cycle" (created -> won).
        deal_values: None without won amounts.
        team: reps_per_week, activities_per_rep_week (Estimates) where the data allow;
            team_by_week: (Monday, reps active) for every week of the export.
        responses: None without first-contact times or calls.
        too_few: what could not be estimated, and why, in plain words.
        stages: the export's stage names, in funnel order.
    """

    stages: tuple[str, ...]
    arrivals: dict[str, Arrivals] = field(default_factory=dict)
    conversions: dict[str, Estimate] = field(default_factory=dict)
    delays: dict[str, Delay] = field(default_factory=dict)
    deal_values: DealValues | None = None
    team: dict[str, Estimate] = field(default_factory=dict)
    team_by_week: list[tuple[str, int]] = field(default_factory=list)
    responses: Responses | None = None
    too_few: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN becomes null), for calibration.json."""
        return {
            "stages": list(self.stages),
            "arrivals": {k: a.to_dict() for k, a in self.arrivals.items()},
            "conversions": {k: e.to_dict() for k, e in self.conversions.items()},
            "delays": {k: d.to_dict() for k, d in self.delays.items()},
            "deal_values": None if self.deal_values is None else self.deal_values.to_dict(),
            "team": {k: e.to_dict() for k, e in self.team.items()},
            "team_by_week": [list(w) for w in self.team_by_week],
            "responses": None if self.responses is None else self.responses.to_dict(),
            "too_few": list(self.too_few),
            "notes": list(self.notes),
        }

    def overrides(self, scenario=None) -> dict[str, tuple[Any, str]]:
        """Scenario field paths -> (value, one-line comment); see `funnelsim.calibrate.overrides`."""
        from funnelsim.calibrate.overrides import scenario_overrides

        return scenario_overrides(self, scenario)
