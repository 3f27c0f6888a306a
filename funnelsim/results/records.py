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


STATE_NAMES = [s.name.lower() for s in LeadState]


class LeadBook:
    """Column store of finished leads, appended to as leads end."""

    __slots__ = (
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

    def __init__(self) -> None:
        self.created = array("d")
        self.entered = array("d")
        self.first_attempt = array("d")
        self.ended = array("d")
        self.value = array("d")
        self.fit = array("f")
        self.state = array("b")
        self.stage = array("b")
        self.channel = array("h")
        self.rep = array("l")
        self.via_nurture = array("b")
        self.emails = array("h")

    def add(self, lead, state: int, stage: int, ended: float, emails: int = 0) -> None:
        self.created.append(lead.created)
        self.entered.append(lead.entered)
        self.first_attempt.append(lead.first_attempt)
        self.ended.append(ended)
        self.value.append(lead.value if state in (LeadState.WON, LeadState.WON_BY_EMAIL) else 0.0)
        self.fit.append(lead.fit)
        self.state.append(state)
        self.stage.append(stage)
        self.channel.append(lead.channel)
        self.rep.append(lead.rep.unique_id if lead.rep is not None else -1)
        self.via_nurture.append(1 if lead.via_nurture else 0)
        self.emails.append(emails)

    def __len__(self) -> int:
        return len(self.state)

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.frombuffer(getattr(self, name), dtype=getattr(self, name).typecode) for name in self.__slots__}

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame({k: v.copy() for k, v in self.arrays().items()})
        df["state"] = pd.Categorical.from_codes(df["state"], categories=STATE_NAMES)
        return df
