"""Write canonical tables as a vendor would export them: the inverse of `funnelsim.calibrate.reader`.

The files use the map's file and column names, the vendor's date formats, stage labels (the first
name the map gives a funnelsim stage) and the columns the vendor adds of its own (a Salesforce
lead's Status, a HubSpot deal's Pipeline). Reading them back through the same map gives the same
tables, except where the vendor's format cannot hold what the tables do:

- Salesforce writes CloseDate, ConvertedDate and the User dates as dates: times of day are lost.
- HubSpot writes times to the minute, and keeps one "Date entered" a stage: a deal that entered
  a stage twice keeps its latest entry; stages without such a column are not written. It has
  no demo activity: a demo is written as a MEETING.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from funnelsim.calibrate.canonical import CrmData
from funnelsim.calibrate.mapping import ISO, PRESETS, CrmMap, load_map

__all__ = ["write_export"]

SALESFORCE_TIME = "%Y-%m-%dT%H:%M:%S.000+0000"
DATE = "%Y-%m-%d"
SALESFORCE_DATES = {("opportunities", "close_time"), ("leads", "sql_time"), ("reps", "start"), ("reps", "end")}
FALLBACK_TYPES = {"demo": "meeting", "meeting": "other", "call": "other", "email": "other"}
PROBABILITY = {"qualify": 10, "discovery": 20, "proposal": 60, "negotiation": 80, "won": 100, "lost": 0}


def write_export(crm: CrmData, layout: str | CrmMap | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write `crm` in `layout` (a preset name, a map file or a CrmMap) into `out_dir`; returns the files.

    A map with a stage history table is written Salesforce-style, one without HubSpot-style.
    """
    spec = layout if isinstance(layout, CrmMap) else load_map(layout)
    vendor = layout if isinstance(layout, str) and layout in PRESETS else None
    if vendor is None:
        vendor = "salesforce" if spec.tables.stage_history is not None else "hubspot"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = _Writer(crm, spec, vendor)
    frames = writer.salesforce() if vendor == "salesforce" else writer.hubspot()
    written = []
    for name, frame in frames.items():
        path = out / getattr(spec.tables, name).file
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        written.append(path)
    return written


class _Writer:
    def __init__(self, crm: CrmData, spec: CrmMap, vendor: str) -> None:
        self.crm = crm
        self.spec = spec
        self.vendor = vendor
        first = spec.dates.parse_formats()[0]
        self.time_format = SALESFORCE_TIME if first == ISO else first
        self.labels: dict[str, str] = {}
        for label, stage in spec.stage_names().items():
            self.labels.setdefault(stage, label)

    def _time(self, table: str, column: str, values: pd.Series) -> pd.Series:
        fmt = DATE if self.vendor == "salesforce" and (table, column) in SALESFORCE_DATES else self.time_format
        return values.dt.strftime(fmt)

    def _amount(self, values: pd.Series) -> pd.Series:
        text = values.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        return text.str.replace(".", self.spec.amounts.decimal, regex=False)

    def _stage_label(self, stages: pd.Series) -> pd.Series:
        return stages.map(self.labels).astype("string")

    def _mapped(self, name: str, frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> dict[str, pd.Series]:
        """The canonical columns the map names, under the user's names, formatted."""
        cols = getattr(self.spec.tables, name).columns
        out: dict[str, pd.Series] = {}
        for canonical, user in cols.model_dump().items():
            if user is None or canonical in skip:
                continue
            values = frame[canonical]
            if pd.api.types.is_datetime64_any_dtype(values.dtype):
                values = self._time(name, canonical, values)
            elif canonical == "amount":
                values = self._amount(values)
            out[user] = values
        return out

    def _opportunity_stage(self, opps: pd.DataFrame) -> pd.Series:
        stage = opps["stage"].where(opps["outcome"] == "open", opps["outcome"])
        return self._stage_label(stage)

    def salesforce(self) -> dict[str, pd.DataFrame]:
        crm, tables = self.crm, self.spec.tables
        leads = crm.leads
        status = pd.Series("Open - Not Contacted", index=leads.index)
        status = status.mask(leads["first_contact"].notna(), "Working - Contacted")
        status = status.mask(leads["opp_id"].notna() | leads["sql_time"].notna(), "Qualified")
        lead_cols = self._mapped("leads", leads)
        lead_cols["Status"] = status
        frames = {"leads": pd.DataFrame(lead_cols)}

        opps = crm.opportunities
        cols = self._mapped("opportunities", opps, skip=("stage", "close_time", "lead_id"))
        user = tables.opportunities.columns
        if user.stage:
            cols[user.stage] = self._opportunity_stage(opps)
        if user.close_time:
            forecast = opps["created"] + pd.Timedelta(days=30)
            cols[user.close_time] = self._time("opportunities", "close_time", opps["close_time"].fillna(forecast))
        outcome = tables.opportunities.outcome
        if outcome.closed:
            cols[outcome.closed] = (opps["outcome"] != "open").map({True: "true", False: "false"})
            cols[outcome.won] = (opps["outcome"] == "won").map({True: "true", False: "false"})
        frames["opportunities"] = pd.DataFrame(cols)

        if crm.stage_history is not None and len(crm.stage_history) and tables.stage_history is not None:
            history = crm.stage_history
            deal = opps.set_index("opp_id")
            hist_cols = self._mapped("stage_history", history, skip=("stage",))
            hist_cols[tables.stage_history.columns.stage] = self._stage_label(history["stage"])
            hist_cols["Amount"] = self._amount(history["opp_id"].map(deal["amount"]))
            close = history["opp_id"].map(deal["close_time"].fillna(deal["created"] + pd.Timedelta(days=30)))
            hist_cols["CloseDate"] = pd.to_datetime(close).dt.strftime(DATE)
            hist_cols["Probability"] = history["stage"].map(PROBABILITY).astype("Int64")
            frames["stage_history"] = pd.DataFrame(hist_cols)
        self._activities(frames, task_ids=True)
        if crm.reps is not None and len(crm.reps) and tables.reps is not None:
            frames["reps"] = pd.DataFrame(self._mapped("reps", crm.reps))
        return frames

    def _activities(self, frames: dict[str, pd.DataFrame], task_ids: bool) -> None:
        acts, table = self.crm.activities, self.spec.tables.activities
        if acts is None or not len(acts) or table is None:
            return
        inverse: dict[str, str] = {}
        for label, kind in table.types.items():
            if kind is not None:
                inverse.setdefault(kind, label)
        for kind, instead in FALLBACK_TYPES.items():
            if kind not in inverse and instead in inverse:
                inverse[kind] = inverse[instead]
        cols = self._mapped("activities", acts, skip=("type",))
        if table.columns.type:
            cols[table.columns.type] = acts["type"].map(inverse)
        if task_ids:
            cols = {"Id": [f"00T{i:015d}" for i in range(len(acts))], **cols}
            cols["ActivityDate"] = acts["time"].dt.strftime(DATE)
            cols["Subject"] = acts["type"].map(inverse)
        frames["activities"] = pd.DataFrame(cols)

    def hubspot(self) -> dict[str, pd.DataFrame]:
        crm, tables = self.crm, self.spec.tables
        leads = crm.leads
        lifecycle = pd.Series("lead", index=leads.index)
        lifecycle = lifecycle.mask(leads["mql_time"].notna(), "marketingqualifiedlead")
        lifecycle = lifecycle.mask(leads["sql_time"].notna(), "salesqualifiedlead")
        lifecycle = lifecycle.mask(leads["opp_id"].notna(), "opportunity")
        lead_cols = self._mapped("leads", leads)
        lead_cols["Lifecycle Stage"] = lifecycle
        frames = {"leads": pd.DataFrame(lead_cols)}

        opps = crm.opportunities
        user = tables.opportunities.columns
        cols = self._mapped("opportunities", opps, skip=("stage", "close_time"))
        cols["Deal Name"] = "Deal " + opps["opp_id"].astype(str)
        cols["Pipeline"] = "Sales Pipeline"
        if user.stage:
            cols[user.stage] = self._opportunity_stage(opps)
        if user.close_time:
            cols[user.close_time] = self._time("opportunities", "close_time", opps["close_time"])
        history = crm.stage_history
        for column, stage in tables.opportunities.stage_entered_columns.items():
            if stage is None:
                continue
            when = pd.Series(pd.NaT, index=opps.index, dtype="datetime64[ns]")
            if history is not None and len(history):
                rows = history[history["stage"] == stage]
                latest = rows.groupby("opp_id")["entered"].max()
                when = opps["opp_id"].map(latest).astype("datetime64[ns]")
            cols[column] = when.dt.strftime(self.time_format)
        frames["opportunities"] = pd.DataFrame(cols)
        self._activities(frames, task_ids=False)
        return frames
