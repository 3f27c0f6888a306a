"""The levers a workshop argues about: how to read each from a scenario and how to set it.

A lever is one number, switch or choice standing for a field (or a few) of the scenario.
`read_levers` gives a scenario's current settings; `apply_levers` builds the scenario with some
levers moved, validated like a file. Totals (leads, reps) are spread over channels and teams in
their proportions, as `funnelsim.model.levers.apply_levers` does for Mesa's batch_run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from funnelsim.model import levers as model_levers
from funnelsim.scenario.schema import Prioritisation, Routing, Scenario

Kind = Literal["int", "float", "choice", "bool"]

ROUTING_LABELS = {
    "pool": "Shared pool: next free rep",
    "round_robin": "Round robin",
    "least_loaded": "Least loaded rep",
    "best_match": "Best leads to best reps",
}
PRIORITY_LABELS = {
    "pipeline_first": "Open deals first, then best new leads",
    "fifo": "Oldest first",
    "newest_first": "Newest first",
    "highest_value": "Likeliest to win first",
}


@dataclass(frozen=True)
class Lever:
    """One control: what it sets, how it is shown, its range."""

    key: str
    label: str
    kind: Kind
    group: str
    help: str
    min: float = 0.0
    max: float = 1.0
    step: float = 1.0
    choices: tuple[str, ...] = ()
    labels: Mapping[str, str] | None = None

    def show(self, value: Any) -> str:
        """The value as the room reads it."""
        if self.kind == "bool":
            return "on" if value else "off"
        if self.kind == "choice":
            return (self.labels or {}).get(value, str(value))
        if self.key in ("targeting", "selling_share"):
            return f"{value:.0%}"
        if self.kind == "int" or float(value).is_integer():
            return f"{value:,.0f}"
        return f"{value:g}"


LEVERS: tuple[Lever, ...] = (
    Lever(
        "leads_per_week",
        "Leads a week (before targeting)",
        "float",
        "Marketing",
        "Audience bought from all channels each week; targeting then keeps its best-fitting part.",
        0,
        1500,
        10,
    ),
    Lever(
        "targeting",
        "Targeting: lowest-fit audience excluded",
        "float",
        "Marketing",
        "Fewer leads, each a better fit and dearer: the same weekly spend.",
        0,
        0.9,
        0.05,
    ),
    Lever(
        "mql_threshold",
        "MQL threshold (score to go to sales)",
        "float",
        "Marketing",
        "Leads scoring below it get nurture emails instead of a rep.",
        0,
        1,
        0.05,
    ),
    Lever("reps", "Sales reps", "int", "Sales team", "Account executives on the team at the start.", 1, 120, 1),
    Lever(
        "selling_share",
        "Share of a rep's week spent selling",
        "float",
        "Sales team",
        "The rest goes to admin, meetings and travel (typical: 28-41%).",
        0.1,
        0.8,
        0.05,
    ),
    Lever(
        "training_hours",
        "Training hours per rep per week",
        "float",
        "People",
        "Taken from selling time; skill grows with diminishing returns.",
        0,
        6,
        0.5,
    ),
    Lever(
        "mentoring",
        "Mentoring for new hires",
        "bool",
        "People",
        "Each new hire gets a veteran's time each week and ramps faster.",
    ),
    Lever("cohort_reps", "Growth spurt: reps hired", "int", "People", "Trainees hired together (0: none).", 0, 40, 1),
    Lever(
        "cohort_week", "Growth spurt: week they join", "int", "People", "They start at low skill and ramp up.", 0, 52, 1
    ),
    Lever(
        "routing",
        "Who gets a new lead",
        "choice",
        "Process",
        "How new leads are routed to reps.",
        choices=get_args(Routing),
        labels=ROUTING_LABELS,
    ),
    Lever(
        "prioritisation",
        "Which task a rep does next",
        "choice",
        "Process",
        "Order in which a rep works the tasks waiting in the queue.",
        choices=get_args(Prioritisation),
        labels=PRIORITY_LABELS,
    ),
    Lever(
        "alignment",
        "Sales-marketing alignment",
        "float",
        "Process",
        "0: the teams never talk; 1: sales tells marketing every month which personas close.",
        0,
        1,
        0.1,
    ),
)
BY_KEY = {lever.key: lever for lever in LEVERS}
GROUPS = tuple(dict.fromkeys(lever.group for lever in LEVERS))
# levers that FunnelModel (and Mesa's batch_run) take as keyword arguments
MODEL_KWARGS = ("leads_per_week", "targeting", "mql_threshold", "reps", "selling_share", "routing", "prioritisation")


def read_levers(scenario: Scenario) -> dict[str, Any]:
    """Where each lever stands in `scenario` (a mean where channels or teams differ)."""
    channels = scenario.marketing.channels
    teams = scenario.sales.teams
    volume = sum(c.leads_per_week for c in channels)
    cohorts = scenario.people.hiring.cohorts
    first = cohorts[0] if cohorts else None
    return {
        "leads_per_week": float(volume),
        "targeting": _weighted([c.targeting for c in channels], [c.leads_per_week for c in channels]),
        "mql_threshold": scenario.marketing.mql_threshold,
        "reps": sum(t.reps for t in teams),
        "selling_share": _weighted([t.selling_share for t in teams], [t.reps for t in teams]),
        "training_hours": _weighted([t.training.hours_per_week for t in teams], [t.reps for t in teams]),
        "mentoring": scenario.people.mentoring.enabled,
        "cohort_reps": first.reps if first else 0,
        "cohort_week": int(round(first.week)) if first else min(12, int(scenario.horizon_weeks) - 1),
        "routing": scenario.sales.routing,
        "prioritisation": scenario.sales.prioritisation,
        "alignment": scenario.alignment.level,
    }


def _weighted(values: list[float], weights: list[float]) -> float:
    total = sum(weights)
    if total <= 0:
        return float(sum(values) / len(values))
    return float(round(sum(v * w for v, w in zip(values, weights, strict=True)) / total, 6))


def lever_max(lever: Lever, scenario: Scenario) -> float:
    """The top of a slider: room to double the scenario's own value."""
    now = read_levers(scenario)[lever.key]
    if lever.key == "cohort_week":
        return max(1, int(scenario.horizon_weeks) - 1)
    if lever.key in ("leads_per_week", "reps", "cohort_reps"):
        return max(lever.max, 2 * now)
    return lever.max


def apply_levers(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """`scenario` with the given levers moved; unknown keys are an error, `None` leaves a lever alone."""
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = sorted(set(changes) - set(BY_KEY))
    if unknown:
        raise KeyError(f"unknown lever(s): {', '.join(unknown)}")
    if not changes:
        return scenario
    scenario = model_levers.apply_levers(scenario, **{k: changes[k] for k in MODEL_KWARGS if k in changes})
    rest = {k: v for k, v in changes.items() if k not in MODEL_KWARGS}
    if not rest:
        return scenario
    doc = scenario.model_dump(by_alias=True)
    if "training_hours" in rest:
        for team in doc["sales"]["teams"]:
            team["training"]["hours_per_week"] = float(rest["training_hours"])
    if "mentoring" in rest:
        doc["people"]["mentoring"]["enabled"] = bool(rest["mentoring"])
    if "cohort_reps" in rest or "cohort_week" in rest:
        doc["people"]["hiring"]["cohorts"] = _cohorts(doc["people"]["hiring"]["cohorts"], rest, scenario)
    if "alignment" in rest:
        doc["alignment"]["level"] = float(rest["alignment"])
    return Scenario.model_validate(doc)


def _cohorts(cohorts: list[dict], rest: Mapping[str, Any], scenario: Scenario) -> list[dict]:
    """The growth spurt is the first planned cohort; later cohorts stay as the file has them."""
    now = read_levers(scenario)
    reps = int(rest.get("cohort_reps", now["cohort_reps"]))
    week = float(rest.get("cohort_week", now["cohort_week"]))
    first = dict(cohorts[0]) if cohorts else {"team": None}
    later = cohorts[1:]
    if reps <= 0:
        return later
    first.update(week=week, reps=reps)
    return [first, *later]
