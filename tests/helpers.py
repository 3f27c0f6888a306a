"""Small scenarios built in code for model tests."""

from __future__ import annotations

import copy
from typing import Any

from funnelsim.scenario.defaults import BASELINE
from funnelsim.scenario.schema import Scenario


def merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def baseline(**over: Any) -> Scenario:
    return Scenario.model_validate(merge(BASELINE, over))


def queue_scenario(reps: int, arrivals_per_hour: float, mean_service_hours: float, weeks: float, **sales) -> Scenario:
    """One stage, Poisson arrivals, exponential service, c identical reps, FIFO, no decay: M/M/c."""
    doc = {
        "name": "mmc",
        "horizon_weeks": weeks,
        "calendar": {"hours_per_day": 8, "days_per_week": 5},
        "marketing": {
            "marketers": 0,
            "mql_threshold": 0.0,
            "score_noise_sd": 0.0,
            "channels": [{"name": "in", "leads_per_week": arrivals_per_hour * 40, "cost_per_lead": 0, "fit": 0.5}],
            "nurture": {"enabled": False},
        },
        "sales": {
            "teams": [{"name": "t", "reps": reps, "hours_per_week": 40, "selling_share": 1.0, "skill": 0.7}],
            "routing": "pool",
            "prioritisation": "fifo",
            "contact": {"max_attempts": 1, "hours_per_attempt": 0, "reach_probability": 1.0},
            "stages": [
                {"name": "serve", "conversion": 1.0, "hours": {"dist": "exponential", "mean": mean_service_hours}}
            ],
            "response_curve": {"points": [[0, 1.0]]},
            "follow_up_patience_days": None,
            "abandon_after_days": None,
            "deal_value": 1000,
        },
        "people": {"attrition": {"annual_rate": 0.0}},
    }
    doc["sales"].update(sales)
    return Scenario.model_validate(doc)


def as_from_a_terminal() -> None:
    """For `Popen(preexec_fn=...)` in Ctrl-C tests: a shell starts background jobs with SIGINT
    ignored and children inherit that, so restore what a command typed at a terminal gets."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
