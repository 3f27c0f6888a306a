"""An optimisation file: the base plan, the levers it may move, what to maximise, what must hold.

Read and checked like a sweep file (`experiment/sweepfile.py`, whose checker it reuses): every
problem names the file and line, unknown fields and field paths are refused with a suggestion, and
both ends of every lever are validated against the base scenario, all before any run.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from funnelsim.experiment.parameters import Scalar, canonical_json, digest, set_value
from funnelsim.experiment.sweepfile import Checker, read_spec_file, top_level_problems
from funnelsim.results.registry import KPI_NAMES
from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.loader import load_scenario, variant_names
from funnelsim.scenario.messages import problems_from, show
from funnelsim.scenario.yamlsource import FieldPath, Loc, format_path

KINDS = ("int", "float", "categorical", "simplex")
STATISTICS = {"mean": None, "p10": 0.1, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p90": 0.9}
# columns of trials.parquet that are not levers
RESERVED = ("trial", "state", "feasible", "violation", "error", "seconds", *KPI_NAMES)
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*([-+0-9.eE_]+)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class VariableSpec(_Strict):
    """One lever: a field path (or several set alike; a simplex's parts), its kind and its bounds."""

    path: str | Annotated[list[str], Field(min_length=1)]
    name: str | None = None
    kind: Literal["int", "float", "categorical", "simplex"] | None = None
    range: tuple[float, float] | None = None
    values: Annotated[list[Scalar], Field(min_length=2)] | None = None
    step: Annotated[float, Field(gt=0)] | None = None
    log: bool = False
    total: Annotated[float, Field(gt=0)] | None = None


class ObjectiveSpec(_Strict):
    """A KPI to maximise or minimise, as a statistic over a trial's replications."""

    kpi: str
    direction: Literal["maximize", "minimize"] = "maximize"
    statistic: Literal["mean", "p10", "p25", "p50", "p75", "p90"] = "mean"


class ConfirmSpec(_Strict):
    """The final check: the best `top_k` plans and the base re-run with many more replications."""

    top_k: Annotated[int, Field(ge=1)] = 3
    replications: Annotated[int, Field(ge=2)] = 30


class OptimizationSpec(_Strict):
    """The optimisation file as written."""

    name: str = "optimization"
    description: str = ""
    base: str
    variant: str | None = None
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")
    variables: Annotated[list[VariableSpec], Field(min_length=1)]
    objectives: Annotated[list[ObjectiveSpec], Field(min_length=1)]
    constraints: list[str] = Field(default_factory=list)
    replications: Annotated[int, Field(ge=1)] = 5
    trials: Annotated[int, Field(ge=1)] = 60
    batch: Annotated[int, Field(ge=1)] = 4
    seed: Annotated[int, Field(ge=0)] = 0
    confirm: ConfirmSpec = ConfirmSpec()


@dataclass(frozen=True)
class Variable:
    """A checked lever. `paths` are set alike, except for a simplex: one path per part."""

    name: str
    kind: str
    paths: tuple[FieldPath, ...]
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    values: tuple[Scalar, ...] | None = None
    total: float | None = None
    whole: tuple[bool, ...] = ()  # simplex: which parts are whole numbers

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "paths": [format_path(p) for p in self.paths]}
        if self.values is not None:
            out["values"] = list(self.values)
        elif self.kind == "simplex":
            out["total"] = self.total
        else:
            out.update(low=self.low, high=self.high, step=self.step, log=self.log)
        return out


@dataclass(frozen=True)
class Objective:
    kpi: str
    direction: str
    statistic: str

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def label(self) -> str:
        return self.kpi if self.statistic == "mean" else f"{self.statistic}({self.kpi})"


@dataclass(frozen=True)
class Constraint:
    """`kpi op bound` on the mean over a plan's replications; `violation` <= 0 means it holds."""

    kpi: str
    op: str
    bound: float

    @property
    def text(self) -> str:
        return f"{self.kpi} {self.op} {self.bound:g}"

    def violation(self, value: float) -> float:
        """How far `value` is on the wrong side, relative to the bound (so constraints add up)."""
        if value is None or math.isnan(value):
            return math.inf
        scale = abs(self.bound) or 1.0
        return (value - self.bound) / scale if self.op in ("<=", "<") else (self.bound - value) / scale


@dataclass(frozen=True)
class OptimizationProblem:
    """A validated problem: the base plan as plain data, levers, objectives and constraints."""

    spec: OptimizationSpec
    file: str
    base_file: str
    base_has_variants: bool
    base_doc: dict[str, Any]
    fixed_paths: tuple[FieldPath, ...]
    variables: tuple[Variable, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    problem_hash: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def replications(self) -> int:
        return self.spec.replications

    @property
    def primary(self) -> Objective:
        return self.objectives[0]

    @property
    def kpis(self) -> tuple[str, ...]:
        """The KPIs the problem reads: objectives, then constraints, without repeats."""
        return tuple(dict.fromkeys([o.kpi for o in self.objectives] + [c.kpi for c in self.constraints]))


def parse_constraint(text: str) -> Constraint | str:
    """'rep_utilization <= 0.85' -> Constraint; a message saying what is wrong otherwise."""
    m = _CONSTRAINT.match(text)
    if m is None:
        return f"expected 'KPI <= number' or 'KPI >= number' (e.g. 'rep_utilization <= 0.85'), got {text!r}"
    kpi, op, number = m.groups()
    try:
        bound = float(number)
    except ValueError:
        return f"{number!r} is not a number"
    if kpi not in KPI_NAMES:
        return _unknown_kpi(kpi)
    return Constraint(kpi, op, bound)


def _unknown_kpi(kpi: str) -> str:
    close = difflib.get_close_matches(kpi, KPI_NAMES, n=1, cutoff=0.6)
    return f"unknown KPI {kpi!r}" + (
        f" (did you mean {close[0]!r}?)" if close else f"; known KPIs: {', '.join(KPI_NAMES)}"
    )


def load_problem(path: str | os.PathLike[str]) -> OptimizationProblem:
    """Read and validate an optimisation file; every problem found is raised in one ScenarioError."""
    display = os.fspath(path)
    source = read_spec_file(Path(path), display, "an optimisation", "'base', 'variables' and 'objectives'")
    problems = top_level_problems(source, display, OptimizationSpec)
    try:
        spec = OptimizationSpec.model_validate(source.data)
    except ValidationError as exc:
        problems += problems_from(exc.errors(include_url=False), source, OptimizationSpec)
        raise ScenarioError(problems) from None
    checker = _ProblemChecker(spec, source, display)
    objectives, constraints, found = checker.goals()
    problems += found
    base_path = Path(path).parent / spec.base
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), spec.base))
    if not base_path.exists():
        msg = f"cannot find {spec.base!r} (looked for {base_display})"
        raise ScenarioError([*problems, checker.problem(("base",), msg)])
    has_variants = bool(variant_names(base_path))
    if spec.variant is not None and spec.variant not in variant_names(base_path):
        names = ", ".join(variant_names(base_path)) or "none"
        problems.append(checker.problem(("variant",), f"{spec.base} has no variant {spec.variant!r} (it has: {names})"))
        raise ScenarioError(problems)
    scenario = load_scenario(base_path, variant=spec.variant)
    base_doc = scenario.model_dump(mode="json", by_alias=True)
    base_doc, found = checker.apply_fixed(base_doc)
    problems += found
    variables, found = checker.variables(base_doc)
    problems += found
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    fixed = tuple(p for text in spec.fixed for p, _ in checker.field_paths(text, ("set", text), base_doc)[0])
    return OptimizationProblem(
        spec=spec,
        file=display,
        base_file=base_display,
        base_has_variants=has_variants,
        base_doc=base_doc,
        fixed_paths=fixed,
        variables=tuple(variables),
        objectives=tuple(objectives),
        constraints=tuple(constraints),
        problem_hash=digest({"spec": spec.model_dump(mode="json", by_alias=True), "base": base_doc}),
    )


class _ProblemChecker(Checker):
    """The sweep file's checks of field paths and values, plus levers, objectives and constraints."""

    def goals(self) -> tuple[list[Objective], list[Constraint], list[Problem]]:
        problems, objectives, constraints = [], [], []
        seen: set[tuple[str, str]] = set()
        for i, o in enumerate(self.spec.objectives):
            if o.kpi not in KPI_NAMES:
                problems.append(self.problem(("objectives", i, "kpi"), _unknown_kpi(o.kpi)))
            elif (o.kpi, o.statistic) in seen:
                problems.append(self.problem(("objectives", i), f"{o.kpi} is already an objective"))
            else:
                seen.add((o.kpi, o.statistic))
                objectives.append(Objective(o.kpi, o.direction, o.statistic))
        for i, text in enumerate(self.spec.constraints):
            c = parse_constraint(text)
            if isinstance(c, str):
                problems.append(self.problem(("constraints", i), c))
            else:
                constraints.append(c)
        confirm = self.spec.confirm
        if confirm.replications < self.spec.replications:
            msg = f"confirmation needs at least the trials' {self.spec.replications} replications"
            problems.append(self.problem(("confirm", "replications"), msg))
        return objectives, constraints, problems

    def variables(self, base_doc: dict) -> tuple[list[Variable], list[Problem]]:
        problems: list[Problem] = []
        out: list[Variable] = []
        taken: dict[FieldPath, str] = {}  # a `set:` path may be a lever: `set` gives its current value
        names: dict[str, int] = {}
        for i, spec in enumerate(self.spec.variables):
            where = ("variables", i)
            texts = [spec.path] if isinstance(spec.path, str) else list(spec.path)
            paths, types, ok = [], [], True
            for k, text in enumerate(texts):
                at = (*where, "path") if isinstance(spec.path, str) else (*where, "path", k)
                found, bad = self.field_paths(text, at, base_doc)
                clash = next((p for p, _ in found if p in taken), None)
                if bad or clash:
                    problems.append(bad or self.problem(at, f"{format_path(clash)} is already set by {taken[clash]}"))
                    ok = False
                    continue
                for p, tp in found:
                    taken[p] = f"variables[{i}]"
                    paths.append(p)
                    types.append(tp)
            name = (spec.name or texts[0]).strip()
            if name in RESERVED:
                msg = f"name {name!r} is taken by a trials column; give the variable another 'name'"
                problems.append(self.problem((*where, "name" if spec.name else "path"), msg))
            elif name in names:
                problems.append(self.problem(where, f"two variables are named {name!r}; give one a 'name'"))
            names[name] = i
            if not ok:
                continue
            var, bad = self._variable(spec, name, tuple(paths), types, where, base_doc)
            if bad:
                problems += bad
            else:
                out.append(var)
        return out, problems

    def _variable(self, spec, name, paths, types, where, base_doc) -> tuple[Variable | None, list[Problem]]:
        kind = spec.kind or ("categorical" if spec.values is not None else None)
        if kind is None:
            kind = "int" if all(t is int for t in types) else "float"
        need = {"int": "range", "float": "range", "categorical": "values", "simplex": None}[kind]
        for key in ("range", "values"):
            if getattr(spec, key) is not None and key != need:
                return None, [self.problem((*where, key), f"'{key}' does not apply to a {kind} variable")]
        if need and getattr(spec, need) is None:
            return None, [self.problem(where, f"a {kind} variable needs '{need}'")]
        for key, applies in (("step", ("int", "float")), ("log", ("int", "float")), ("total", ("simplex",))):
            if getattr(spec, key) not in (None, False) and kind not in applies:
                return None, [self.problem((*where, key), f"'{key}' does not apply to a {kind} variable")]
        if kind == "simplex":
            return self._simplex(spec, name, paths, types, where, base_doc)
        if kind == "categorical":
            if len({canonical_json(v) for v in spec.values}) < len(spec.values):
                return None, [self.problem((*where, "values"), f"values repeat: {show(spec.values)}")]
            var = Variable(name, kind, paths, values=tuple(spec.values))
            return var, self._check(var, [(v, (*where, "values", k)) for k, v in enumerate(spec.values)], base_doc)
        low, high = spec.range
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            return None, [
                self.problem((*where, "range"), f"expected [low, high] with low < high, got {show(list(spec.range))}")
            ]
        if spec.log and low <= 0:
            return None, [self.problem((*where, "range"), f"a log scale needs low > 0 (got {show(low)})")]
        if kind == "int":
            low, high = math.ceil(low), math.floor(high)
            if low > high:
                return None, [self.problem((*where, "range"), f"{show(list(spec.range))} holds no whole number")]
            if spec.step is not None and not float(spec.step).is_integer():
                return None, [
                    self.problem((*where, "step"), f"an int variable needs a whole step (got {show(spec.step)})")
                ]
        step = None if spec.step is None else (int(spec.step) if kind == "int" else float(spec.step))
        if step is not None and spec.log:
            return None, [self.problem((*where, "step"), "'step' and 'log' cannot be used together")]
        var = Variable(name, kind, paths, low=low, high=high, step=step, log=spec.log)
        ends = [(v, (*where, "range")) for v in dict.fromkeys([low, high])]
        return var, self._check(var, ends, base_doc)

    def _simplex(self, spec, name, paths, types, where, base_doc) -> tuple[Variable | None, list[Problem]]:
        from funnelsim.scenario.overrides import _get

        if len(paths) < 2:
            return None, [self.problem((*where, "path"), "a simplex splits a total across at least 2 fields")]
        current = [_get(base_doc, p) for p in paths]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in current):
            return None, [self.problem((*where, "path"), f"a simplex splits numbers; the base has {show(current)}")]
        total = spec.total if spec.total is not None else float(sum(current))
        if total <= 0:
            return None, [self.problem((*where, "path"), "the parts add up to 0 in the base; give a 'total'")]
        var = Variable(name, "simplex", paths, total=total, whole=tuple(t is int for t in types))
        cases = [(tuple(total / len(paths) for _ in paths), (*where, "path"))]
        return var, self._check(var, cases, base_doc)

    def _check(self, var: Variable, cases, base_doc: dict) -> list[Problem]:
        """Each listed value, or both ends of a range, must make a valid scenario on its own."""
        from funnelsim.optimize.variables import apply_plan

        out: list[Problem] = []
        for value, where in cases:
            doc = apply_plan(base_doc, (var,), {var.name: value})
            locs = {p: Loc(self.file, self.line(where)) for p in var.paths}

            def phrase(p: Problem, where=where, value=value) -> Problem:
                target = f"{p.path} = {show(value)}: " if p.path else ""
                return Problem(self.file, self.line(where), format_path(where), f"{target}{p.message}")

            out += self._validate(doc, locs, phrase)
        return out


__all__ = ["OptimizationProblem", "Variable", "Objective", "Constraint", "load_problem", "set_value", "STATISTICS"]
