"""Read a company's CRM export (a folder of CSV or Parquet files) into the canonical tables.

Everything wrong with the export is collected across all its files and raised once as a
`CrmDataError`. What is merely unusual is kept: open deals (no close time), leads never worked,
owners who left, deals with no history, a deal reopened (its stage history goes back; kept in
order). A lead with no channel gets the channel "unknown". A Salesforce CloseDate is a date: a
deal closed on the day it was created gets its creation time as close time.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from funnelsim.calibrate import cells
from funnelsim.calibrate.canonical import CLOSED_STAGES, TABLES, CrmData, dtype
from funnelsim.calibrate.files import RawTable, read_table
from funnelsim.calibrate.mapping import CrmMap, load_map
from funnelsim.calibrate.problems import CrmDataError, Problems, got

__all__ = ["CrmDataError", "read_export"]

UNKNOWN_CHANNEL = "unknown"


def read_export(data_dir: str | os.PathLike[str], crm_map: CrmMap | str | os.PathLike[str]) -> CrmData:
    """The export in `data_dir` read through `crm_map` (a CrmMap, a preset name or a map file)."""
    spec = crm_map if isinstance(crm_map, CrmMap) else load_map(crm_map)
    folder = Path(data_dir)
    problems = Problems()
    if not folder.is_dir():
        problems.whole(os.fspath(data_dir), "is not a folder (expected the folder holding the export's files)")
        raise problems.error()
    raws = _read_files(folder, spec, problems)
    reader = _Reader(spec, raws, problems)
    try:
        leads = reader.leads()
        opps = reader.opportunities(leads)
        history = reader.stage_history(opps)
        opps = reader.closed_stage(opps, history)
        activities = reader.activities()
        reps = reader.reps()
    except (KeyError, ValueError, TypeError):
        if problems:  # a later step tripped over what is already reported (a missing column, say)
            raise problems.error() from None
        raise
    problems.check()
    crm = CrmData(
        leads=leads,
        opportunities=opps,
        stages=tuple(spec.stage_order),
        as_of=pd.Timestamp("1970-01-01"),
        stage_history=history,
        activities=activities,
        reps=reps,
        sources={name: raw.file for name, raw in raws.items() if raw is not None},
    )
    crm.as_of = pd.Timestamp(spec.as_of) if spec.as_of is not None else latest(crm)
    return crm


def latest(crm: CrmData) -> pd.Timestamp:
    """The latest time anywhere in the tables (the default `as_of`)."""
    found = [
        t[c].max() for name in TABLES if (t := crm.table(name)) is not None for c in t.columns if c in _TIMES and len(t)
    ]
    found = [f for f in found if not pd.isna(f)]
    return max(found) if found else pd.Timestamp("1970-01-01")


_TIMES = {c for c in {c for cols in TABLES.values() for c in cols} if dtype(c) == "datetime64[ns]"}


def _read_files(folder: Path, spec: CrmMap, problems: Problems) -> dict[str, RawTable | None]:
    raws: dict[str, RawTable | None] = {}
    for name in TABLES:
        table = getattr(spec.tables, name)
        if table is None:
            raws[name] = None
            continue
        path = folder / table.file
        problems.ranks.setdefault(table.file, len(problems.ranks))
        if not path.is_file():
            if name in ("leads", "opportunities"):
                problems.whole(table.file, f"file not found in {folder} (the {name} table is required)")
            raws[name] = None
            continue
        wanted = {c: u for c, u in table.columns.model_dump().items() if u is not None}
        extra = _extra_columns(name, spec)
        raw = read_table(path, table.file, [*wanted.values(), *extra], problems)
        if raw is None:
            raws[name] = None
            continue
        if len(raw) == 0 and not any(p.file == table.file for _, _, p in problems.shown):
            problems.whole(table.file, "file has a header but no rows")
        optional = set(table.optional_columns)
        missing = [u for c, u in wanted.items() if u not in raw.header and c not in optional]
        missing += [u for u in extra if u not in raw.header]
        for user in missing:
            listing = ", ".join(raw.header[:30])
            problems.whole(table.file, f"column {user!r} not found (the header has: {listing})", user, "1")
        raws[name] = raw
    return raws


def _extra_columns(name: str, spec: CrmMap) -> list[str]:
    if name != "opportunities":
        return []
    opp = spec.tables.opportunities
    outcome = [c for c in (opp.outcome.closed, opp.outcome.won, opp.outcome.column) if c is not None]
    entered = [c for c, stage in opp.stage_entered_columns.items() if stage is not None]
    return outcome + entered


class _Reader:
    def __init__(self, spec: CrmMap, raws: dict[str, RawTable | None], problems: Problems) -> None:
        self.spec = spec
        self.raws = raws
        self.problems = problems
        self.formats = spec.dates.parse_formats()
        self.stages = spec.stage_names()

    def _user(self, name: str, column: str) -> str | None:
        """The user's column for a canonical one, if mapped and present in the file."""
        user = getattr(getattr(self.spec.tables, name).columns, column, None)
        raw = self.raws[name]
        return user if user is not None and raw is not None and user in raw.columns else None

    def _frame(self, name: str, parsed: dict[str, pd.Series], n: int) -> pd.DataFrame:
        out = {}
        for c in TABLES[name]:
            s = parsed.get(c)
            if s is None:
                s = pd.Series(pd.NA if dtype(c) == "string" else np.nan, index=range(n), dtype=dtype(c))
            out[c] = s.reset_index(drop=True).astype(dtype(c))
        return pd.DataFrame(out)

    def _columns(self, name: str, ids: tuple[str, ...] = (), need: tuple[str, ...] = ()) -> dict[str, pd.Series]:
        """The table's id/text and time columns, parsed; ids in `ids` are checked unique."""
        raw = self.raws[name]
        parsed: dict[str, pd.Series] = {}
        for c in TABLES[name]:
            user = self._user(name, c)
            if user is None:
                continue
            if dtype(c) == "datetime64[ns]":
                parsed[c] = cells.times(raw, user, self.formats, self.problems, need=c in need)
            elif dtype(c) == "string" and c not in ("outcome", "stage", "type"):
                parsed[c] = cells.ids(raw, user, self.problems, need=c in need)
                if c in ids:
                    cells.unique(raw, user, parsed[c], self.problems)
        return parsed

    def leads(self) -> pd.DataFrame:
        raw = self.raws["leads"]
        if raw is None:
            return self._frame("leads", {}, 0)
        parsed = self._columns("leads", ids=("lead_id",), need=("lead_id", "created"))
        if "channel" in parsed:
            parsed["channel"] = parsed["channel"].fillna(UNKNOWN_CHANNEL)
        if "opp_id" in parsed:
            user = self._user("leads", "opp_id")
            opp = parsed["opp_id"]
            twice = opp.duplicated(keep="first") & opp.notna()
            self.problems.cells(
                raw,
                twice.to_numpy(),
                user,
                lambda v: f"expected each opportunity converted from one lead (got {got(v)} twice)",
            )
        return self._frame("leads", parsed, len(raw))

    def opportunities(self, leads: pd.DataFrame) -> pd.DataFrame:
        raw = self.raws["opportunities"]
        if raw is None:
            return self._frame("opportunities", {}, 0)
        table = self.spec.tables.opportunities
        parsed = self._columns("opportunities", ids=("opp_id",), need=("opp_id", "created"))
        n = len(raw)
        if (user := self._user("opportunities", "amount")) is not None:
            parsed["amount"] = cells.amounts(raw, user, self.spec.amounts, self.problems)
        stage = None
        if (user := self._user("opportunities", "stage")) is not None:
            stage = cells.named(raw, user, self.stages, "a stage", "stages", self.problems, need=False)
        outcome = self._outcome(raw, table.outcome, stage, n)
        parsed["outcome"] = outcome
        if stage is not None:
            parsed["stage"] = stage.reset_index(drop=True)
        closed = (outcome != "open").to_numpy()
        if "close_time" in parsed and "created" in parsed:
            close = parsed["close_time"].where(closed)
            created = parsed["created"]
            early = (close < created.dt.floor("D")).to_numpy()
            user = self._user("opportunities", "close_time")
            self.problems.cells(
                raw, early, user, lambda v: f"expected a close date on or after the creation date (got {got(v)})"
            )
            parsed["close_time"] = close.where(~(close < created), created)
        self._link(raw, parsed, leads)
        return self._frame("opportunities", parsed, n)

    def _outcome(self, raw: RawTable, spec, stage: pd.Series | None, n: int) -> pd.Series:
        if spec.closed is not None:
            if spec.closed not in raw.columns or spec.won not in raw.columns:
                return pd.Series("open", index=range(n), dtype="string")
            closed = cells.flags(raw, spec.closed, spec, self.problems).to_numpy()
            won = cells.flags(raw, spec.won, spec, self.problems).to_numpy()
            self.problems.cells(
                raw, won & ~closed, spec.won, lambda v: "a deal won must also be closed (got won on an open deal)"
            )
            out = pd.Series(np.where(~closed, "open", np.where(won, "won", "lost")), dtype="string")
        elif spec.column is not None:
            if spec.column not in raw.columns:
                return pd.Series("open", index=range(n), dtype="string")
            values = {k: v for k, v in spec.values.items() if v is not None}
            out = cells.named(raw, spec.column, values, "an outcome", "outcome.values", self.problems).reset_index(
                drop=True
            )
        else:
            out = pd.Series("open", index=range(n), dtype="string")
            if stage is not None:
                out = out.mask(stage.isin(CLOSED_STAGES).to_numpy(), stage.reset_index(drop=True))
            return out
        if stage is not None:
            said = stage.where(stage.isin(CLOSED_STAGES)).reset_index(drop=True)
            clash = (said.notna() & (said != out)).fillna(False).to_numpy()
            user = self._user("opportunities", "stage")
            told = ", ".join(c for c in (spec.closed, spec.won, spec.column) if c is not None)
            self.problems.cells(
                raw, clash, user, lambda v: f"expected a stage that agrees with the deal's {told} (got {got(v)})"
            )
        return out

    def _link(self, raw: RawTable, parsed: dict[str, pd.Series], leads: pd.DataFrame) -> None:
        """lead_id from the leads' opp_id where the opportunities have no lead column; check both links."""
        opp_ids = parsed.get("opp_id")
        if opp_ids is None:
            return
        converted = leads[["lead_id", "opp_id"]].dropna(subset=["opp_id"]).drop_duplicates("opp_id")
        if "lead_id" not in parsed:
            parsed["lead_id"] = opp_ids.map(pd.Series(converted["lead_id"].to_numpy(), index=converted["opp_id"]))
        else:
            lead_ids = parsed["lead_id"]
            missing = (lead_ids.notna() & ~lead_ids.isin(leads["lead_id"])).to_numpy()
            user = self._user("opportunities", "lead_id")
            file = self.raws["leads"].file if self.raws["leads"] is not None else "the leads file"
            self.problems.cells(raw, missing, user, lambda v: f"expected the id of a lead in {file} (got {got(v)})")
        leads_raw = self.raws["leads"]
        if leads_raw is not None and (user := self._user("leads", "opp_id")) is not None:
            orphan = (leads["opp_id"].notna() & ~leads["opp_id"].isin(opp_ids)).to_numpy()
            self.problems.cells(
                leads_raw, orphan, user, lambda v: f"expected the id of an opportunity in {raw.file} (got {got(v)})"
            )

    def stage_history(self, opps: pd.DataFrame) -> pd.DataFrame | None:
        raw = self.raws["stage_history"]
        entered = {c: s for c, s in self.spec.tables.opportunities.stage_entered_columns.items() if s is not None}
        if raw is not None:
            parsed = self._columns("stage_history", need=("opp_id", "entered"))
            user = self._user("stage_history", "stage")
            if user is not None:
                parsed["stage"] = cells.named(raw, user, self.stages, "a stage", "stages", self.problems)
            if "opp_id" in parsed:
                unknown = (parsed["opp_id"].notna() & ~parsed["opp_id"].isin(opps["opp_id"])).to_numpy()
                file = self.raws["opportunities"].file if self.raws["opportunities"] is not None else "?"
                ouser = self._user("stage_history", "opp_id")
                self.problems.cells(
                    raw, unknown, ouser, lambda v: f"expected the id of an opportunity in {file} (got {got(v)})"
                )
            frame = self._frame("stage_history", parsed, len(raw))
            return entries(frame, self.spec.stage_order)
        deals = self.raws["opportunities"]
        if not entered or deals is None:
            return None
        parts = []
        for column, stage in entered.items():
            if column not in deals.columns:
                continue
            when = cells.times(deals, column, self.formats, self.problems)
            parts.append(pd.DataFrame({"opp_id": opps["opp_id"], "stage": stage, "entered": when.to_numpy()}))
        frame = pd.concat(parts, ignore_index=True).dropna(subset=["entered"])
        return entries(self._frame("stage_history", dict(frame.items()), len(frame)), self.spec.stage_order)

    def closed_stage(self, opps: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
        """A closed deal's `stage` is the last open stage it was in (from its history), else <NA>."""
        closed = opps["stage"].isin(CLOSED_STAGES) | ((opps["outcome"] != "open") & opps["stage"].isna())
        if not closed.any():
            return opps
        last = pd.Series(dtype="string")
        if history is not None and len(history):
            open_rows = history[~history["stage"].isin(CLOSED_STAGES)]
            last = open_rows.groupby("opp_id", sort=False)["stage"].last()
        opps = opps.copy()
        opps.loc[closed, "stage"] = opps.loc[closed, "opp_id"].map(last).astype("string")
        return opps

    def activities(self) -> pd.DataFrame | None:
        raw = self.raws["activities"]
        if raw is None:
            return None
        parsed = self._columns("activities", need=("rep_id", "time"))
        if (user := self._user("activities", "type")) is not None:
            types = {k: v for k, v in self.spec.tables.activities.types.items() if v is not None}
            parsed["type"] = cells.named(raw, user, types, "a type", "tables.activities.types", self.problems)
        return self._frame("activities", parsed, len(raw))

    def reps(self) -> pd.DataFrame | None:
        raw = self.raws["reps"]
        if raw is None:
            return None
        return self._frame("reps", self._columns("reps", ids=("rep_id",), need=("rep_id",)), len(raw))


def entries(history: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """One row per stage entered, by opportunity then time (ties keep the file's order); a run of
    rows in the same stage (an amount or date change) is kept as its first row."""
    frame = history.sort_values(["opp_id", "entered"], kind="stable", na_position="last")
    same = (frame["opp_id"] == frame["opp_id"].shift()) & (frame["stage"] == frame["stage"].shift())
    frame = frame[~same.fillna(False).to_numpy(dtype=bool)]
    return frame.reset_index(drop=True)


__all__ += ["entries", "latest"]
