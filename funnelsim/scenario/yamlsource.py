"""Read YAML 1.2 into plain data, remembering the line every value was typed on.

We build the data ourselves from the parser's events instead of using a constructor: nothing
but str/int/float/bool/None/list/dict can come out (no tag ever constructs an object), duplicate
keys and tags are reported with their line, and each value's location is recorded in a flat map
from field path to `Loc` so that validation errors can point back into the file.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from funnelsim.scenario.errors import Problem, ScenarioError

FieldPath = tuple[str | int, ...]
EVERY = "[*]"
"""In a field path written by the user (`--set`, sweep files): every item of the list here."""

_CORE = "tag:yaml.org,2002:"
_MAX_DEPTH = 60
_MAX_NODES = 200_000

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"([-+]?)\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"]+")


class Loc(NamedTuple):
    """Where a value came from: a file and 1-based line, or `--set` (line None) with its text."""

    file: str
    line: int | None
    note: str = ""


@dataclass
class Source:
    """Plain data plus the location of every value in it (keyed by field path)."""

    data: Any
    locs: dict[FieldPath, Loc] = field(default_factory=dict)

    def where(self, path: FieldPath) -> Loc | None:
        """Location of `path`, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            loc = self.locs.get(path[:n])
            if loc is not None:
                return loc
        return None


def show_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain scalar (`NO` stays text, `1e3` is a float)."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT10.fullmatch(text):
        return int(text)
    if _INT8.fullmatch(text):
        return int(text[2:], 8)
    if _INT16.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    m = _INF.fullmatch(text)
    if m:
        return -math.inf if m.group(1) == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _explicit(tag: str, text: str) -> Any:
    """Value of a scalar with an explicit core tag (`!!str 5`); ValueError if it does not fit."""
    kind = tag[len(_CORE) :]
    if kind == "str":
        return text
    value = resolve_plain(text.strip())
    ok = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if kind not in ok:
        raise KeyError(kind)
    if not ok[kind](value):
        raise ValueError(f"{text!r} is not a valid {show_tag(tag)}")
    return float(value) if kind == "float" else value


class _Fatal(Exception):
    """Stop building: the event stream cannot be followed any further."""


class _Builder:
    def __init__(self, file: str, events: Iterator[Any]) -> None:
        self.file = file
        self.events = events
        self.locs: dict[FieldPath, Loc] = {}
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0

    def problem(self, line: int | None, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(self.file, line, format_path(path), message))

    def document(self) -> tuple[Any, int | None]:
        """The single document's value and first line; (None, None) for an empty stream."""
        next(self.events)  # StreamStart
        ev = next(self.events)
        if isinstance(ev, StreamEndEvent):
            return None, None
        assert isinstance(ev, DocumentStartEvent)
        first = next(self.events)
        line = first.start_mark.line + 1
        value, _ = self.node(first, (), 0)
        assert isinstance(next(self.events), DocumentEndEvent)
        ev = next(self.events)
        if not isinstance(ev, StreamEndEvent):
            self.problem(ev.start_mark.line + 1, (), "a scenario file holds one YAML document, found another")
        return value, line

    def _check_tag(self, ev: Any, path: FieldPath, allowed: str) -> bool:
        tag = ev.tag
        if tag is None or tag == "!" or tag == _CORE + allowed:
            return True
        self.problem(
            ev.start_mark.line + 1,
            path,
            f"YAML tag {show_tag(tag)} is not allowed: scenario files hold plain data only "
            "(numbers, text, true/false, null, lists and mappings)",
        )
        return False

    def node(self, ev: Any, path: FieldPath, depth: int) -> tuple[Any, int]:
        """Build the value starting at `ev`; returns it and its size in nodes."""
        if depth > _MAX_DEPTH:
            self.problem(ev.start_mark.line + 1, path, f"nested more than {_MAX_DEPTH} levels deep")
            raise _Fatal
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            self.problem(ev.start_mark.line + 1, path, f"document has more than {_MAX_NODES} values")
            raise _Fatal
        if isinstance(ev, AliasEvent):
            if ev.anchor not in self.anchors:
                self.problem(ev.start_mark.line + 1, path, f"alias *{ev.anchor} has no anchor &{ev.anchor} before it")
                return None, 1
            value, size = self.anchors[ev.anchor]
            self.nodes += size
            if self.nodes > _MAX_NODES:
                self.problem(ev.start_mark.line + 1, path, f"aliases expand to more than {_MAX_NODES} values")
                raise _Fatal
            return copy.deepcopy(value), size
        if isinstance(ev, ScalarEvent):
            value, size = self.scalar(ev, path), 1
        elif isinstance(ev, SequenceStartEvent):
            value, size = self.sequence(ev, path, depth)
        elif isinstance(ev, MappingStartEvent):
            value, size = self.mapping(ev, path, depth)
        else:  # pragma: no cover - the parser guarantees a node here
            raise _Fatal
        if ev.anchor is not None:
            self.anchors[ev.anchor] = (value, size)
        return value, size

    def scalar(self, ev: ScalarEvent, path: FieldPath) -> Any:
        value = self._scalar(ev, path)
        if isinstance(value, float) and math.isinf(value) and not _INF.fullmatch(ev.value.strip()):
            # A finite literal too large for a float: it would silently read as infinity.
            msg = f"number {ev.value.strip()} is too large: it would read as infinity (the largest is about 1.8e308)"
            self.problem(ev.start_mark.line + 1, path, msg)
            return None
        return value

    def _scalar(self, ev: ScalarEvent, path: FieldPath) -> Any:
        tag = ev.tag
        if tag is None:
            return resolve_plain(ev.value) if ev.style is None else ev.value
        if tag == "!":
            return ev.value
        try:
            return _explicit(tag, ev.value)
        except KeyError:
            self._check_tag(ev, path, "str")
        except ValueError as exc:
            self.problem(ev.start_mark.line + 1, path, str(exc))
        return None

    def sequence(self, ev: SequenceStartEvent, path: FieldPath, depth: int) -> tuple[list, int]:
        self._check_tag(ev, path, "seq")
        out: list = []
        size = 1
        while not isinstance(ev := next(self.events), SequenceEndEvent):
            sub = (*path, len(out))
            self.locs[sub] = Loc(self.file, ev.start_mark.line + 1)
            value, n = self.node(ev, sub, depth + 1)
            out.append(value)
            size += n
        return out, size

    def mapping(self, ev: MappingStartEvent, path: FieldPath, depth: int) -> tuple[dict, int]:
        self._check_tag(ev, path, "map")
        out: dict = {}
        first_line: dict[str, int] = {}
        size = 1
        while not isinstance(kev := next(self.events), MappingEndEvent):
            key_line = kev.start_mark.line + 1
            if not isinstance(kev, ScalarEvent):
                self.problem(key_line, path, "mapping keys must be plain names, not lists, mappings or aliases")
                self.node(kev, path, depth + 1)
                self.node(next(self.events), path, depth + 1)
                continue
            key = kev.value
            sub = (*path, key)
            if kev.tag not in (None, "!", _CORE + "str"):
                self._check_tag(kev, sub, "str")
            elif key == "<<" and kev.style is None:
                self.problem(key_line, path, "YAML merge keys ('<<') are not supported; use 'extends: file.yaml'")
            vev = next(self.events)
            nested = isinstance(vev, MappingStartEvent | SequenceStartEvent)
            loc = Loc(self.file, key_line if nested else vev.start_mark.line + 1)
            if key in out:
                self.problem(key_line, sub, f"duplicate key {key!r} (first given on line {first_line[key]})")
                self.node(vev, sub, depth + 1)
                continue
            self.locs[sub] = loc
            value, n = self.node(vev, sub, depth + 1)
            out[key] = value
            first_line[key] = key_line
            size += n
        return out, size


def _syntax_problem(exc: YAMLError, file: str, text: str) -> Problem:
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem and exc.context_mark is not None:
            what = f"{what} ({exc.context} on line {exc.context_mark.line + 1})"
        line = mark.line + 1 if mark is not None else None
        return Problem(file, line, "", f"invalid YAML: {what}")
    position = getattr(exc, "position", None)
    line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    char = getattr(exc, "character", None)
    detail = f" (character #x{char:04x})" if isinstance(char, int) else ""
    return Problem(file, line, "", f"invalid YAML: {reason}{detail}")


def parse_yaml(text: str, file: str) -> tuple[Source, int | None]:
    """Parse one YAML document; returns its Source and first line (None if the text is empty).

    Raises ScenarioError listing syntax errors, forbidden tags and duplicate keys.
    """
    builder = _Builder(file, iter(YAML(typ="safe", pure=True).parse(text)))
    value, line = None, None
    try:
        value, line = builder.document()
    except YAMLError as exc:
        builder.problems.append(_syntax_problem(exc, file, text))
    except _Fatal:
        pass
    except RecursionError:
        builder.problems.append(Problem(file, None, "", "invalid YAML: nested too deeply"))
    if builder.problems:
        raise ScenarioError(builder.problems)
    if line is not None:
        builder.locs[()] = Loc(file, line)
    return Source(value, builder.locs), line


def read_yaml_file(path: Path, display: str) -> Source:
    """Read a scenario file that must hold one YAML mapping; every failure is a ScenarioError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([Problem(display, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(display, None, "", "is a directory, expected a YAML file")]) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ScenarioError([Problem(display, None, "", f"cannot read file: {reason}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        msg = f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})"
        raise ScenarioError([Problem(display, line, "", msg)]) from None
    source, line = parse_yaml(text, display)
    if source.data is None:
        msg = "file is empty; expected a mapping with at least 'marketing' and 'sales'"
        raise ScenarioError([Problem(display, line, "", msg)])
    if not isinstance(source.data, dict):
        kind = describe_type(source.data)
        msg = f"expected a mapping of fields at the top level (like 'marketing: ...'), got {kind}"
        raise ScenarioError([Problem(display, line, "", msg)])
    return source


def describe_type(value: Any) -> str:
    """'a list', 'a number', ... for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def format_path(path: FieldPath) -> str:
    """('sales', 'teams', 0, 'reps') -> 'sales.teams[0].reps'."""
    out = ""
    for part in path:
        if part == EVERY:
            out += EVERY
        elif isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(part) or not part.isprintable():
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out
