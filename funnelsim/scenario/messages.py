"""Turn pydantic's validation errors into `Problem`s a scenario author can act on.

Pydantic locations carry union tags (`fit.normal.sd`) and its messages speak Python
("Input should be greater than 0"); we walk the schema alongside the data to drop the tags,
look up the line each value was typed on, and phrase the message as expected-versus-found.
"""

from __future__ import annotations

import difflib
import math
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from funnelsim.scenario import distributions as dists
from funnelsim.scenario.errors import Problem
from funnelsim.scenario.yamlsource import FieldPath, Source, format_path

DIST_CLASSES: dict[str, type[BaseModel]] = {
    get_args(cls.model_fields["dist"].annotation)[0]: cls
    for cls in (
        dists.Constant,
        dists.Uniform,
        dists.Normal,
        dists.LogNormal,
        dists.Beta,
        dists.Exponential,
        dists.Triangular,
        dists.Gamma,
        dists.Empirical,
    )
}
LOADER_KEYS = ("extends", "variants", "assumptions")  # top-level keys the loader consumes itself


def unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional; a union of distributions is kept whole."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def is_dist_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and all(a in DIST_CLASSES.values() for a in get_args(tp))


def field_names(model: type[BaseModel]) -> list[str]:
    """Keys a user may write for `model` (aliases where they exist)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def child_type(tp: Any, key: str | int, data: Any = None) -> Any:
    """Type found at `key` inside a value of type `tp` (None when unknown)."""
    if is_dist_union(tp):
        chosen = DIST_CLASSES.get(data.get("dist")) if isinstance(data, dict) else None
        if chosen is None:
            # Form unknown: accept a key that any distribution has.
            found = [child_type(c, key) for c in DIST_CLASSES.values()]
            return next((f for f in found if f is not None), None)
        tp = chosen
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(key, str):
        for name, f in tp.model_fields.items():
            if key in (name, f.alias):
                return unwrap(f.annotation)
        return None
    origin = get_origin(tp)
    if origin is list and isinstance(key, int):
        return unwrap(get_args(tp)[0])
    if origin is tuple and isinstance(key, int):
        args = get_args(tp)
        return unwrap(args[key]) if 0 <= key < len(args) else None
    return None


def allowed_keys(tp: Any, data: Any, at_root: bool) -> list[str]:
    if is_dist_union(tp):
        chosen = DIST_CLASSES.get(data.get("dist")) if isinstance(data, dict) else None
        if chosen is not None:
            return field_names(chosen)
        return sorted({k for c in DIST_CLASSES.values() for k in field_names(c)})
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return field_names(tp) + (list(LOADER_KEYS) if at_root else [])
    return []


def _child(data: Any, key: str | int) -> Any:
    if isinstance(data, dict) and key in data:
        return data[key]
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return data[key]
    return None


def clean_loc(loc: tuple, data: Any, root: type[BaseModel]) -> tuple[FieldPath, Any, Any]:
    """Drop union/validator tags from a pydantic location.

    Returns the path as the user wrote it, plus the schema type and data of its parent.
    """
    path: list[str | int] = []
    tp: Any = root
    cur: Any = data
    parent_tp: Any = None
    parent: Any = None
    for part in loc:
        if isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue
        if isinstance(part, str) and is_dist_union(tp) and part in DIST_CLASSES:
            tp = DIST_CLASSES[part]
            continue
        parent_tp, parent = tp, cur
        tp = child_type(tp, part, cur)
        cur = _child(cur, part)
        path.append(part)
    return tuple(path), parent_tp, parent


def _key(k: Any) -> str:
    return k if isinstance(k, str) and k.isprintable() and k.strip() == k and k else repr(k)


def show(value: Any, limit: int = 60) -> str:
    """A value as the user would have typed it in YAML."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
    elif isinstance(value, int):
        text = str(value) if value.bit_length() < 200 else "a very large number"
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{_key(k)}: {show(v, limit)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _guess_form(value: Any) -> str:
    """Suggest the distribution whose parameters match the keys given without `dist`."""
    if not isinstance(value, dict) or not value:
        return ""
    keys = set(value)
    for tag, cls in DIST_CLASSES.items():
        names = set(field_names(cls)) - {"dist"}
        required = {f.alias or n for n, f in cls.model_fields.items() if f.is_required()} - {"dist"}
        if required <= keys <= names:
            return f" (add 'dist: {tag}'?)"
    return ""


def _num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return show(x)


def _suggest(word: Any, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


_WITHIN = re.compile(r"values must lie in \[(\S+), (\S+)\]")
_DIST_FORMS = ", ".join(DIST_CLASSES)
_SIMPLE = {
    "missing": "required field is missing",
    "float_type": "expected a number, got {got}",
    "float_parsing": "expected a number, got {got}",
    "int_type": "expected a whole number, got {got}",
    "int_parsing": "expected a whole number, got {got}",
    "int_from_float": "expected a whole number, got {got}",
    "int_parsing_size": "expected a whole number of sensible size, got {got}",
    "bool_type": "expected true or false, got {got}",
    "bool_parsing": "expected true or false, got {got}",
    "finite_number": "expected a finite number, got {got}",
    "list_type": "expected a list, got {got}",
    "tuple_type": "expected a list, got {got}",
    "model_type": "expected a mapping of fields, got {got}",
    "dict_type": "expected a mapping of fields, got {got}",
    "model_attributes_type": "expected a distribution (a number, or a mapping with 'dist'), got {got}",
    "greater_than": "must be greater than {gt} (got {got})",
    "greater_than_equal": "must be at least {ge} (got {got})",
    "less_than": "must be less than {lt} (got {got})",
    "less_than_equal": "must be at most {le} (got {got})",
    "too_short": "must have at least {min_length} item(s) (got {actual_length})",
    "too_long": "must have at most {max_length} item(s) (got {actual_length})",
}


def phrase(err: dict[str, Any], key: str | int | None, parent_tp: Any, parent: Any, at_root: bool) -> str:
    """Plain-language message for one pydantic error."""
    kind, value = err["type"], err.get("input")
    ctx = {k: _num(v) for k, v in (err.get("ctx") or {}).items() if not isinstance(v, Exception)}
    got = show(value)
    if kind == "extra_forbidden":
        allowed = allowed_keys(parent_tp, parent, at_root)
        listing = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown field {key!r}{listing}{_suggest(key, allowed)}"
    if kind == "missing" and isinstance(key, int):
        return f"item [{key}] is missing"
    if kind == "string_type":
        hint = " (put it in quotes to use it as text)" if isinstance(value, int | float) else ""
        return f"expected text, got {got}{hint}"
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", err["ctx"]["expected"])
        listing = ", ".join(repr(o) for o in options)
        return f"expected one of {listing} (got {got}){_suggest(value, options)}"
    if kind == "union_tag_invalid":
        tag = value["dist"] if isinstance(value, dict) and "dist" in value else err["ctx"]["tag"]
        return f"unknown distribution {show(tag)}; expected one of {_DIST_FORMS}{_suggest(tag, list(DIST_CLASSES))}"
    if kind == "union_tag_not_found":
        return f"a distribution needs a 'dist' key, one of {_DIST_FORMS} (got {got}){_guess_form(value)}"
    if kind in ("value_error", "assertion_error"):
        text = str(err["ctx"]["error"]) if "error" in (err.get("ctx") or {}) else err["msg"]
        m = _WITHIN.fullmatch(text.split(" (this ")[0])
        if m and isinstance(value, int | float) and not isinstance(value, bool):
            low, high = m.groups()
            if high == "inf":
                return f"must be at least {low} (got {got})"
            return f"must be between {low} and {high} (got {got})"
        if "(got" not in text and not isinstance(value, dict | list):
            text += f" (got {got})"
        return text
    if kind in _SIMPLE:
        try:
            return _SIMPLE[kind].format(got=got, **ctx)
        except KeyError:
            pass
    return f"{err['msg']} (got {got})"


def problems_from(errors: list[dict[str, Any]], source: Source, root: type[BaseModel]) -> list[Problem]:
    """One Problem per pydantic error, located via `source.locs` (nearest located ancestor)."""
    out: list[Problem] = []
    for err in errors:
        path, parent_tp, parent = clean_loc(err["loc"], source.data, root)
        key = path[-1] if path else None
        message = phrase(err, key, parent_tp, parent, at_root=len(path) == 1)
        loc = source.where(path)
        file, line = (loc.file, loc.line) if loc else ("<scenario>", None)
        if loc is not None and loc.note:
            message += f" (in --set {loc.note!r})"
        problem = Problem(file, line, format_path(path), message)
        if problem not in out:
            out.append(problem)
    return out
