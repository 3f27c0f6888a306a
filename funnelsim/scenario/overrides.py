"""`--set path=value` overrides: parsed as YAML 1.2 and validated exactly like file values.

An override may name a field the file left out (it is created), but not one the schema lacks,
and list items must already exist. Values it sets are located at `--set` so that validation
errors quote the override rather than a line of the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_origin

from pydantic import BaseModel

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.messages import allowed_keys, child_type
from funnelsim.scenario.yamlsource import FieldPath, Loc, Source, format_path, parse_yaml

SET = "--set"
_SEGMENT = re.compile(r"([^.\[\]\s=]+)((?:\[\d+\])*)")


@dataclass(frozen=True)
class Override:
    text: str
    path: FieldPath
    value: Any

    @property
    def loc(self) -> Loc:
        return Loc(SET, None, self.text)


def _problem(text: str, path: str, message: str) -> Problem:
    return Problem(SET, None, path, f"{message} (in --set {text!r})")


def parse_path(spec: str) -> FieldPath | None:
    """'sales.teams[0].reps' -> ('sales', 'teams', 0, 'reps'); None if malformed."""
    out: list[str | int] = []
    for part in spec.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            return None
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tuple(out)


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
            msg = f"malformed field path {spec.strip()!r}; expected names joined by '.', list items as [i]"
            problems.append(_problem(text, "", msg))
            continue
        bad = _check_schema(path, root)
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


def _check_schema(path: FieldPath, root: type[BaseModel]) -> str | None:
    """Why `path` names no field of the schema (None if it does)."""
    tp: Any = root
    for n, key in enumerate(path):
        sub = child_type(tp, key)
        if sub is None:
            where = format_path(path[:n]) or "the top level"
            if isinstance(key, int):
                return f"{where} is not a list, so [{key}] does not apply"
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
    cur = source.data
    for n, key in enumerate(ov.path):
        here = format_path(ov.path[:n]) or "the top level"
        last = n == len(ov.path) - 1
        if isinstance(key, int):
            if not isinstance(cur, list):
                return _problem(ov.text, format_path(ov.path), f"{here} is not a list here")
            if not 0 <= key < len(cur):
                return _problem(
                    ov.text, format_path(ov.path), f"index {key} is out of range ({here} has {len(cur)} item(s))"
                )
        elif not isinstance(cur, dict):
            return _problem(ov.text, format_path(ov.path), f"{here} is not a mapping here")
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
