"""Field reference generated from the schema, so the README cannot drift from the code.

`python -m funnelsim.scenario.docs README.md` rewrites the block between
`<!-- fields:start -->` and `<!-- fields:end -->`; with `--check` it only reports (exit 1)
whether the block is stale, for CI.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import math
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from funnelsim.scenario import schema
from funnelsim.scenario.messages import DIST_CLASSES, is_dist_union, unwrap

START = "<!-- fields:start -->"
END = "<!-- fields:end -->"


def scenario_json_schema() -> dict[str, Any]:
    """JSON schema of a scenario file (for editors and `funnelsim schema`).

    Distribution fields also accept a bare number; defaults made by a factory are included, and
    infinite defaults are said in words so the result serialises as strict JSON.
    """
    out = schema.Scenario.model_json_schema()
    _add_factory_defaults(out)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: fix(v) for k, v in node.items()}
            if isinstance(node.get("default"), float) and not math.isfinite(node["default"]):
                bound = "no upper bound" if node.pop("default") > 0 else "no lower bound"
                node["description"] = f"{node.get('description', '')} (default: {bound})".lstrip()
            if node.get("discriminator", {}).get("propertyName") == "dist":
                outer = {k: node.pop(k) for k in ("title", "default", "description") if k in node}
                node = {**outer, "anyOf": [{"type": "number"}, node]}
            return node
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    out = fix(out)
    out["description"] = f"{out.get('description', '')} {FILE_RULES}".strip()
    out["properties"] = {**LOADER_PROPERTIES, **out["properties"]}
    return out


FILE_RULES = (
    "A file may build on another with `extends` and hold strategies under `variants`. Both merge "
    "the same way: mappings key by key; lists of mappings with a `name` (channels, teams, stages) "
    "item by item, by name, a new name added at the end; `replace: true` in a list's first item "
    "gives that list whole, and `{name: x, drop: true}` removes item x; other lists and scalars "
    "replace. A file extending a file with variants inherits them."
)
LOADER_PROPERTIES: dict[str, Any] = {
    "extends": {
        "title": "Extends",
        "type": "string",
        "description": "Path of the scenario file this one builds on, relative to this file.",
    },
    "variants": {
        "title": "Variants",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "type": ["object", "null"],
            "description": "The fields this strategy changes, merged over the rest of the file "
            "(named after its key unless it sets `name`; `extends` and `variants` not allowed inside).",
        },
        "description": "Strategies to compare, by name; the first is the baseline of `funnelsim compare`.",
    },
    "assumptions": {
        "title": "Assumptions",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "type": "object",
            "description": "One assumption set: `set` (field path -> value, as `--set` writes them), "
            "`description` and `source`; or `drop: true` alone to remove the default set of that name.",
        },
        "description": "Assumption sets for `funnelsim compare --robustness`, by name, extending its defaults "
        "(a default's name replaces it); each is written into every strategy (default: none, the default sets only).",
    },
}


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `root`, by class name (the keys of the JSON schema's $defs)."""
    found: dict[str, type[BaseModel]] = {}
    todo: list[Any] = [root]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                continue
            found[tp.__name__] = tp
            todo += [f.annotation for f in tp.model_fields.values()]
        else:
            todo += list(get_args(tp))
    return found


def _add_factory_defaults(out: dict[str, Any]) -> None:
    """Pydantic leaves defaults made by a factory out of the schema; put them in, as JSON."""
    for name, model in _models(schema.Scenario).items():
        node = out if model is schema.Scenario else out.get("$defs", {}).get(name)
        if node is None:
            continue
        for key, f in model.model_fields.items():
            prop = node.get("properties", {}).get(f.alias or key)
            if prop is None or f.default_factory is None or "default" in prop:
                continue
            adapter = TypeAdapter(Annotated[f.annotation, *f.metadata] if f.metadata else f.annotation)
            prop["default"] = adapter.dump_python(adapter.validate_python(f.default_factory()), mode="json")  # type: ignore[call-arg]


def _doc(obj: Any) -> str:
    text = inspect.cleandoc(obj.__doc__ or "")
    return " ".join(text.split())


def _attribute_docs(model: type[BaseModel]) -> dict[str, str]:
    """Docstrings written right under a field (`x: int = 1` then `\"\"\"...\"\"\"`)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out = {}
    for stmt, nxt in zip(body, body[1:], strict=False):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            out[stmt.target.id] = " ".join(inspect.cleandoc(nxt.value.value).split())
    return out


def _value(v: Any) -> str:
    """A default as YAML flow text, rounded so the reference stays readable."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return f"{v:.6g}" if not v.is_integer() else repr(v)
    if isinstance(v, str):
        return v if v and v.strip() == v and v[0] not in "[{'\"!&*#" else repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, BaseModel):
        return _value(v.model_dump(by_alias=True))
    return str(v)


def _n(x: float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else _value(x)


def _constraints(metadata: Sequence[Any]) -> list[str]:
    out = []
    for m in metadata:
        if isinstance(m, at.Gt):
            out.append(f"> {_n(m.gt)}")
        elif isinstance(m, at.Ge):
            out.append(f">= {_n(m.ge)}")
        elif isinstance(m, at.Lt):
            out.append(f"< {_n(m.lt)}")
        elif isinstance(m, at.Le):
            out.append(f"<= {_n(m.le)}")
        elif isinstance(m, at.MinLen):
            out.append(f"at least {m.min_length} item{'s' if m.min_length != 1 else ''}")
        elif isinstance(m, at.MaxLen):
            out.append(f"at most {m.max_length} items")
        elif isinstance(m, FieldInfo):
            out += _constraints(m.metadata)
        else:
            kw = getattr(getattr(m, "func", None), "keywords", None) or {}
            if "low" in kw and "high" in kw:
                high = "" if math.isinf(kw["high"]) else f", <= {_n(kw['high'])}"
                out.append(f"values >= {_n(kw['low'])}{high} (normals are truncated to fit)")
    return out


def _describe(tp: Any) -> tuple[str, list[str]]:
    """(type name, constraints found inside the annotation) for a field annotation."""
    origin = get_origin(tp)
    if origin is Annotated:
        name, inner = _describe(get_args(tp)[0])
        return name, inner + _constraints(tp.__metadata__)
    args = get_args(tp)
    if type(None) in args and not is_dist_union(tp):
        name, inner = _describe(next(a for a in args if a is not type(None)))
        return f"{name} or null", inner
    if is_dist_union(unwrap(tp)):
        return "distribution", []
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args), []
    if origin is list:
        name, inner = _describe(args[0])
        name = {"mapping": "mappings", "number": "numbers", "integer": "integers"}.get(name, name)
        return f"list of {name}" + (f" ({', '.join(inner)})" if inner else ""), []
    if origin is tuple:
        parts = []
        for a in args:
            name, inner = _describe(a)
            parts.append(name + (f" {' and '.join(inner)}" if inner else ""))
        return "[" + ", ".join(parts) + "]", []
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "mapping", []
    names = {float: "number", int: "integer", str: "text", bool: "true/false"}
    return names.get(tp, getattr(tp, "__name__", str(tp))), []


def _default(f: FieldInfo) -> str:
    if f.is_required():
        return "required"
    value = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
    if isinstance(value, BaseModel):
        try:
            if value == type(value)():
                return "all defaults"
        except ValueError:
            pass
    return f"`{_value(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(model: type[BaseModel], prefix: str, out: list[str]) -> list[tuple[str, type[BaseModel]]]:
    """Append the field table of `model`; return the nested models to document next."""
    attr_docs = _attribute_docs(model)
    out += ["| Field | Type | Default | Constraints | Description |", "|---|---|---|---|---|"]
    nested = []
    for name, f in model.model_fields.items():
        key = f.alias or name
        path = f"{prefix}.{key}" if prefix else key
        type_name, inner = _describe(f.annotation)
        cons = ", ".join(_constraints(f.metadata) + inner)
        desc = " ".join((f.description or attr_docs.get(name, "")).split())
        row = [f"`{path}`", type_name, _default(f), cons, desc]
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
        sub = unwrap(f.annotation)
        if get_origin(sub) is list:
            sub, path = unwrap(get_args(sub)[0]), path + "[]"
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            nested.append((path, sub))
    return nested


def field_reference_markdown() -> str:
    """Markdown reference of every scenario field and distribution form (deterministic)."""
    out = [
        "<!-- generated by `python -m funnelsim.scenario.docs README.md`: do not edit by hand -->",
        "",
        inspect.cleandoc(schema.__doc__ or ""),
        "",
    ]
    queue: list[tuple[str, type[BaseModel]]] = [("", schema.Scenario)]
    while queue:
        prefix, model = queue.pop(0)
        out += [f"### `{prefix}` ({model.__name__})" if prefix else "### Top level (Scenario)", ""]
        if _doc(model):
            out += [_doc(model), ""]
        queue += _table(model, prefix, out)
        out.append("")
    out += [
        "### Distributions",
        "",
        "A field of type *distribution* takes a bare number (shorthand for `{dist: constant, value: N}`) "
        "or a mapping whose `dist` key names one of the forms below.",
        "",
        "| `dist` | Parameters | Description |",
        "|---|---|---|",
    ]
    for tag, cls in DIST_CLASSES.items():
        params = []
        for name, f in cls.model_fields.items():
            if name == "dist":
                continue
            cons = _constraints(f.metadata)
            bits = [f"{_describe(f.annotation)[0]}"] + cons
            if not f.is_required():
                bits.append(f"default {_default(f)}")
            params.append(f"`{f.alias or name}` ({', '.join(bits)})")
        out.append("| " + " | ".join(_cell(c) for c in [f"`{tag}`", "; ".join(params), _doc(cls)]) + " |")
    return "\n".join(out).rstrip("\n") + "\n"


def _rewritten(text: str, path: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: no {START} ... {END} block to fill")
    return text[: start + len(START)] + "\n" + field_reference_markdown() + text[end:]


def update_readme(path: str | Path) -> bool:
    """Rewrite the field reference block of `path`; True if the file changed."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    new = _rewritten(text, str(path))
    if new != text:
        p.write_text(new, encoding="utf-8")
    return new != text


def readme_is_current(path: str | Path) -> bool:
    """Whether the field reference block of `path` matches the schema."""
    text = Path(path).read_text(encoding="utf-8")
    return _rewritten(text, str(path)) == text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m funnelsim.scenario.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the block is stale, change nothing")
    parser.add_argument("readme", nargs="?", default="README.md")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if readme_is_current(args.readme):
                return 0
            print(f"{args.readme}: field reference is stale; run python -m funnelsim.scenario.docs {args.readme}")
            return 1
        changed = update_readme(args.readme)
    except (OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.readme}: {'updated' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
