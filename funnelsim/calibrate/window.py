"""An export as it would have looked at an earlier date: the backtest's training data.

`as_of(crm, cutoff)` keeps what was known at `cutoff` and nothing after: leads and opportunities
created before it; a deal closed after it is open again, in the stage it was in then; stage
entries, activities, contacts and MQL/SQL dates after it are gone. Fitting on this and forecasting
the weeks after is an honest test: the fit never sees what it forecasts.
"""

from __future__ import annotations

import pandas as pd

from funnelsim.calibrate.canonical import CrmData


def as_of(crm: CrmData, cutoff: pd.Timestamp) -> CrmData:
    leads = crm.leads[crm.leads["created"] < cutoff].copy()
    for col in ("first_contact", "mql_time", "sql_time"):
        leads[col] = leads[col].where(leads[col] < cutoff)
    opps = crm.opportunities[crm.opportunities["created"] < cutoff].copy()
    later = opps["close_time"].notna() & (opps["close_time"] >= cutoff)
    history = None
    if crm.stage_history is not None:
        history = crm.stage_history[
            crm.stage_history["opp_id"].isin(opps["opp_id"]) & (crm.stage_history["entered"] < cutoff)
        ].copy()
        last = history.sort_values("entered", kind="stable").groupby("opp_id", observed=True)["stage"].last()
        reopened = opps.loc[later, "opp_id"]
        opps.loc[later, "stage"] = reopened.map(last).astype("string").to_numpy()
    opps.loc[later, "outcome"] = "open"
    opps.loc[later, "close_time"] = pd.NaT
    keep_opp = set(opps["opp_id"].dropna())
    leads.loc[~leads["opp_id"].isin(keep_opp), "opp_id"] = pd.NA
    activities = None
    if crm.activities is not None:
        activities = crm.activities[crm.activities["time"] < cutoff].copy()
    reps = None
    if crm.reps is not None:
        reps = crm.reps[crm.reps["start"].isna() | (crm.reps["start"] < cutoff)].copy()
        reps["end"] = reps["end"].where(reps["end"] < cutoff)
    return CrmData(
        leads=leads.reset_index(drop=True),
        opportunities=opps.reset_index(drop=True),
        stages=crm.stages,
        as_of=cutoff,
        stage_history=None if history is None else history.reset_index(drop=True),
        activities=None if activities is None else activities.reset_index(drop=True),
        reps=None if reps is None else reps.reset_index(drop=True),
        sources=dict(crm.sources),
    )


def span_weeks(crm: CrmData) -> float:
    """Weeks from the first lead to the export."""
    start = crm.leads["created"].min()
    return float((crm.as_of - start) / pd.Timedelta(weeks=1))
