"""Load scenario files: YAML 1.2, `extends`, `variants` and `--set` overrides, validated once.

Every failure, from a missing file to a bad value three `extends` deep, becomes a
`ScenarioError` whose problems point at the file and line where the value was typed.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.merge import merge, normalise
from funnelsim.scenario.messages import problems_from, show
from funnelsim.scenario.overrides import SET, Override, apply_override, parse_overrides
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import FieldPath, Loc, Source, format_path, read_yaml_file

__all__ = ["assumptions_block", "load_scenario", "load_variants", "variant_names"]

ASSUMPTIONS = "assumptions"  # a comparison's alternative assumption sets (funnelsim.experiment.assumptions)


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = (), variant: str | None = None) -> Scenario:
    """Load and validate one scenario, applying `--set` overrides.

    `variant` picks one strategy of a file with `variants:` (the others are not validated); a
    name the file lacks is a ScenarioError listing the names it has. Without `variant`, a file
    with `variants:` yields its base: the file without the `variants` key, which is none of the
    strategies (`funnelsim run` refuses to guess; see `variant_names` and `load_variants`).
    """
    if variant is not None:
        return load_variants(path, overrides, only=variant)[variant]
    source = _resolve(Path(path), os.fspath(path), ())
    base = _without(_without(source, "variants"), ASSUMPTIONS)
    ovs, problems = parse_overrides(overrides, Scenario)
    scenario, found = _validate(base, ovs)
    problems += found
    if problems or scenario is None:
        raise ScenarioError(_ordered(problems))
    return scenario


def variant_names(path: str | os.PathLike[str]) -> list[str]:
    """Names of the file's variants (its own and those it inherits), in order; [] if it has none."""
    variants = _resolve(Path(path), os.fspath(path), ()).data.get("variants")
    return [str(k) for k in variants] if isinstance(variants, dict) else []


def load_variants(
    path: str | os.PathLike[str], overrides: Sequence[str] = (), only: str | None = None
) -> dict[str, Scenario]:
    """Load every variant of a file as its own Scenario, keyed by variant name.

    Each variant's mapping is merged over the base (`merge`: named lists by name); a variant
    that does not set `name` is named after its key. A file without `variants:` gives
    `{scenario.name: scenario}`. Overrides apply to every variant, after the variant's own
    changes. `only` loads that one variant alone (an error if the file has no such variant).
    """
    source = _without(_resolve(Path(path), os.fspath(path), ()), ASSUMPTIONS)
    ovs, problems = parse_overrides(overrides, Scenario)
    if only is not None:
        missing = _missing_variant(source, only, os.fspath(path))
        if missing is not None:
            raise ScenarioError([*problems, missing])
    if "variants" not in source.data:
        scenario, found = _validate(source, ovs)
        if problems or found or scenario is None:
            raise ScenarioError(_ordered(problems + found))
        return {scenario.name: scenario}

    variants = source.data["variants"]
    vloc = source.locs[("variants",)]
    if not isinstance(variants, dict) or not variants:
        msg = f"expected a mapping of variant name to the fields it changes, got {show(variants)}"
        raise ScenarioError([*problems, Problem(vloc.file, vloc.line, "variants", msg)])

    base = _without(source, "variants")
    results: dict[str, Scenario] = {}
    shared: dict[Problem, None] = {}  # problems located outside the variants: the file's own, shown once
    for name, body in variants.items():
        if only is not None and name != only:
            continue
        prefix: FieldPath = ("variants", name)
        bloc = source.locs.get(prefix, vloc)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            msg = f"expected a mapping of the fields this variant changes, got {show(body)}"
            problems.append(Problem(bloc.file, bloc.line, format_path(prefix), msg))
            continue
        locs = {p[2:]: loc for p, loc in source.locs.items() if p[:2] == prefix and len(p) > 2}
        misplaced = [k for k in ("extends", "variants", ASSUMPTIONS) if k in body]
        for key in misplaced:
            loc = locs[(key,)]
            msg = f"{key!r} is only allowed at the top level of a file, not inside a variant"
            problems.append(Problem(loc.file, loc.line, format_path((*prefix, key)), msg))
        if misplaced:
            continue
        try:
            merged = merge(base, Source(body, locs))
        except ScenarioError as exc:
            problems += [replace(p, path=f"{format_path(prefix)} -> {p.path}") for p in exc.problems]
            continue
        if "name" not in body:
            merged.data["name"] = name
        scenario, found = _validate(merged, ovs)
        own = {(loc.file, loc.line) for loc in locs.values()}
        for p in found:
            if (p.file, p.line) in own:
                problems.append(replace(p, path=f"{format_path(prefix)} -> {p.path}"))
            else:
                shared.setdefault(p, None)
        if scenario is not None:
            results[name] = scenario
    problems += shared
    if problems:
        raise ScenarioError(_ordered(problems))
    return results


def assumptions_block(path: str | os.PathLike[str]) -> Source | None:
    """The file's `assumptions:` block (merged through `extends`) with the line of every value, or
    None; `funnelsim.experiment.assumptions.file_sets` reads and checks it."""
    source = _resolve(Path(path), os.fspath(path), ())
    if ASSUMPTIONS not in source.data:
        return None
    n = 1
    locs = {p[n:]: loc for p, loc in source.locs.items() if p[:n] == (ASSUMPTIONS,)}
    return Source(source.data[ASSUMPTIONS], locs)


def _missing_variant(source: Source, name: str, display: str) -> Problem | None:
    variants = source.data.get("variants")
    if isinstance(variants, dict) and name in variants:
        return None
    if not isinstance(variants, dict) or not variants:
        loc = source.locs.get(("variants",), Loc(display, None))
        return Problem(loc.file, loc.line, "", f"no variant {name!r}: this file has no variants")
    loc = source.locs[("variants",)]
    close = difflib.get_close_matches(name, [str(k) for k in variants], n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listing = ", ".join(str(k) for k in variants)
    return Problem(loc.file, loc.line, "variants", f"no variant {name!r}; the file has: {listing}{hint}")


def _resolve(path: Path, display: str, chain: tuple[tuple[Path, str], ...]) -> Source:
    """Read `path` and everything it `extends`, merged base-first."""
    source = read_yaml_file(path, display)
    if "extends" not in source.data:
        return normalise(source)
    target = source.data["extends"]
    loc = source.locs[("extends",)]
    source = _without(source, "extends")

    def fail(message: str) -> ScenarioError:
        return ScenarioError([Problem(loc.file, loc.line, "extends", message)])

    if not isinstance(target, str) or not target.strip():
        raise fail(f"expected the path of the scenario file to build on, got {show(target)}")
    base_path = path.parent / target
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), target))
    try:
        here = (path.resolve(), display)
        real = base_path.resolve()
        is_file, exists = base_path.is_file(), base_path.exists()
    except (OSError, RuntimeError, ValueError) as exc:
        raise fail(f"cannot use {target!r} as a path: {exc}") from None
    seen = [*chain, here]
    if any(real == p for p, _ in seen):
        start = next(i for i, (p, _) in enumerate(seen) if p == real)
        names = [d for _, d in seen[start:]] + [base_display]
        raise fail(f"extends cycle: {' -> '.join(names)}")
    if not exists:
        raise fail(f"cannot find {target!r} (looked for {base_display})")
    if not is_file:
        raise fail(f"{target!r} is not a file ({base_display})")
    try:
        base = _resolve(base_path, base_display, tuple(seen))
    except ScenarioError as exc:
        # Keep the base's own locations, and say which line pulled it in.
        context = Problem(loc.file, loc.line, "extends", f"{target!r} could not be loaded")
        raise ScenarioError([context, *exc.problems]) from None
    return merge(base, source)


def _without(source: Source, key: str) -> Source:
    data = {k: v for k, v in source.data.items() if k != key}
    locs = {p: loc for p, loc in source.locs.items() if not (p and p[0] == key)}
    return Source(data, locs)


def _non_finite(value: Any, path: FieldPath = ()) -> list[tuple[FieldPath, float]]:
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, value)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_finite(v, (*path, i))]
    return []


def _why_not(value: float) -> str:
    if math.isnan(value):
        return "got .nan (not-a-number is never a valid value)"
    sign = "-" if value < 0 else ""
    return f"got {sign}.inf (infinity is never a valid value; leave an optional bound out for none)"


def _validate(source: Source, overrides: list[Override]) -> tuple[Scenario | None, list[Problem]]:
    """Apply overrides to a copy of `source` and validate it, collecting every problem."""
    source = Source(copy.deepcopy(source.data), dict(source.locs))
    problems = [p for ov in overrides if (p := apply_override(source, ov)) is not None]
    scenario = None
    try:
        scenario = Scenario.model_validate(source.data)
    except ValidationError as exc:
        problems += problems_from(exc.errors(include_url=False), source, Scenario)
    reported = {p.path for p in problems}
    for path, value in _non_finite(source.data):
        if format_path(path) not in reported:
            loc = source.where(path) or Loc("<scenario>", None)
            note = f" (in --set {loc.note!r})" if loc.note else ""
            kind = "a number" if math.isnan(value) else "a finite number"
            msg = f"expected {kind}, {_why_not(value)}{note}"
            problems.append(Problem(loc.file, loc.line, format_path(path), msg))
    return (None if problems else scenario), _ordered(problems)


def _ordered(problems: list[Problem]) -> list[Problem]:
    """File by file (first mentioned first, `--set` last), in line order: the order a reader fixes them.

    A missing field comes after the file's unknown fields, wherever they are: a misspelt key
    (`extend:`) is often why another field is missing, so the real cause leads.
    """
    rank: dict[str, int] = {}
    last_unknown: dict[str, int] = {}
    for p in problems:
        rank.setdefault(p.file, len(rank))
        if p.message.startswith("unknown field"):
            last_unknown[p.file] = max(last_unknown.get(p.file, 0), p.line or 0)

    def key(p: Problem) -> tuple:
        missing = p.message.startswith("required field is missing")
        line = max(p.line or 0, last_unknown.get(p.file, 0)) if missing else p.line or 0
        return (p.file == SET, rank[p.file], line, missing)

    return sorted(problems, key=key)
