"""The built-in baseline: a mid-size B2B team, the same as `scenarios/baseline.yaml`.

Used when a `FunnelModel` is built from keyword levers alone (Mesa's batch_run, the dashboard).
A test checks that it equals the bundled YAML file.
"""

from __future__ import annotations

import copy
from functools import cache

from funnelsim.scenario.schema import DEFAULT_STAGES, Scenario

BASELINE = {
    "name": "baseline",
    "description": "Mid-size B2B team: 40 account executives, 8 marketers, about 500 leads a week.",
    "seed": 2026,
    "horizon_weeks": 52,
    "calendar": {"hours_per_day": 8, "days_per_week": 5},
    "marketing": {
        "marketers": 8,
        "salary_per_year": 133_380,
        "budget_per_month": 200_000,
        "mql_threshold": 0.6,
        "score_noise_sd": 0.1,
        "channels": [
            {
                "name": "paid_search",
                "leads_per_week": 250,
                "cost_per_lead": 80,
                "fit": {"dist": "beta", "a": 2.2, "b": 2.8},
            },
            {
                "name": "content",
                "leads_per_week": 150,
                "cost_per_lead": 60,
                "fit": {"dist": "beta", "a": 2.5, "b": 2.5},
            },
            {
                "name": "events",
                "leads_per_week": 100,
                "cost_per_lead": 120,
                "fit": {"dist": "beta", "a": 3.0, "b": 2.0},
            },
        ],
        "nurture": {
            "enabled": True,
            "email_interval_days": 5,
            "max_emails": 12,
            "cost_per_email": 0.1,
            "engage_probability": 0.02,
            "email_close_probability": 0.0005,
        },
    },
    "sales": {
        "teams": [
            {
                "name": "account_executives",
                "reps": 40,
                "hours_per_week": 40,
                "selling_share": 0.32,
                "skill": {"dist": "beta", "a": 7, "b": 3},
                "salary_per_year": 132_290,
                "selling_pattern": "spread",
            },
        ],
        "routing": "least_loaded",
        "prioritisation": "pipeline_first",
        "let_go_after_days": 2.0,
        "contact": {
            "max_attempts": 6,
            "attempt_spacing_hours": 8,
            "hours_per_attempt": 0.25,
            "reach_probability": 0.45,
        },
        "stages": copy.deepcopy(list(DEFAULT_STAGES)),
        "response_curve": {"points": [[0, 1.0], [1, 1.0], [2, 0.142857], [24, 0.016667]]},
        "outcomes": {"fit_elasticity": 1.0, "skill_elasticity": 1.0, "fit_reference": 0.5, "skill_reference": 0.7},
        "deal_value": {"dist": "lognormal", "median": 25_000, "sigma": 0.6},
        "follow_up_patience_days": 15,
        "abandon_after_days": 20,
    },
}


@cache
def default_scenario() -> Scenario:
    return Scenario.model_validate(BASELINE)
