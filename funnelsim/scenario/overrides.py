"""`--set path=value` overrides: parsed as YAML 1.2 and validated exactly like file values.

An override may name a field the file left out (it is created), but not one the schema lacks,
and list items must already exist; `[*]` stands for every item of a list
(`marketing.channels[*].targeting=0.6`). Values it sets are located at `--set` so that validation
errors quote the override rather than a line of the file.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_origin

from pydantic import BaseModel

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.messages import allowed_keys, child_type
from funnelsim.scenario.yamlsource import EVERY, FieldPath, Loc, Source, format_path, parse_yaml

SET = "--set"
_SEGMENT = re.compile(r"([^.\[\]\s=]+)((?:\[(?:\d+|\*)\])*)")


@dataclass(frozen=True)
class Override:
    """A value to set at a field path; `at` is where it was typed when that is a file, not `--set`."""

    text: str
    path: FieldPath
    value: Any
    at: Loc | None = None

    @property
    def loc(self) -> Loc:
        return self.at or Loc(SET, None, self.text)


def _problem(text: str, path: str, message: str) -> Problem:
    return Problem(SET, None, path, f"{message} (in --set {text!r})")


def _failed(ov: Override, path: str, message: str) -> Problem:
    if ov.at is not None:
        return Problem(ov.at.file, ov.at.line, path, message)
    return _problem(ov.text, path, message)


def parse_path(spec: str) -> FieldPath | None:
    """'sales.teams[0].reps' -> ('sales', 'teams', 0, 'reps'); `[*]` gives EVERY. None if malformed."""
    out: list[str | int] = []
    for part in spec.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            return None
        out.append(m.group(1))
        out.extend(EVERY if i == "*" else int(i) for i in re.findall(r"\[(\d+|\*)\]", m.group(2)))
    return tuple(out)


def expand(data: Any, path: FieldPath) -> tuple[list[FieldPath], str | None]:
    """The concrete paths `path` names in `data` (each `[*]` becomes every index), or why none."""
    paths: list[FieldPath] = [()]
    for key in path:
        if key != EVERY:
            paths = [(*p, key) for p in paths]
            continue
        out = []
        for p in paths:
            cur = _get(data, p)
            where = format_path(p)
            if cur is None:
                return [], f"{where} is not set here, so [*] matches nothing"
            if not isinstance(cur, list):
                return [], f"{where} is not a list here, so [*] does not apply"
            if not cur:
                return [], f"{where} has no items, so {format_path(path)} sets nothing"
            out += [(*p, i) for i in range(len(cur))]
        paths = out
    return paths, None


def _get(data: Any, path: FieldPath) -> Any:
    for key in path:
        in_list = isinstance(key, int) and isinstance(data, list) and 0 <= key < len(data)
        if not (in_list or (isinstance(key, str) and isinstance(data, dict) and key in data)):
            return None
        data = data[key]
    return data


def parse_overrides(texts: Sequence[str], root: type[BaseModel]) -> tuple[list[Override], list[Problem]]:
    """Parse every override, collecting all problems rather than stopping at the first."""
    if texts is None:
        texts = ()
    elif isinstance(texts, str):
        texts = [texts]
    done: list[Override] = []
    problems: list[Problem] = []
    for text in texts:
        if not isinstance(text, str) or "=" not in text:
            problems.append(_problem(str(text), "", "expected PATH=VALUE, e.g. sales.teams[0].reps=12"))
            continue
        spec, raw = text.split("=", 1)
        path = parse_path(spec.strip())
        if path is None:
            msg = f"malformed field path {spec.strip()!r}; expected names joined by '.', list items as [i] or [*]"
            problems.append(_problem(text, "", msg))
            continue
        bad = check_path(path, root)
        if bad:
            problems.append(_problem(text, format_path(path), bad))
            continue
        try:
            source, _ = parse_yaml(raw, SET)
        except ScenarioError as exc:
            reason = "; ".join(p.message for p in exc.problems)
            problems.append(_problem(text, format_path(path), f"cannot read value {raw!r}: {reason}"))
            continue
        done.append(Override(text, path, source.data))
    return done, problems


def check_path(path: FieldPath, root: type[BaseModel]) -> str | None:
    """Why `path` names no field of the schema (None if it does)."""
    tp: Any = root
    for n, key in enumerate(path):
        sub = child_type(tp, 0 if key == EVERY and get_origin(tp) is list else key)
        if sub is None:
            where = format_path(path[:n]) or "the top level"
            if isinstance(key, int) or key == EVERY:
                return f"{where} is not a list, so {format_path((key,))} does not apply"
            if get_origin(tp) is list:
                return f"{where} is a list; pick an item first, e.g. {where}[0].{key}"
            allowed = allowed_keys(tp, None, at_root=False)
            if not allowed:
                return f"{where} holds a single value, it has no field {key!r}"
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
            return f"unknown field {key!r} in {where}{listing}{hint}"
        tp = sub
    return None


def apply_override(source: Source, ov: Override) -> Problem | None:
    """Set `ov.value` at `ov.path` inside `source` (in place), creating missing mappings."""
    if EVERY in ov.path:
        paths, why = expand(source.data, ov.path)
        if why:
            return _failed(ov, format_path(ov.path), why)
        for path in paths:
            problem = apply_override(source, Override(ov.text, path, copy.deepcopy(ov.value), ov.at))
            if problem is not None:
                return problem
        return None
    cur = source.data
    for n, key in enumerate(ov.path):
        here = format_path(ov.path[:n]) or "the top level"
        last = n == len(ov.path) - 1
        if isinstance(key, int):
            if not isinstance(cur, list):
                return _failed(ov, format_path(ov.path), f"{here} is not a list here")
            if not 0 <= key < len(cur):
                return _failed(ov, format_path(ov.path), f"index {key} is out of range ({here} has {len(cur)} item(s))")
        elif not isinstance(cur, dict):
            return _failed(ov, format_path(ov.path), f"{here} is not a mapping here")
        elif key not in cur and not last:
            cur[key] = {}
            source.locs[ov.path[: n + 1]] = ov.loc
        if last:
            cur[key] = ov.value
        else:
            cur = cur[key]
    prefix = ov.path
    for p in [p for p in source.locs if p[: len(prefix)] == prefix]:
        del source.locs[p]
    source.locs[prefix] = ov.loc
    return None
