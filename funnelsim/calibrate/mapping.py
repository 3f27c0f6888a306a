"""MAP.yaml: how one company's CRM export maps onto funnelsim's canonical tables.

A map names, for each canonical table, the file in DATA_DIR and the user's column for each
canonical column; how dates and amounts are written; which of the user's stage names is which
funnelsim stage; how a deal's outcome is told; which activity types are which.

`extends: salesforce` (a built-in preset) or `extends: base.yaml` (a path beside the map)
builds on another map. Mappings merge key by key and the extending map's value wins:
`tables`, each table and its `columns`, `stages`, `stage_entered_columns`, activity `types`,
`outcome` (and its `values`), `dates`, `amounts`. Lists replace whole: `dates.formats`,
`stage_order`, `optional_columns`, `outcome.true_values` / `false_values`. A null removes what
the base gave (`mql_time: null` maps no column; `reps: null` reads no reps table). A merged
`outcome` that ends up with two forms (flag columns and a value column, say) is refused: set
the form you do not want to null.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from funnelsim.calibrate.canonical import ACTIVITY_TYPES, CLOSED_STAGES, REQUIRED_COLUMNS, TABLES
from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.merge import merge, normalise
from funnelsim.scenario.messages import problems_from, show
from funnelsim.scenario.yamlsource import Loc, Source, read_yaml_file

__all__ = ["PRESETS", "CrmMap", "MapError", "load_map"]

PRESETS = ("salesforce", "hubspot")
DEFAULT_STAGE_ORDER = ("qualify", "discovery", "proposal", "negotiation")
ISO = "iso"


class MapError(ScenarioError):
    """A map could not be loaded; each line of `str()` names the file and line of one problem."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Dates(Strict):
    """How the export writes dates and times."""

    formats: Annotated[list[str], Field(min_length=1)] = [ISO]
    """strptime formats tried in order, cell by cell; "iso" is ISO 8601 (an offset is converted to UTC)."""
    dayfirst: bool = False
    """Swap day and month in every strptime format (%m/%d/%Y reads 05/01/2026 as 5 January)."""

    @field_validator("formats")
    @classmethod
    def _usable(cls, value: list[str]) -> list[str]:
        sample = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
        for fmt in value:
            if fmt == ISO:
                continue
            try:
                ok = "%" in fmt and datetime.strptime(sample.strftime(fmt), fmt) is not None
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"{fmt!r} is not a strptime format like '%m/%d/%Y %H:%M' (or 'iso')")
        return value

    def parse_formats(self) -> list[str]:
        if not self.dayfirst:
            return list(self.formats)
        return [f.replace("%m", "\0").replace("%d", "%m").replace("\0", "%d") for f in self.formats]


class Amounts(Strict):
    """How amounts are written: "$25,000.00" is decimal "." thousands ","; "25.000,00 €" the reverse."""

    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'", ""] = ","

    @model_validator(mode="after")
    def _distinct(self) -> Amounts:
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands separators must differ (both {self.decimal!r})")
        return self


def _columns_model(table: str) -> type[BaseModel]:
    fields = {c: (str | None, None) for c in TABLES[table] if c != "outcome"}  # the outcome has its own block
    doc = f"The user's column for each canonical {table} column (null: not in the export)."
    return create_model(f"{table.title().replace('_', '')}Columns", __base__=Strict, __doc__=doc, **fields)


COLUMN_MODELS = {name: _columns_model(name) for name in TABLES}
LeadsColumns = COLUMN_MODELS["leads"]
OpportunitiesColumns = COLUMN_MODELS["opportunities"]
StageHistoryColumns = COLUMN_MODELS["stage_history"]
ActivitiesColumns = COLUMN_MODELS["activities"]
RepsColumns = COLUMN_MODELS["reps"]


class Outcome(Strict):
    """How a deal's outcome is told, in one of three forms:
    flag columns (`closed` and `won`, true/false), a `column` whose `values` map onto won/lost/open,
    or `from_stage: true` (the deal's stage maps onto won or lost; any other stage is open)."""

    closed: str | None = None
    won: str | None = None
    column: str | None = None
    values: dict[str, Literal["won", "lost", "open"] | None] = {}
    from_stage: bool = False
    true_values: list[str] = ["true", "1", "yes"]
    false_values: list[str] = ["false", "0", "no"]

    @model_validator(mode="after")
    def _one_form(self) -> Outcome:
        forms = [
            name
            for name, given in (
                ("flag columns (closed, won)", self.closed is not None or self.won is not None),
                ("a value column (column)", self.column is not None),
                ("from_stage", self.from_stage),
            )
            if given
        ]
        if len(forms) != 1:
            found = " and ".join(forms) if forms else "none"
            raise ValueError(
                f"give the outcome in exactly one form: flag columns (closed and won), a value column "
                f"(column and values) or from_stage: true; found {found} (when extending a map, set the "
                "base's form to null)"
            )
        if (self.closed is None) != (self.won is None):
            raise ValueError("flag columns need both 'closed' and 'won'")
        if self.column is not None and not self.values:
            raise ValueError("a value column needs 'values' mapping each of its values onto won, lost or open")
        return self


class Table(Strict):
    file: str
    """The file in DATA_DIR: .csv or .parquet."""
    optional_columns: list[str] = []
    """Canonical columns whose user column may be absent from the file (custom fields)."""

    table: ClassVar[str]

    @model_validator(mode="after")
    def _required(self) -> Table:
        cols = self.columns  # type: ignore[attr-defined]
        missing = [c for c in REQUIRED_COLUMNS[self.table] if c != "outcome" and getattr(cols, c) is None]
        if missing:
            raise ValueError(f"columns must name the user's column for {', '.join(missing)}")
        unknown = [c for c in self.optional_columns if c not in TABLES[self.table]]
        if unknown:
            raise ValueError(f"optional_columns: {', '.join(unknown)} are not columns of {self.table}")
        return self

    @field_validator("file")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if Path(value).suffix.lower() not in (".csv", ".parquet"):
            raise ValueError(f"expected a .csv or .parquet file name (got {value!r})")
        return value


class LeadsTable(Table):
    table = "leads"
    columns: LeadsColumns  # type: ignore[valid-type]


class OpportunitiesTable(Table):
    table = "opportunities"
    columns: OpportunitiesColumns  # type: ignore[valid-type]
    outcome: Outcome
    stage_entered_columns: dict[str, str | None] = {}
    """HubSpot-style "Date entered <stage>" columns: column name -> funnelsim stage (or won/lost)."""


class StageHistoryTable(Table):
    table = "stage_history"
    columns: StageHistoryColumns  # type: ignore[valid-type]


class ActivitiesTable(Table):
    table = "activities"
    columns: ActivitiesColumns  # type: ignore[valid-type]
    types: dict[str, Literal[ACTIVITY_TYPES] | None] = {}  # type: ignore[valid-type]
    """The user's activity type values -> call, email, meeting, demo or other."""


class RepsTable(Table):
    table = "reps"
    columns: RepsColumns  # type: ignore[valid-type]


class Tables(Strict):
    leads: LeadsTable
    opportunities: OpportunitiesTable
    stage_history: StageHistoryTable | None = None
    activities: ActivitiesTable | None = None
    reps: RepsTable | None = None


class CrmMap(Strict):
    """A whole map (see the module docstring for what `extends` merges and what it replaces)."""

    tables: Tables
    dates: Dates = Dates()
    amounts: Amounts = Amounts()
    stage_order: Annotated[list[str], Field(min_length=1)] = list(DEFAULT_STAGE_ORDER)
    """funnelsim's stage names in funnel order."""
    stages: dict[str, str | None] = {}
    """The user's stage names -> funnelsim stage (one of stage_order) or won / lost."""
    as_of: datetime | None = None
    """When the export was taken; default: the latest time in the data."""

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, value: dict[str, str | None], info: ValidationInfo) -> dict[str, str | None]:
        known = [*info.data.get("stage_order", DEFAULT_STAGE_ORDER), *CLOSED_STAGES]
        bad = {k: v for k, v in value.items() if v is not None and v not in known}
        if bad:
            listing = ", ".join(f"{k!r}: {v!r}" for k, v in bad.items())
            raise ValueError(f"each stage must map onto one of {', '.join(known)} (got {listing})")
        return value

    @field_validator("as_of")
    @classmethod
    def _naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CrmMap:
        known = [*self.stage_order, *CLOSED_STAGES]
        entered = self.tables.opportunities.stage_entered_columns
        bad = {k: v for k, v in entered.items() if v is not None and v not in known}
        if bad:
            listing = ", ".join(f"{k!r}: {v!r}" for k, v in bad.items())
            raise ValueError(
                f"tables.opportunities.stage_entered_columns must map onto {', '.join(known)} (got {listing})"
            )
        if self.tables.opportunities.outcome.from_stage and self.tables.opportunities.columns.stage is None:
            raise ValueError("outcome from_stage needs tables.opportunities.columns.stage")
        return self

    def stage_names(self) -> dict[str, str]:
        return {k: v for k, v in self.stages.items() if v is not None}


def preset_path(name: str) -> Path:
    return Path(str(resources.files("funnelsim.calibrate") / "presets" / f"{name}.yaml"))


def load_map(spec: str | os.PathLike[str]) -> CrmMap:
    """The map at path `spec`, or the built-in preset of that name ("salesforce", "hubspot")."""
    text = os.fspath(spec)
    path, display = (preset_path(text), f"<preset {text}>") if text in PRESETS else (Path(text), text)
    source = _resolve(path, display, ())
    source.locs[()] = Loc(display, 1)  # whole-map problems belong to the map the user gave
    try:
        return CrmMap.model_validate(source.data)
    except ValidationError as exc:
        found = problems_from(exc.errors(include_url=False), source, CrmMap)
    files: dict[str, int] = {}
    for p in found:
        files.setdefault(p.file, len(files))
    found = [replace(p, message=p.message.replace(_SCENARIO_KEYS, "")) for p in found]
    raise MapError(sorted(found, key=lambda p: (files[p.file], p.line or 0)))


_SCENARIO_KEYS = ", variants, assumptions"  # keys problems_from lists for scenario files, not maps


def _resolve(path: Path, display: str, chain: tuple[Path, ...]) -> Source:
    try:
        source = read_yaml_file(path, display)
    except ScenarioError as exc:
        empty = "expected a map with at least 'tables' (or 'extends: salesforce')"
        raise MapError([_for_maps(p, empty) for p in exc.problems]) from None
    if "extends" not in source.data:
        return _normalised(source)
    target = source.data["extends"]
    loc = source.locs[("extends",)]
    source = Source(
        {k: v for k, v in source.data.items() if k != "extends"},
        {p: v for p, v in source.locs.items() if p[:1] != ("extends",)},
    )

    def fail(message: str) -> MapError:
        return MapError([Problem(loc.file, loc.line, "extends", message)])

    if not isinstance(target, str) or not target.strip():
        raise fail(f"expected a preset ({', '.join(PRESETS)}) or the path of a map to build on, got {show(target)}")
    if target in PRESETS:
        base_path, base_display = preset_path(target), f"<preset {target}>"
    else:
        base_path = path.parent / target
        base_display = os.path.normpath(os.path.join(os.path.dirname(display), target))
        if not base_path.is_file():
            raise fail(f"cannot find {target!r} (looked for {base_display}; presets: {', '.join(PRESETS)})")
    real = base_path.resolve()
    if real in chain or real == path.resolve():
        raise fail(f"extends cycle through {base_display}")
    base = _resolve(base_path, base_display, (*chain, path.resolve()))
    try:
        return merge(base, source)
    except ScenarioError as exc:
        raise MapError(exc.problems) from None


def _for_maps(problem: Problem, empty: str) -> Problem:
    """read_yaml_file speaks of scenarios where a file is empty or not a mapping."""
    if problem.message.startswith("file is empty"):
        return replace(problem, message=f"file is empty; {empty}")
    return replace(problem, message=problem.message.replace("(like 'marketing: ...')", "(like 'tables: ...')"))


def _normalised(source: Source) -> Source:
    try:
        return normalise(source)
    except ScenarioError as exc:
        raise MapError(exc.problems) from None
