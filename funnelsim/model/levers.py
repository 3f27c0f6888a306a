"""The main levers as plain keyword arguments, for Mesa's batch_run and the dashboard."""

from __future__ import annotations

from typing import Any

from funnelsim.scenario.schema import Scenario


def _split(total: int, weights: list[float]) -> list[int]:
    """Whole numbers in proportion to `weights` that add up to `total` (largest remainder)."""
    if sum(weights) <= 0:
        weights = [1.0] * len(weights)
    exact = [total * w / sum(weights) for w in weights]
    out = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: out[i] - exact[i])[: total - sum(out)]:
        out[i] += 1
    return out


def apply_levers(scenario: Scenario, **levers: Any) -> Scenario:
    """A copy of `scenario` with the given levers set; `None` leaves a lever as it is.

    `leads_per_week` and `reps` are totals, spread over channels and teams in their current
    proportions; `targeting` and `selling_share` apply to every channel and team.
    """
    levers = {k: v for k, v in levers.items() if v is not None}
    if not levers:
        return scenario
    doc = scenario.model_dump(by_alias=True)
    channels = doc["marketing"]["channels"]
    teams = doc["sales"]["teams"]
    if "leads_per_week" in levers:
        total = sum(c["leads_per_week"] for c in channels)
        for c in channels:
            share = c["leads_per_week"] / total if total > 0 else 1 / len(channels)
            c["leads_per_week"] = float(levers["leads_per_week"]) * share
    if "targeting" in levers:
        for c in channels:
            c["targeting"] = levers["targeting"]
    if "mql_threshold" in levers:
        doc["marketing"]["mql_threshold"] = levers["mql_threshold"]
    if "reps" in levers:
        for team, n in zip(teams, _split(int(levers["reps"]), [t["reps"] for t in teams]), strict=True):
            team["reps"] = n
    if "selling_share" in levers:
        for team in teams:
            team["selling_share"] = levers["selling_share"]
    for key in ("routing", "prioritisation"):
        if key in levers:
            doc["sales"][key] = levers[key]
    if "horizon_weeks" in levers:
        doc["horizon_weeks"] = levers["horizon_weeks"]
    return Scenario.model_validate(doc)
