"""Assumptions a verdict should survive: named sets of field changes applied to every strategy.

A comparison's verdict rests on numbers nobody measured for this company: how fast leads cool,
how reps choose their work, how strongly fit and skill move conversion, how much of a week is
selling. `funnelsim compare --robustness` reruns the comparison under each set of `DEFAULT_SETS`,
plus the sets of the file's `assumptions:` block, with the same seeds (`robustness.py`).

A set writes its fields into every strategy, as `--set` does. A set that writes a field in
which the strategies differ would erase the very difference being compared, so it is not run
for that comparison, and the report says why (`conflict`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.merge import DROP
from funnelsim.scenario.messages import problems_from, show
from funnelsim.scenario.overrides import Override, apply_override, check_path, expand, parse_path
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import EVERY, FieldPath, Loc, Source, format_path


@dataclass(frozen=True)
class AssumptionSet:
    """One alternative world: `changes` maps field paths (as `--set` writes them) to values.

    `description` says in a line what it changes, `source` where the alternative comes from or
    why it is worth checking; `at` is the file and line of a set defined in a scenario file.
    """

    name: str
    changes: Mapping[str, Any]
    description: str
    source: str
    at: Loc | None = None
    lines: Mapping[str, Loc] = field(default_factory=dict, compare=False)

    @property
    def where(self) -> Loc:
        return self.at or Loc(f"assumption set {self.name}", None)

    def overrides(self) -> list[Override]:
        return [
            Override(f"{path}={_plain(value)}", parse_path(path), value, self.lines.get(path, self.where))
            for path, value in self.changes.items()
        ]

    def what(self) -> str:
        """The changes, as a reader would type them: `sales.prioritisation=newest_first`."""
        return ", ".join(f"{path}={_plain(value)}" for path, value in self.changes.items())


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


CURVE, WORK = "sales.response_curve", "sales.prioritisation"
FIT, SKILL = "sales.outcomes.fit_elasticity", "sales.outcomes.skill_elasticity"
SHARE, PATTERN = "sales.teams[*].selling_share", "sales.teams[*].selling_pattern"
ELASTICITY_WHY = "an assumption: the elasticities are not measured; half and one and a half times the default 1"
SHARE_WHY = "28-41% of a rep's week is selling (Salesforce State of Sales; CSO Insights)"


def one(name: str, path: str, value: Any, description: str, source: str) -> AssumptionSet:
    """A set that changes one field."""
    return AssumptionSet(name, {path: value}, description, source)


# One line a set: adding one (a new work policy, say) is adding a line.
# fmt: off
DEFAULT_SETS: tuple[AssumptionSet, ...] = (
    one("curve_hbr_2011", CURVE, {"preset": "hbr_2011"}, "the default curve: qualify odds 7x within the hour, 60x against a day", "Oldroyd, McElheran & Elkington, HBR 2011 (a file with its own curve meets the default)"),  # noqa: E501
    one("curve_mit_2007", CURVE, {"preset": "mit_2007"}, "leads cool in minutes: contact odds fall ~100x, qualify odds ~21x from 5 to 30 min", "Oldroyd & Elkington, lead response study (MIT/InsideSales 2007)"),  # noqa: E501
    one("curve_gentle", CURVE, {"preset": "gentle"}, "leads cool slowly: half the interest left after a day, a quarter after a week", "an assumption: considered B2B purchases cool slowly"),  # noqa: E501
    one("curve_none", CURVE, {"preset": "none"}, "no speed-to-lead effect at all", "the null case: does the verdict rest on speed to lead?"),  # noqa: E501
    one("work_pipeline_first", WORK, "pipeline_first", "reps work open deals first and let the weakest new leads go under load", "how sales teams work (Sabnis et al., Journal of Marketing 2013); the default"),  # noqa: E501
    one("work_fifo", WORK, "fifo", "reps take ready tasks first come, first served", "the naive team a trainer shows"),
    one("work_newest_first", WORK, "newest_first", "reps call the newest leads first", "speed-to-lead advice (Oldroyd, McElheran & Elkington, HBR 2011)"),  # noqa: E501
    one("work_highest_value", WORK, "highest_value", "reps take the task of highest expected value first", "cherry-picking under load"),  # noqa: E501
    one("fit_elasticity_low", FIT, 0.5, "persona fit moves conversion less (fit elasticity 0.5)", ELASTICITY_WHY),
    one("fit_elasticity_high", FIT, 1.5, "persona fit moves conversion more (fit elasticity 1.5)", ELASTICITY_WHY),
    one("skill_elasticity_low", SKILL, 0.5, "rep skill moves conversion less (skill elasticity 0.5)", ELASTICITY_WHY),
    one("skill_elasticity_high", SKILL, 1.5, "rep skill moves conversion more (skill elasticity 1.5)", ELASTICITY_WHY),
    one("selling_share_low", SHARE, 0.28, "reps sell 28% of their week, in every team", SHARE_WHY),
    one("selling_share_high", SHARE, 0.41, "reps sell 41% of their week, in every team", SHARE_WHY),
    one("selling_spread", PATTERN, "spread", "selling hours spread over the day, in every team", "afternoon leads are called the same afternoon; the default"),  # noqa: E501
    one("selling_morning", PATTERN, "morning", "all selling hours at the start of the day, in every team", "the old behaviour: afternoon leads wait for tomorrow"),  # noqa: E501
)
# fmt: on

SET_KEYS = ("description", "source", "set")


# -- a file's `assumptions:` block --------------------------------------------------------------
def file_sets(block: Source | None, defaults: Sequence[AssumptionSet] = DEFAULT_SETS) -> list[AssumptionSet]:
    """The defaults extended by a file's block: a new name is added, the same name replaces the
    default, `{drop: true}` removes it. Every problem is reported at its line (ScenarioError)."""
    sets = {s.name: s for s in defaults}
    if block is None:
        return list(sets.values())
    problems: list[Problem] = []

    def fail(path: FieldPath, message: str) -> None:
        loc = block.where(path) or Loc("<scenario>", None)
        problems.append(Problem(loc.file, loc.line, format_path(("assumptions", *path)), message))

    if not isinstance(block.data, dict) or not block.data:
        fail((), f"expected a mapping of assumption set name to the fields it changes, got {show(block.data)}")
        raise ScenarioError(problems)
    for name, body in block.data.items():
        name = str(name)
        if isinstance(body, dict) and body.get(DROP) is True and len(body) == 1:
            if sets.pop(name, None) is None:
                fail(
                    (name, DROP),
                    f"no assumption set {name!r} to drop (the defaults: {', '.join(s.name for s in defaults)})",
                )
            continue
        found = _one_set(name, body, block, fail)
        if found is not None:
            sets[name] = found
    if problems:
        raise ScenarioError(problems)
    return list(sets.values())


def _one_set(name: str, body: Any, block: Source, fail) -> AssumptionSet | None:
    if not isinstance(body, dict):
        fail((name,), f"expected a mapping with {', '.join(SET_KEYS)} (or drop: true), got {show(body)}")
        return None
    ok = True
    for key in body:
        if key not in SET_KEYS:
            close = difflib.get_close_matches(str(key), [*SET_KEYS, DROP], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            fail((name, key), f"unknown field {key!r}; allowed: {', '.join(SET_KEYS)}, or drop: true alone{hint}")
            ok = False
    for key in ("description", "source"):
        if key in body and not isinstance(body[key], str):
            fail((name, key), f"expected text, got {show(body[key])}")
            ok = False
    changes = body.get("set")
    if not isinstance(changes, dict) or not changes:
        fail(
            (name, "set") if "set" in body else (name,),
            f"expected `set:`, a mapping of field path to value, got {show(changes)}",
        )
        return None
    for path in changes:
        parsed = parse_path(str(path))
        why = "malformed field path; expected names joined by '.', list items as [i] or [*]" if parsed is None else None
        why = why or check_path(parsed, Scenario)
        if why:
            fail((name, "set", path), why)
            ok = False
    if not ok:
        return None
    lines = {str(path): block.where((name, "set", path)) for path in changes}
    at = block.where((name,))
    return AssumptionSet(
        str(name),
        {str(k): v for k, v in changes.items()},
        body.get("description", ""),
        body.get("source", ""),
        at,
        lines,
    )


# -- applying a set -----------------------------------------------------------------------------
def apply_set(scenario: Scenario, aset: AssumptionSet) -> Scenario:
    """`scenario` with the set's fields written in, validated like a file (ScenarioError)."""
    source = Source(scenario.model_dump(mode="json"), {})
    problems = [p for ov in aset.overrides() if (p := apply_override(source, ov)) is not None]
    if not problems:
        try:
            return Scenario.model_validate(source.data)
        except ValidationError as exc:
            problems = problems_from(exc.errors(include_url=False), source, Scenario)
    where = aset.where
    located = [replace(p, file=where.file, line=where.line) if p.file == "<scenario>" else p for p in problems]
    if aset.at is not None:  # a file's set: say which, as a variant's problems do
        located = [replace(p, path=f"assumptions.{aset.name} -> {p.path}") for p in located]
    raise ScenarioError(located)


def _values(data: Any, path: FieldPath) -> Any:
    """What `data` holds at `path` (every item for `[*]`); a missing field is None."""
    if EVERY in path:
        paths, why = expand(data, path)
        return why if why else [_values(data, p) for p in paths]
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def conflict(scenarios: Mapping[str, Scenario], aset: AssumptionSet) -> str | None:
    """Why the set cannot be applied to this comparison: it writes a field the strategies differ in."""
    dumps = {name: s.model_dump(mode="json") for name, s in scenarios.items()}
    for text, path in ((p, parse_path(p)) for p in aset.changes):
        seen = {name: _values(d, path) for name, d in dumps.items()}
        first = next(iter(seen.values()))
        differ = [name for name, v in seen.items() if v != first]
        if differ:
            return f"the strategies differ in {text}, which this set would overwrite"
    return None


def apply_to_all(
    scenarios: Mapping[str, Scenario], sets: Sequence[AssumptionSet]
) -> tuple[dict[str, dict[str, Scenario]], dict[str, str]]:
    """Each set applied to every strategy: {set: {strategy: scenario}}, and {set: why skipped}.

    Every problem of every set is collected into one ScenarioError before anything runs.
    """
    applied: dict[str, dict[str, Scenario]] = {}
    skipped: dict[str, str] = {}
    problems: list[Problem] = []
    for aset in sets:
        why = conflict(scenarios, aset)
        if why:
            skipped[aset.name] = why
            continue
        try:
            applied[aset.name] = {name: apply_set(s, aset) for name, s in scenarios.items()}
        except ScenarioError as err:
            problems += [p for p in err.problems if p not in problems]
    if problems:
        raise ScenarioError(problems)
    return applied, skipped
