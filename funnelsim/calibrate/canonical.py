"""The CRM data funnelsim calibrates from, in one shape whatever the CRM.

A vendor export (Salesforce, HubSpot, a user's own tables) is read through a map
(`funnelsim.calibrate.mapping`) into these canonical tables; everything downstream (direct
estimates, summary statistics, the backtest) reads only these. A funnelsim run can be written in
this shape too (`funnelsim.calibrate.synthetic`), which is how calibration is tested against a
known truth.

Times are timezone-naive `datetime64[ns]`; ids are strings; a missing optional value is NaT / NaN
/ <NA>. Stage names are funnelsim's: the map says which of the user's stages is which.

Tables (columns in order; `*` marks the required ones):

leads
    lead_id*, created*, channel*, owner, first_contact, mql_time, sql_time, opp_id
    `opp_id` is the opportunity a lead became (Salesforce's ConvertedOpportunityId); it links
    opportunities to leads where the opportunity table has no lead column.
opportunities
    opp_id*, lead_id, created*, amount, close_time, outcome*, stage, owner
    `outcome` is one of OUTCOMES; `close_time` is NaT unless the deal is closed (a Salesforce
    CloseDate on an open deal is a forecast, not an event); `stage` is the funnelsim stage the
    deal is in now (for a closed deal, the last stage it was in, where known; else <NA>).
stage_history
    opp_id*, stage*, entered*
    One row per stage an opportunity entered, in funnelsim's stage names plus "won" / "lost".
activities
    rep_id*, lead_id, opp_id, time*, type*
    `type` is one of ACTIVITY_TYPES.
reps
    rep_id*, start, end
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported on first use, so reading a map stays cheap
    import pandas as pd

OUTCOMES = ("won", "lost", "open")
ACTIVITY_TYPES = ("call", "email", "meeting", "demo", "other")
CLOSED_STAGES = ("won", "lost")

TABLES: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id", "created", "channel", "owner", "first_contact", "mql_time", "sql_time", "opp_id"),
    "opportunities": ("opp_id", "lead_id", "created", "amount", "close_time", "outcome", "stage", "owner"),
    "stage_history": ("opp_id", "stage", "entered"),
    "activities": ("rep_id", "lead_id", "opp_id", "time", "type"),
    "reps": ("rep_id", "start", "end"),
}
REQUIRED_TABLES = ("leads", "opportunities")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id", "created", "channel"),
    "opportunities": ("opp_id", "created", "outcome"),
    "stage_history": ("opp_id", "stage", "entered"),
    "activities": ("rep_id", "time", "type"),
    "reps": ("rep_id",),
}
TIME_COLUMNS = frozenset(
    {"created", "first_contact", "mql_time", "sql_time", "close_time", "entered", "time", "start", "end"}
)
NUMBER_COLUMNS = frozenset({"amount"})


@dataclass
class CrmData:
    """One company's funnel as the canonical tables.

    Attributes:
        leads, opportunities: always present.
        stage_history, activities, reps: None when the export has no such table.
        stages: funnelsim's stage names in funnel order (the map's), e.g. qualify, discovery,
            proposal, negotiation; stage_history uses them from the second on (an opportunity is
            created when its lead qualifies).
        as_of: when the export was taken: deals open then are right-censored at this time.
        sources: for each table, the file it came from (for messages and report captions).
    """

    leads: pd.DataFrame
    opportunities: pd.DataFrame
    stages: tuple[str, ...]
    as_of: pd.Timestamp
    stage_history: pd.DataFrame | None = None
    activities: pd.DataFrame | None = None
    reps: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    def rows(self) -> int:
        return sum(len(t) for name in TABLES if (t := self.table(name)) is not None)


def empty(name: str) -> pd.DataFrame:
    """An empty canonical table with the right dtypes."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=dtype(c)) for c in TABLES[name]})


def dtype(column: str) -> str:
    if column in TIME_COLUMNS:
        return "datetime64[ns]"
    if column in NUMBER_COLUMNS:
        return "float64"
    return "string"
