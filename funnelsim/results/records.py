"""Compact records of finished leads: typed arrays, not live agents.

A year of a large team is millions of leads; each finished one costs ~60 bytes here instead of
a kilobyte as an agent.
"""

from __future__ import annotations

from array import array
from enum import IntEnum

import numpy as np
import pandas as pd


class LeadState(IntEnum):
    """Where a lead ended. Every lead ends in exactly one of these."""

    WON = 0
    WON_BY_EMAIL = 1
    LOST = 2  # lost at a stage: see `stage`
    UNREACHED = 3  # every contact attempt failed
    WENT_COLD = 4  # waited too long between stages
    ABANDONED = 5  # waited too long for a first attempt: never worked
    NURTURE_EXHAUSTED = 6  # all nurture emails sent, no reply
    DISQUALIFIED = 7  # below the MQL threshold with nurture off
    UNASSIGNED = 8  # reached sales with no rep to take it
    OPEN = 9  # still in sales at the horizon
    NURTURING = 10  # still in nurture at the horizon
    IGNORED = 11  # a rep chose not to work it (low trust in marketing leads)
    REP_LEFT = 12  # its rep left and open leads are not handed over
    LET_GO = 13  # a rep under load let it go for better leads (pipeline_first), before reaching it


STATE_NAMES = [s.name.lower() for s in LeadState]


class LeadBook:
    """Column store of finished leads, appended to as leads end.

    Rows wait in a short list and move into the typed columns a few thousand at a time: one
    tuple per lead in the hot path instead of twelve appends.
    """

    COLUMNS = (
        "created",
        "entered",
        "first_attempt",
        "ended",
        "value",
        "fit",
        "state",
        "stage",
        "channel",
        "rep",
        "via_nurture",
        "emails",
    )
    TYPECODES = ("d", "d", "d", "d", "d", "f", "b", "b", "h", "l", "b", "h")
    FLUSH_ROWS = 4096

    __slots__ = (*COLUMNS, "_rows")

    def __init__(self) -> None:
        for name, code in zip(self.COLUMNS, self.TYPECODES, strict=True):
            setattr(self, name, array(code))
        self._rows: list[tuple] = []

    def add(self, lead, state: int, stage: int, ended: float, emails: int = 0) -> None:
        rows = self._rows
        rows.append(
            (
                lead.created,
                lead.entered,
                lead.first_attempt,
                ended,
                lead.value if state <= 1 else 0.0,  # WON, WON_BY_EMAIL
                lead.fit,
                state,
                stage,
                lead.channel,
                lead.rep.unique_id if lead.rep is not None else -1,
                1 if lead.via_nurture else 0,
                emails,
            )
        )
        if len(rows) >= self.FLUSH_ROWS:
            self._flush()

    def add_rows(self, created, fit, value, channel, ended, state, emails) -> None:
        """Many leads that never reached sales (nor a rep) at once, as arrays (`state` may be one
        value for all)."""
        self._flush()
        n = len(created)
        columns = {
            "created": created,
            "entered": np.full(n, -1.0),
            "first_attempt": np.full(n, -1.0),
            "ended": ended,
            "value": value,
            "fit": fit,
            "state": np.broadcast_to(np.asarray(state), n),
            "stage": np.full(n, -1),
            "channel": channel,
            "rep": np.full(n, -1),
            "via_nurture": np.zeros(n),
            "emails": emails,
        }
        for name, code in zip(self.COLUMNS, self.TYPECODES, strict=True):
            getattr(self, name).frombytes(np.ascontiguousarray(columns[name], dtype=code).tobytes())

    def _flush(self) -> None:
        rows = self._rows
        if not rows:
            return
        for name, column in zip(self.COLUMNS, zip(*rows, strict=True), strict=True):
            getattr(self, name).extend(column)
        rows.clear()

    def __len__(self) -> int:
        return len(self.state) + len(self._rows)

    def arrays(self) -> dict[str, np.ndarray]:
        self._flush()
        return {name: np.frombuffer(getattr(self, name), dtype=getattr(self, name).typecode) for name in self.COLUMNS}

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame({k: v.copy() for k, v in self.arrays().items()})
        df["state"] = pd.Categorical.from_codes(df["state"], categories=STATE_NAMES)
        return df
