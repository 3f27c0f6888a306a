"""`funnelsim calibrate`: from a CRM export to a scenario that reproduces it, and how well it forecasts.

The steps, each in its own module:
    1. read the export through its map into the canonical tables (`reader`, `mapping`);
    2. estimate what the data show directly, with intervals (`direct`), into a scenario document
       built on a base scenario (the baseline unless the user gives one);
    3. infer what they cannot show by simulation (`abc`), on the summary statistics of `summary`;
    4. check the calibrated scenario against the data (simulated exports side by side with the
       observed one) and, with `holdout_weeks`, forecast weeks the fit never saw (`backtest`);
    5. write calibrated.yaml, posterior.parquet, calibration.json and the report (`output`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.calibrate.abc import Calibration, Parameter, Posterior, get_path, set_path
from funnelsim.calibrate.canonical import CrmData
from funnelsim.calibrate.summary import summarise
from funnelsim.calibrate.window import as_of, span_weeks
from funnelsim.scenario.yamlsource import FieldPath, format_path

DEFAULT_BUDGET = 500
DEFAULT_GENERATIONS = 5
CHECK_RUNS = 16  # posterior draws (one simulated export each) shown beside the data
FORECAST_DRAWS = 40  # posterior draws (one run each) behind the backtest's intervals


@dataclass
class Calibrated:
    """Everything a calibration found, for the output writers."""

    crm: CrmData
    fit_crm: CrmData
    doc: dict
    comments: dict[FieldPath, str]
    direct: dict[str, Any]
    too_few: list[str]
    direct_rows: list[dict[str, Any]]
    posterior: Posterior
    observed: dict[str, float]
    check: list[dict[str, Any]]
    backtest: dict[str, Any] | None
    timing: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


MIN_FIT_WEEKS = 8  # a holdout must leave at least this much to fit on
# Below this budget the posterior stays close to the prior ranges and the backtest's intervals are
# too narrow for what they miss: on exports of known truth (tests/calibrate/test_backtest_coverage.py)
# the 80% intervals held the truth 57% of the time at 60 simulations and 73% at 300.
SMALL_BUDGET = 250
FEW = 20  # fewer opportunities than this at a stage: its conversion is said to be poorly determined


def abc_parameters(doc: dict, crm: CrmData | None = None) -> tuple[list[Parameter], list[str]]:
    """What simulation infers, with the prior ranges, and what stays at the base's value and why."""
    params = [
        Parameter(
            ("marketing", "mql_threshold"),
            0.2,
            0.95,
            doc["marketing"]["mql_threshold"],
            "the export shows the MQL share, not the score that gives it; the persona-fit "
            "distributions stay at the base's and the threshold takes up the difference",
        ),
        Parameter(
            ("marketing", "score_noise_sd"),
            0.0,
            0.3,
            doc["marketing"]["score_noise_sd"],
            "how well marketing's score tracks fit: seen only through which MQLs go on to buy",
        ),
    ]
    kept = [
        "persona-fit distributions per channel: not in an export; kept at the base's "
        "(the MQL threshold absorbs a shift)",
        "sales.outcomes.skill_elasticity: needs rep-level skill data, which an export lacks; kept at the base's",
    ]
    nurture = doc["marketing"].get("nurture") or {}
    if nurture.get("enabled", False):
        params.append(
            Parameter(
                ("marketing", "nurture", "engage_probability"),
                0.0,
                0.1,
                nurture["engage_probability"],
                "nurture replies show only as MQLs dated after the lead was created",
            )
        )
    stages = doc["sales"]["stages"]
    middle_known = crm is None or crm.stage_history is not None or len(stages) <= 2
    for k, stage in enumerate(stages):
        if not middle_known and 0 < k < len(stages) - 1:
            kept.append(
                f"sales.stages[{k}].conversion ({stage['name']}): without a stage history the export shows only "
                "how many opportunities were won, not where the others were lost; kept at the base's "
                "(the last stage's conversion takes up the difference)"
            )
            continue
        params.append(
            Parameter(
                ("sales", "stages", k, "conversion"),
                0.02,
                0.98,
                stage["conversion"],
                "the observed rate mixes fit, skill and speed to lead; the scenario's value is at the "
                "reference fit and skill, answered at once",
            )
        )
    params.append(
        Parameter(
            ("sales", "outcomes", "fit_elasticity"),
            0.25,
            2.0,
            doc["sales"]["outcomes"]["fit_elasticity"],
            "how strongly persona fit drives each conversion: seen only through the funnel as a whole",
        )
    )
    return params, kept


def calibrate(
    crm: CrmData,
    base_doc: dict,
    executor,
    *,
    out: Path | None,
    budget: int = DEFAULT_BUDGET,
    generations: int = DEFAULT_GENERATIONS,
    seed: int = 0,
    holdout_weeks: int | None = None,
    bootstrap: int = 200,
    progress: Callable[[int], None] | None = None,
) -> Calibrated:
    """Calibrate `base_doc` (a scenario document) to `crm`; journal in `out` (None: none kept)."""
    from funnelsim.calibrate.direct import estimate
    from funnelsim.errors import UsageError

    timing: dict[str, float] = {}
    notes = []
    if budget < SMALL_BUDGET:
        notes.append(
            f"A budget of {budget} simulations ({budget // generations} a generation) leaves the posterior close "
            f"to its prior ranges and the forecast intervals too narrow: on exports of known truth the 80% "
            f"intervals held the truth 57% of the time at 60 simulations and 73% at 300. Use --budget "
            f"{SMALL_BUDGET} or more for figures to rely on."
        )
    fit_crm = crm
    if holdout_weeks:
        left = span_weeks(crm) - holdout_weeks
        if left < MIN_FIT_WEEKS:
            raise UsageError(
                f"--holdout-weeks {holdout_weeks} leaves {max(left, 0):.1f} weeks of the export's "
                f"{span_weeks(crm):.1f} to fit on; at least {MIN_FIT_WEEKS} are needed"
            )
        cutoff = crm.as_of - pd.Timedelta(weeks=holdout_weeks)
        fit_crm = as_of(crm, cutoff)

    t = time.perf_counter()
    direct = estimate(fit_crm, stages=fit_crm.stages, bootstrap=bootstrap, seed=seed)
    timing["direct_s"] = time.perf_counter() - t

    doc, comments = scenario_from_direct(base_doc, fit_crm, direct)
    params, kept = abc_parameters(doc, fit_crm)
    observed = summarise(fit_crm)
    kept += thin_stages(fit_crm)
    t = time.perf_counter()
    cal = Calibration(doc, params, observed, budget=budget, generations=generations, seed=seed, journal_dir=out)
    posterior = cal.run(executor, progress)
    timing["abc_s"] = time.perf_counter() - t

    estimates = posterior.estimate()
    for p in params:
        mid, low, high = estimates[p.name]
        set_path(doc, p.path, round(mid, 4))
        comments[p.path] = f"simulation-based: posterior mean {mid:.3g} (95% {low:.3g}-{high:.3g}); {p.why}"
    t = time.perf_counter()
    check = check_runs(doc, seed, executor, posterior)
    timing["check_s"] = time.perf_counter() - t
    backtest = None
    if holdout_weeks:
        t = time.perf_counter()
        backtest = run_backtest(crm, fit_crm, doc, posterior, seed, executor)
        timing["backtest_s"] = time.perf_counter() - t
    return Calibrated(
        crm=crm,
        fit_crm=fit_crm,
        doc=doc,
        comments=comments,
        direct=direct.to_dict(),
        too_few=[*direct.too_few, *kept],
        direct_rows=direct_rows(direct),
        posterior=posterior,
        observed=observed,
        check=check,
        backtest=backtest,
        timing=timing,
        notes=notes,
    )


def scenario_from_direct(base_doc: dict, crm: CrmData, direct) -> tuple[dict, dict[FieldPath, str]]:
    """The base scenario with what the data show directly: its window, channels, team, deal
    values, buyer delays and response curve; each value set carries its comment."""
    from funnelsim.scenario.overrides import parse_path
    from funnelsim.scenario.schema import Scenario

    doc = copy.deepcopy(base_doc)
    comments: dict[FieldPath, str] = {}
    doc["name"] = f"{base_doc['name']}_calibrated"
    doc["horizon_weeks"] = round(span_weeks(crm), 2)
    first = crm.leads["created"].min()
    comments[("horizon_weeks",)] = f"the export's span: first lead {first:%Y-%m-%d}, export {crm.as_of:%Y-%m-%d}"
    names = sorted(direct.arrivals)
    if names:  # the export's channels, in its own names; what an export lacks comes from the base
        template = doc["marketing"]["channels"]
        by_name = {c["name"]: c for c in template}
        cost = float(np.mean([c["cost_per_lead"] for c in template]))
        fit = copy.deepcopy(template[len(template) // 2]["fit"])
        channels = []
        for i, name in enumerate(names):
            known = name in by_name
            channel = copy.deepcopy(by_name[name]) if known else {"cost_per_lead": cost, "fit": copy.deepcopy(fit)}
            channels.append({**channel, "name": name})
            if not known:
                comments[("marketing", "channels", i, "cost_per_lead")] = (
                    "not in the export: the mean of the base's channels"
                )
                comments[("marketing", "channels", i, "fit")] = "not in the export: a middle channel of the base"
        doc["marketing"]["channels"] = channels
    for text, (value, note) in direct.overrides(Scenario.model_validate(doc)).items():
        path = parse_path(text)
        if path is None:
            continue
        try:
            get_path(doc, path[:-1])
        except (KeyError, IndexError, TypeError):
            continue
        set_path(doc, path, copy.deepcopy(value))
        comments[path] = f"direct: {note}"
    return doc, comments


def thin_stages(crm: CrmData) -> list[str]:
    """Plain words for stages too few opportunities reached to pin their conversion down."""
    out = []
    if len(crm.opportunities) < FEW:
        out.append(
            f"only {len(crm.opportunities)} opportunities in the export: every stage conversion is poorly "
            "determined (see the intervals)"
        )
        return out
    if crm.stage_history is None:
        return out
    reached = crm.stage_history.groupby("stage", observed=True)["opp_id"].nunique()
    for stage in crm.stages[1:]:
        n = int(reached.get(stage, 0))
        if n < FEW:
            out.append(
                f"only {n} opportunities reached {stage}: its conversion is poorly determined (see its interval)"
            )
    return out


# -- checking the calibrated scenario ------------------------------------------------------------
def profile(doc: dict, seed: int) -> dict[str, Any]:
    """A simulated export of `doc` as the report shows it (a worker task)."""
    from funnelsim.calibrate.synthetic import simulate_export
    from funnelsim.scenario.schema import Scenario

    return export_profile(simulate_export(Scenario.model_validate(doc), seed))


def export_profile(crm: CrmData) -> dict[str, Any]:
    """Summary statistics plus the series and samples the report draws."""
    start = crm.leads["created"].min()
    week = ((crm.leads["created"] - start) // pd.Timedelta(weeks=1)).astype(int)
    weekly = np.bincount(week.to_numpy(), minlength=int(math.ceil(span_weeks(crm))) or 1)
    won = crm.opportunities[crm.opportunities["outcome"] == "won"]
    cycle = ((won["close_time"] - won["created"]) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    return {
        "summary": summarise(crm),
        "weekly_leads": weekly.tolist(),
        "cycle_days": cycle[np.isfinite(cycle)].tolist(),
        "won_values": won["amount"].to_numpy(dtype=float).tolist(),
    }


def check_runs(doc: dict, seed: int, executor, posterior: Posterior | None = None) -> list[dict[str, Any]]:
    """Simulated exports beside the data: one run for each of CHECK_RUNS posterior draws (a posterior
    predictive check, so the range carries what the data left uncertain), or of `doc` itself."""
    from funnelsim.model.streams import replication_seeds

    seeds = replication_seeds(seed + 1, CHECK_RUNS)
    docs = posterior_docs(doc, posterior, CHECK_RUNS, (seed, 104729)) if posterior is not None else [doc] * CHECK_RUNS
    return executor.map(profile, list(zip(docs, seeds, strict=True)))


def posterior_docs(doc: dict, posterior: Posterior, n: int, key: tuple[int, int]) -> list[dict]:
    """`n` copies of `doc`, each with one draw of the posterior (by weight) set in it."""
    rng = np.random.default_rng(list(key))
    values, weights = posterior.sample()
    picks = rng.choice(len(values), size=n, p=weights)
    docs = []
    for pick in picks:
        d = copy.deepcopy(doc)
        for p, v in zip(posterior.parameters, values[pick], strict=True):
            set_path(d, p.path, float(v))
        docs.append(d)
    return docs


# -- the backtest --------------------------------------------------------------------------------
def window_counts(crm: CrmData, start: pd.Timestamp, end: pd.Timestamp) -> dict[str, float]:
    """What a forecast of [start, end) is judged on: new opportunities, deals won, revenue."""
    o = crm.opportunities
    new = o["created"].between(start, end, inclusive="left")
    won = (o["outcome"] == "won") & o["close_time"].between(start, end, inclusive="left")
    return {
        "new_opportunities": float(new.sum()),
        "deals_won": float(won.sum()),
        "revenue": float(o.loc[won, "amount"].sum()),
    }


def forecast_task(doc: dict, seed: int, offsets: tuple[float, float]) -> dict[str, float]:
    """One posterior draw run over the whole span, counted in the held-out weeks (a worker task)."""
    from funnelsim.calibrate.synthetic import simulate_export
    from funnelsim.scenario.schema import Scenario

    crm = simulate_export(Scenario.model_validate(doc), seed)
    start = crm.leads["created"].min()
    weeks = pd.Timedelta(weeks=1)
    return window_counts(crm, start + offsets[0] * weeks, start + offsets[1] * weeks)


def run_backtest(crm: CrmData, fit_crm: CrmData, doc: dict, posterior: Posterior, seed: int, executor) -> dict:
    from funnelsim.model.streams import replication_seeds

    start = crm.leads["created"].min()
    weeks = pd.Timedelta(weeks=1)
    offsets = ((fit_crm.as_of - start) / weeks, (crm.as_of - start) / weeks)
    full = copy.deepcopy(doc)
    full["horizon_weeks"] = round(span_weeks(crm), 2)
    docs = posterior_docs(full, posterior, FORECAST_DRAWS, (seed, 7919))
    seeds = replication_seeds(seed + 2, FORECAST_DRAWS)
    draws = executor.map(forecast_task, [(d, s, offsets) for d, s in zip(docs, seeds, strict=True)])
    actual = window_counts(crm, fit_crm.as_of, crm.as_of)
    out = {"from": str(fit_crm.as_of), "to": str(crm.as_of), "weeks": offsets[1] - offsets[0], "draws": len(draws)}
    measures = {}
    for key, truth in actual.items():
        x = np.array([d[key] for d in draws], dtype=float)
        q = np.quantile(x, [0.025, 0.1, 0.5, 0.9, 0.975])
        measures[key] = {
            "actual": truth,
            "forecast": float(q[2]),
            "interval_80": [float(q[1]), float(q[3])],
            "interval_95": [float(q[0]), float(q[4])],
            "in_80": bool(q[1] <= truth <= q[3]),
            "in_95": bool(q[0] <= truth <= q[4]),
            "error": float(q[2] - truth),
            "relative_error": float((q[2] - truth) / truth) if truth else None,
        }
    out["measures"] = measures
    return out


def direct_rows(est) -> list[dict[str, Any]]:
    """The direct estimates as table rows: what, value, 95% interval, rows used."""
    rows = []

    def add(name: str, e, unit: str = "") -> None:
        rows.append(
            {"parameter": name, "method": "direct", "value": e.value, "low": e.low, "high": e.high, "rows": e.n}
            | ({"unit": unit} if unit else {})
        )

    for channel, arrivals in sorted(est.arrivals.items()):
        add(f"leads per week, {channel}", arrivals.leads_per_week)
    for transition, e in est.conversions.items():
        add(f"conversion {transition} (observed)", e)
    for stage, delay in est.delays.items():
        add(f"{stage.replace('_', ' ')}: median working days", delay.median)
    if est.deal_values is not None:
        for name, e in est.deal_values.params.get(est.deal_values.chosen, {}).items():
            add(f"deal value ({est.deal_values.chosen}) {name}", e)
    for name, e in est.team.items():
        add(name.replace("_", " "), e)
    if est.responses is not None:
        for name, e in est.responses.shares.items():
            add(f"first contact {name.replace('_', ' ')}", e)
    return rows


def parameter_table(cal: Calibrated) -> pd.DataFrame:
    """Every calibrated value: how it was found, the value, its interval."""
    rows = [
        {"parameter": name, "method": "simulation", "value": mid, "low": low, "high": high, "rows": None}
        for name, (mid, low, high) in cal.posterior.estimate().items()
    ]
    return pd.DataFrame(rows + cal.direct_rows)


__all__ = ["Calibrated", "abc_parameters", "calibrate", "format_path"]
