"""Reading a sweep file: YAML with line numbers, checked as thoroughly as a scenario.

Every problem names the file and line, unknown field paths are rejected with a suggestion, and
every value a parameter can take is validated against the base scenario, all before any run.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from funnelsim.experiment.parameters import (
    RESERVED,
    Parameter,
    ParameterSpec,
    Sweep,
    SweepSpec,
    apply_values,
    canonical_json,
    digest,
    set_value,
)
from funnelsim.results.registry import KPI_NAMES
from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.loader import load_scenario
from funnelsim.scenario.messages import allowed_keys, child_type, is_dist_union, problems_from, show
from funnelsim.scenario.overrides import expand, parse_path
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import FieldPath, Loc, Source, describe_type, format_path, parse_yaml


def read_spec_file(path: Path, display: str, what: str = "a sweep", keys: str = "'base' and 'parameters'") -> Source:
    """The YAML of a sweep (or optimisation) file with its lines; `what` and `keys` word the error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(display, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(display, None, "", f"is a directory, expected {what} file")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(display, None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            [Problem(display, line, "", f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None
    try:
        source, line = parse_yaml(text, display)
    except ScenarioError as err:
        raise ScenarioError([_flow_hint(p, text) for p in err.problems]) from None
    if not isinstance(source.data, dict):
        got = "nothing" if source.data is None else describe_type(source.data)
        msg = f"expected {what}: a mapping with at least {keys}, got {got}"
        raise ScenarioError([Problem(display, line, "", msg)])
    return source


def _flow_hint(problem: Problem, text: str) -> Problem:
    """A field path like a[0].b inside [...] or {...} is not plain YAML there: say to quote it."""
    lines = text.splitlines()
    line = lines[problem.line - 1] if problem.line and problem.line <= len(lines) else ""
    if "flow" in problem.message and re.search(r"\w\[(?:\d+|\*)\]", line):
        hint = "; inside [...] or {...} quote field paths that have list items, e.g. 'sales.teams[0].reps'"
        return replace(problem, message=problem.message + hint)
    return problem


def top_level_problems(source: Source, display: str, model: type = SweepSpec) -> list[Problem]:
    """Unknown top-level keys, with the allowed ones (pydantic's own list would add scenario keys)."""
    allowed = allowed_keys(model, None, at_root=False)
    out = []
    for key in list(source.data):
        if key not in allowed:
            loc = source.locs.get((key,))
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"unknown field {key!r}; allowed: {', '.join(allowed)}{hint}"
            out.append(Problem(display, loc.line if loc else None, str(key), msg))
            del source.data[key]
    return out


def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Read and validate a sweep file; every problem found is raised in one ScenarioError."""
    display = os.fspath(path)
    source = read_spec_file(Path(path), display)
    problems = top_level_problems(source, display)
    try:
        spec = SweepSpec.model_validate(source.data)
    except ValidationError as exc:
        problems += problems_from(exc.errors(include_url=False), source, SweepSpec)
        raise ScenarioError(problems) from None
    checker = Checker(spec, source, display)
    problems += checker.check_design()
    base_path = Path(path).parent / spec.base
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), spec.base))
    if not base_path.exists():
        line = checker.line(("base",))
        problems.append(Problem(display, line, "base", f"cannot find {spec.base!r} (looked for {base_display})"))
        raise ScenarioError(problems)
    scenario = load_scenario(base_path)
    base_doc = scenario.model_dump(mode="json", by_alias=True)
    base_doc, found = checker.apply_fixed(base_doc)
    problems += found
    params, found = checker.parameters(base_doc)
    problems += found
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: p.line or 0))
    kpis = tuple(spec.kpis) if spec.kpis else KPI_NAMES
    return Sweep(
        spec=spec,
        file=display,
        base_file=base_display,
        base_doc=base_doc,
        parameters=tuple(params),
        kpis=kpis,
        sweep_hash=digest(spec.model_dump(mode="json", by_alias=True)),
        base_hash=digest(base_doc),
    )


class Checker:
    """The checks pydantic cannot make alone: field paths, values against the base, the design."""

    def __init__(self, spec: SweepSpec, source: Source, display: str) -> None:
        self.spec = spec
        self.source = source
        self.file = display

    def line(self, path: FieldPath) -> int | None:
        loc = self.source.where(path)
        return loc.line if loc else None

    def problem(self, path: FieldPath, message: str) -> Problem:
        return Problem(self.file, self.line(path), format_path(path), message)

    def check_design(self) -> list[Problem]:
        spec, out = self.spec, []
        if spec.sampler == "grid":
            if spec.samples is not None:
                out.append(self.problem(("samples",), "a grid sweep runs every combination; remove 'samples'"))
            for i, p in enumerate(spec.parameters):
                if p.range is not None and p.steps is None:
                    msg = "a grid needs 'steps' (how many levels across the range) or a list of 'values'"
                    out.append(self.problem(("parameters", i, "range"), msg))
        else:
            if spec.samples is None:
                what = "the base sample count N (a power of 2)" if spec.sampler == "sobol" else "how many points"
                out.append(self.problem(("sampler",), f"the {spec.sampler} sampler needs 'samples': {what}"))
            elif spec.sampler == "sobol" and spec.samples & (spec.samples - 1):
                lower = 1 << (spec.samples.bit_length() - 1)
                msg = f"must be a power of 2 for Sobol sampling (got {spec.samples}; try {lower} or {lower * 2})"
                out.append(self.problem(("samples",), msg))
            for i, p in enumerate(spec.parameters):
                if p.steps is not None:
                    out.append(self.problem(("parameters", i, "steps"), "'steps' applies to grid sweeps only"))
        for i, p in enumerate(spec.parameters):
            where = ("parameters", i)
            if (p.values is None) == (p.range is None):
                out.append(self.problem(where, "give either 'values' (a list) or 'range' ([low, high]), not both"))
            if p.range is not None:
                low, high = p.range
                if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
                    out.append(
                        self.problem(
                            (*where, "range"), f"expected [low, high] with low < high, got {show(list(p.range))}"
                        )
                    )
                elif p.scale == "log" and low <= 0:
                    out.append(self.problem((*where, "range"), f"a log scale needs low > 0 (got {show(low)})"))
            elif p.scale == "log" or p.integer is not None:
                key = "scale" if p.scale == "log" else "integer"
                out.append(self.problem((*where, key), f"'{key}' applies to a 'range', not to a list of values"))
            if p.values is not None and len({canonical_json(v) for v in p.values}) < len(p.values):
                out.append(self.problem((*where, "values"), f"values repeat: {show(p.values)}"))
        for i, k in enumerate(spec.kpis or ()):
            if k not in KPI_NAMES:
                close = difflib.get_close_matches(k, KPI_NAMES, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else f"; known KPIs: {', '.join(KPI_NAMES)}"
                out.append(self.problem(("kpis", i), f"unknown KPI {k!r}{hint}"))
        return out

    # -- field paths ---------------------------------------------------------------------------
    def field_paths(
        self, text: str, where: FieldPath, base_doc: dict
    ) -> tuple[list[tuple[FieldPath, Any]], Problem | None]:
        """Parse a dotted path (`[*]`: every item) and check each value it names in the base scenario."""
        path = parse_path(text.strip())
        if path is None or not path:
            msg = f"malformed field path {text!r}; expected names joined by '.', list items as [i] or [*]"
            return [], self.problem(where, msg)
        paths, why = expand(base_doc, path)
        if why:
            return [], self.problem(where, why)
        found = []
        for concrete in paths:
            concrete, tp, bad = self._field_path(concrete, where, base_doc)
            if bad:
                return [], bad
            found.append((concrete, tp))
        return found, None

    def _field_path(
        self, path: FieldPath, where: FieldPath, base_doc: dict
    ) -> tuple[FieldPath | None, Any, Problem | None]:
        """Check that `path` names one value of the base scenario."""
        tp: Any = Scenario
        cur: Any = base_doc
        for n, key in enumerate(path):
            here = format_path(path[:n]) or "the top level"
            sub = child_type(tp, key, cur)
            if sub is None:
                if isinstance(key, int):
                    return None, None, self.problem(where, f"{here} is not a list, so [{key}] does not apply")
                allowed = allowed_keys(tp, cur, at_root=False)
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
                return None, None, self.problem(where, f"unknown field {key!r} in {here}{listing}{hint}")
            if isinstance(key, int):
                if not isinstance(cur, list) or not 0 <= key < len(cur):
                    size = len(cur) if isinstance(cur, list) else 0
                    msg = f"index {key} is out of range: {here} has {size} item(s) in the base scenario"
                    return None, None, self.problem(where, msg)
            elif not isinstance(cur, dict) or key not in cur:
                return None, None, self.problem(where, f"{format_path(path)} is not set in the base scenario")
            tp, cur = sub, cur[key]
        if isinstance(cur, list) or (isinstance(cur, dict) and not is_dist_union(tp)):
            msg = (
                f"{format_path(path)} is a group of fields; name one value inside it, e.g. {format_path(path)}.<field>"
            )
            return None, None, self.problem(where, msg)
        return path, tp, None

    def apply_fixed(self, base_doc: dict) -> tuple[dict, list[Problem]]:
        """Apply the `set:` values to the base, located at their lines in the sweep file."""
        doc = copy.deepcopy(base_doc)
        problems: list[Problem] = []
        locs: dict[FieldPath, Loc] = {}
        for text, value in self.spec.fixed.items():
            where = ("set", text)
            found, bad = self.field_paths(text, where, doc)
            if bad:
                problems.append(bad)
                continue
            for path, _ in found:
                set_value(doc, path, copy.deepcopy(value))
                locs[path] = Loc(self.file, self.line(where))
        if problems:
            return doc, problems
        problems += self._validate(doc, locs, lambda p: p)
        return doc, problems

    def _validate(self, doc: dict, locs: dict[FieldPath, Loc], phrase) -> list[Problem]:
        try:
            Scenario.model_validate(doc)
        except ValidationError as exc:
            found = problems_from(exc.errors(include_url=False), Source(doc, locs), Scenario)
            return [phrase(p) for p in found]
        return []

    # -- parameters ----------------------------------------------------------------------------
    def parameters(self, base_doc: dict) -> tuple[list[Parameter], list[Problem]]:
        problems: list[Problem] = []
        params: list[Parameter] = []
        seen_paths: dict[FieldPath, str] = {}
        for fixed in self.spec.fixed:
            p = parse_path(fixed.strip())
            for concrete in expand(base_doc, p)[0] if p else ():
                seen_paths[concrete] = "set"
        names: dict[str, int] = {}
        for i, spec in enumerate(self.spec.parameters):
            texts = [spec.path] if isinstance(spec.path, str) else list(spec.path)
            paths, types = [], []
            for k, text in enumerate(texts):
                where = ("parameters", i, "path") if isinstance(spec.path, str) else ("parameters", i, "path", k)
                found, bad = self.field_paths(text, where, base_doc)
                if bad:
                    problems.append(bad)
                    texts[k] = None
                    continue
                taken = [p for p, _ in found if p in seen_paths]
                if taken:
                    msg = f"{format_path(taken[0])} is already set by {seen_paths[taken[0]]}"
                    problems.append(self.problem(where, msg))
                    texts[k] = None
                    continue
                for path, tp in found:
                    seen_paths[path] = f"parameters[{i}]"
                    paths.append(path)
                    types.append(tp)
            name = spec.name or (spec.path if isinstance(spec.path, str) else spec.path[0]).strip()
            if name in RESERVED:
                msg = f"name {name!r} is taken by a results column; give the parameter another 'name'"
                problems.append(self.problem(("parameters", i, "name" if spec.name else "path"), msg))
            elif name in names:
                msg = f"two parameters are named {name!r} (parameters[{names[name]}] too); give one a 'name'"
                problems.append(self.problem(("parameters", i), msg))
            names[name] = i
            if None in texts or (spec.values is None) == (spec.range is None):
                continue
            kind, bad = self._kind(spec, types, ("parameters", i))
            if bad:
                problems.append(bad)
                continue
            param = self._resolve(spec, name, tuple(paths), kind)
            problems += self._check_values(param, spec, i, base_doc)
            params.append(param)
        return params, problems

    def _kind(self, spec: ParameterSpec, types: list[Any], where: FieldPath) -> tuple[str, Problem | None]:
        declared_int = any(t is int for t in types)
        if spec.range is not None:
            if spec.integer is not None:
                return ("int" if spec.integer else "float"), None
            return ("int" if declared_int else "float"), None
        values = spec.values
        if all(isinstance(v, bool) for v in values):
            return "bool", None
        if all(isinstance(v, str) for v in values):
            return "str", None
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            if declared_int or (all(isinstance(v, int) for v in values) and not any(t is float for t in types)):
                return "int", None
            return "float", None
        return "", self.problem(
            (*where, "values"), f"values must all be numbers, all text or all true/false, got {show(values)}"
        )

    def _resolve(self, spec: ParameterSpec, name: str, paths: tuple[FieldPath, ...], kind: str) -> Parameter:
        if spec.values is not None:
            values = spec.values
            if kind == "float":
                values = [float(v) for v in values]
            elif kind == "int":
                values = [int(v) if isinstance(v, int) or float(v).is_integer() else v for v in values]
            return Parameter(name, paths, kind, values=tuple(values))
        low, high = spec.range
        if kind == "int":
            low, high = math.ceil(low), math.floor(high)
        return Parameter(name, paths, kind, low=low, high=high, steps=spec.steps, scale=spec.scale)

    def _check_values(self, param: Parameter, spec: ParameterSpec, i: int, base_doc: dict) -> list[Problem]:
        """Every listed value, or both ends of a range, must make a valid scenario on its own."""
        if param.values is not None:
            cases = [(v, ("parameters", i, "values", k)) for k, v in enumerate(param.values)]
        else:
            if param.kind == "int" and param.low > param.high:
                return [self.problem(("parameters", i, "range"), f"{show(list(spec.range))} holds no whole number")]
            cases = [(v, ("parameters", i, "range")) for v in dict.fromkeys([param.low, param.high])]
        out: list[Problem] = []
        for value, where in cases:
            doc = apply_values(base_doc, [param.paths], (value,))
            line = self.line(where)
            locs = {p: Loc(self.file, line) for p in param.paths}

            def phrase(p: Problem, where=where, value=value) -> Problem:
                target = f"{p.path} = {show(value)}: " if p.path else ""
                return Problem(self.file, self.line(where), format_path(where), f"{target}{p.message}")

            out += self._validate(doc, locs, phrase)
        return out
