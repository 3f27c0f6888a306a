"""What an optimisation concludes, as data: the recommended plan as a scenario file, the trials
table, each lever's importance, the binding constraint and the optimization.json document."""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from funnelsim.experiment.parameters import canonical_json
from funnelsim.optimize.confirm import Confirmation
from funnelsim.optimize.problem import OptimizationProblem
from funnelsim.optimize.variables import Plan, apply_plan, flat, part_names, plan_from_params
from funnelsim.scenario.overrides import _get
from funnelsim.scenario.yamlsource import FieldPath

BINDING_SLACK = 0.05  # a constraint within 5% of its bound (relative) is called binding


@dataclass
class Outcome:
    """A finished optimisation: the trials, the confirmation and what follows from them."""

    problem: OptimizationProblem
    seed: int
    trials: list[FrozenTrial]
    confirmation: Confirmation
    runs_search: int
    importance: dict[str, float] = field(default_factory=dict)
    overhead_seconds: float = 0.0

    @property
    def recommended(self) -> bool:
        return self.confirmation.feasible

    @property
    def chosen_plan(self) -> Plan:
        c = self.confirmation
        return c.candidates[c.chosen].plan


# -- best.yaml ----------------------------------------------------------------------------------
def changed_paths(problem: OptimizationProblem) -> list[FieldPath]:
    paths = list(problem.fixed_paths)
    for var in problem.variables:
        paths += list(var.paths)
    return list(dict.fromkeys(paths))


def over_document(doc: dict, paths: list[FieldPath]) -> dict:
    """The least a file extending the base must say to give `doc` at `paths`: named list items
    by name (as `extends` merges them), other lists whole."""
    over: dict = {}
    for path in paths:
        node, n = over, 0
        while n < len(path):
            key, value = path[n], _get(doc, path[: n + 1])
            if n == len(path) - 1:
                node[key] = value
            elif isinstance(value, list):
                item = value[path[n + 1]]
                if not (isinstance(item, dict) and "name" in item):
                    node[key] = value  # an unnamed list is given whole
                    break
                items = node.setdefault(key, [])
                entry = next((e for e in items if e.get("name") == item["name"]), None)
                if entry is None:
                    entry = {"name": item["name"]}
                    items.append(entry)
                node, n = entry, n + 1  # the index is taken by the name
            else:
                node = node.setdefault(key, {})
            n += 1
    return over


def best_yaml(problem: OptimizationProblem, plan: Plan, out: Path, note: str) -> str:
    """The plan as a scenario that extends the base file (runnable with `funnelsim run`).

    A base file with variants would hand them down, so then the file is written whole instead.
    """
    from ruamel.yaml import YAML

    doc = apply_plan(problem.base_doc, problem.variables, plan)
    header = [f"# {line}" for line in note.splitlines()]
    if problem.base_has_variants:
        body = dict(doc)
        header.append(f"# The whole scenario: {problem.base_file} has variants, which a file extending it inherits.")
    else:
        rel = os.path.relpath(os.path.abspath(problem.base_file), os.path.abspath(out))
        body = {"extends": rel, "name": f"{doc['name']}_optimized"}
        body.update(over_document(doc, changed_paths(problem)))
    body["name"] = f"{problem.base_doc['name']}_optimized"
    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 110
    buf = io.StringIO()
    yaml.dump(body, buf)
    return "\n".join(header) + "\n" + buf.getvalue()


# -- trials.parquet -----------------------------------------------------------------------------
def trials_table(problem: OptimizationProblem, trials: list[FrozenTrial]) -> pd.DataFrame:
    """One row per trial: levers, scores, every KPI's mean, constraint status, best so far."""
    rows = []
    sign = 1.0 if problem.primary.maximize else -1.0
    best = -math.inf
    for t in trials:
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name.lower()}
        if t.params:
            row.update(flat(problem, plan_from_params(problem, t.params)))
        violations = t.user_attrs.get("constraints", [])
        for o, v in zip(problem.objectives, t.values or [None] * len(problem.objectives), strict=True):
            row[f"objective:{o.label}"] = v
        for c, v in zip(problem.constraints, violations, strict=False):
            row[f"constraint:{c.text}"] = v
        feasible = t.state == TrialState.COMPLETE and all(v <= 0 for v in violations)
        row["feasible"] = feasible
        row["violation"] = float(sum(max(v, 0.0) for v in violations)) if t.state == TrialState.COMPLETE else None
        row["runs"] = t.user_attrs.get("ran", 0)
        if feasible:
            best = max(best, sign * t.values[0])
        row["best_so_far"] = sign * best if math.isfinite(best) else None
        row.update(t.user_attrs.get("kpis", {}))
        row["error"] = t.user_attrs.get("error")
        rows.append(row)
    return pd.DataFrame(rows)


# -- importance and the binding constraint ------------------------------------------------------
def importance(problem: OptimizationProblem, study) -> dict[str, float]:
    """Each lever's share of the primary objective's variance over the trials (Optuna's fANOVA,
    or PED-ANOVA where fANOVA's scikit-learn is missing); a simplex sums its parts."""
    import optuna

    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len(done) < 4 or len({canonical_json(t.params) for t in done}) < 3:
        return {}
    try:
        import sklearn  # noqa: F401

        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    except ImportError:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = optuna.importance.get_param_importances(study, evaluator=evaluator, target=lambda t: t.values[0])
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    out: dict[str, float] = {}
    for var in problem.variables:
        names = part_names(var) if var.kind == "simplex" else [var.name]
        out[var.name] = float(sum(raw.get(n, 0.0) for n in names))
    total = sum(out.values())
    return {k: v / total for k, v in out.items()} if total > 0 else out


def binding(problem: OptimizationProblem, confirmation: Confirmation) -> dict | None:
    """The constraint nearest its bound at the chosen plan (in confirmation), and whether it binds."""
    runs = confirmation.runs[confirmation.chosen]
    if not problem.constraints or not runs.ok:
        return None
    means = runs.means()
    slack = [(-c.violation(means[c.kpi]), c) for c in problem.constraints]
    s, c = min(slack, key=lambda x: x[0])
    return {
        "constraint": c.text,
        "kpi": c.kpi,
        "value": means[c.kpi],
        "bound": c.bound,
        "slack": s,
        "binds": bool(abs(s) <= BINDING_SLACK),
    }


# -- optimization.json --------------------------------------------------------------------------
def _summary(problem: OptimizationProblem, runs) -> dict:
    if not runs.ok:
        return {"error": runs.error}
    kpis = {}
    for kpi in dict.fromkeys([*problem.kpis, "profit", "revenue", "cost", "rep_utilization"]):
        mean, low, high = _ci(runs.kpis[kpi])
        kpis[kpi] = {"mean": mean, "ci95": [low, high]}
    return {"scores": runs.scores, "violations": runs.violations, "feasible": runs.feasible, "kpis": kpis}


def _ci(values) -> tuple[float, float, float]:
    from funnelsim.experiment.statistics import mean_ci

    return mean_ci(np.asarray(values, dtype=float))


def document(outcome: Outcome) -> dict:
    p, c = outcome.problem, outcome.confirmation
    complete = [t for t in outcome.trials if t.state == TrialState.COMPLETE]
    return {
        "problem": {
            "file": p.file,
            "name": p.name,
            "base": p.base_file,
            "variables": [v.describe() for v in p.variables],
            "objectives": [{"kpi": o.kpi, "direction": o.direction, "statistic": o.statistic} for o in p.objectives],
            "constraints": [x.text for x in p.constraints],
            "replications": p.replications,
            "seed": outcome.seed,
        },
        "search": {
            "sampler": "TPE" if len(p.objectives) == 1 else "NSGA-II",
            "trials": len(outcome.trials),
            "complete": len(complete),
            "failed": sum(t.state == TrialState.FAIL for t in outcome.trials),
            "feasible": sum(all(v <= 0 for v in t.user_attrs.get("constraints", [])) for t in complete),
            "runs": outcome.runs_search,
            "overhead_seconds": outcome.overhead_seconds,
        },
        "confirmation": {
            "replications": c.replications,
            "runs": c.replications * sum(r.ok for r in c.runs),
            "plans": [
                {"label": cand.label, "trial": cand.trial, "plan": cand.plan, **_summary(p, runs)}
                for cand, runs in zip(c.candidates, c.runs, strict=True)
            ],
        },
        "status": c.status,
        "recommendation": {
            "label": c.candidates[c.chosen].label,
            "trial": c.candidates[c.chosen].trial,
            "plan": c.candidates[c.chosen].plan,
            "is_current_plan": c.chosen == c.base,
        },
        "runner_up": None if c.runner_up is None else c.candidates[c.runner_up].label,
        "vs_current": [d.document() for d in c.vs_base],
        "vs_runner_up": [d.document() for d in c.vs_runner_up],
        "distinguishable_from_runner_up": c.distinguishable,
        "binding_constraint": binding(p, c),
        "importance": outcome.importance,
    }


def write_outcome(outcome: Outcome, out: Path, note: str) -> None:
    """best.yaml, trials.parquet, optimization.json; the report is written by the report module."""
    from funnelsim.report.tables import dumps

    out.mkdir(parents=True, exist_ok=True)
    (out / "best.yaml").write_text(best_yaml(outcome.problem, outcome.chosen_plan, out, note))
    trials_table(outcome.problem, outcome.trials).to_parquet(out / "trials.parquet", index=False)
    (out / "optimization.json").write_text(dumps(document(outcome)))
