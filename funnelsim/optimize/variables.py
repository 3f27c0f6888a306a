"""A plan: one value per lever, asked of an Optuna trial and set into the base scenario.

A plan is computed from the trial's parameters alone (`plan_from_params`), so a trial left
unfinished by a killed process gives the same plan when a later process evaluates it.
A simplex draws one uniform per part; the parts' exponentials, normalised, are uniform on the
simplex, and each part is that share of the total.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from funnelsim.experiment.parameters import set_value
from funnelsim.optimize.problem import OptimizationProblem, Variable
from funnelsim.scenario.overrides import _get
from funnelsim.scenario.yamlsource import format_path

Plan = dict[str, Any]


def part_names(var: Variable) -> list[str]:
    """Names of a simplex's parts in trial parameters and table columns: `split[paid_search]`..."""
    return [f"{var.name}[{_part_label(p, i)}]" for i, p in enumerate(var.paths)]


def _part_label(path, i: int) -> str:
    text = format_path(path)
    return text if len(text) <= 40 else str(i)


def suggest(trial, problem: OptimizationProblem) -> Plan:
    """Ask the trial for a value of every lever (the sampler chooses), then read the plan back."""
    for var in problem.variables:
        if var.kind == "int":
            trial.suggest_int(var.name, int(var.low), int(var.high), step=var.step or 1, log=var.log)
        elif var.kind == "float":
            trial.suggest_float(var.name, var.low, var.high, step=var.step, log=var.log)
        elif var.kind == "categorical":
            trial.suggest_categorical(var.name, list(var.values))
        else:
            for name in part_names(var):
                trial.suggest_float(name, 0.0, 1.0)
    return plan_from_params(problem, trial.params)


def plan_from_params(problem: OptimizationProblem, params: dict[str, Any]) -> Plan:
    plan: Plan = {}
    for var in problem.variables:
        if var.kind != "simplex":
            plan[var.name] = params[var.name]
            continue
        weights = [-math.log(max(1.0 - params[n], 1e-12)) for n in part_names(var)]
        total = sum(weights)
        shares = [w / total if total > 0 else 1.0 / len(weights) for w in weights]
        plan[var.name] = simplex_values(var, shares)
    return plan


def simplex_values(var: Variable, shares: list[float]) -> list[float | int]:
    """Each part's share of the total; whole-number parts rounded so the total is kept."""
    raw = [s * var.total for s in shares]
    if not any(var.whole):
        return [round(x, 6) for x in raw]
    out: list[float | int] = [int(math.floor(x)) if w else round(x, 6) for x, w in zip(raw, var.whole, strict=True)]
    short = round(var.total - sum(out))
    order = sorted((i for i, w in enumerate(var.whole) if w), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    for i in order[: max(short, 0)]:
        out[i] += 1
    return out


def apply_plan(base_doc: dict, variables, plan: Plan) -> dict:
    """A copy of the base document with the plan's values at their field paths."""
    doc = copy.deepcopy(base_doc)
    for var in variables:
        value = plan[var.name]
        if var.kind == "simplex":
            for path, part in zip(var.paths, value, strict=True):
                set_value(doc, path, part)
        else:
            for path in var.paths:
                set_value(doc, path, value)
    return doc


def base_plan(problem: OptimizationProblem) -> Plan:
    """The current plan: each lever's value in the base scenario (the first path of a group)."""
    plan: Plan = {}
    for var in problem.variables:
        if var.kind == "simplex":
            plan[var.name] = [_get(problem.base_doc, p) for p in var.paths]
        else:
            plan[var.name] = _get(problem.base_doc, var.paths[0])
    return plan


def flat(problem: OptimizationProblem, plan: Plan) -> dict[str, Any]:
    """One column per lever (a simplex: one per part), for tables."""
    out: dict[str, Any] = {}
    for var in problem.variables:
        if var.kind == "simplex":
            out.update(zip(part_names(var), plan[var.name], strict=True))
        else:
            out[var.name] = plan[var.name]
    return out
