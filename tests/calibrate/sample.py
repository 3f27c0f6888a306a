"""A small company's funnel as canonical tables, built by hand: deals won, lost, open and reopened,
a lead never worked, a rep who left, missing values."""

from __future__ import annotations

import pandas as pd

from funnelsim.calibrate.canonical import TABLES, CrmData, dtype

NA = None


def frame(name: str, rows: list[tuple]) -> pd.DataFrame:
    columns = TABLES[name]
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return pd.DataFrame({c: pd.Series(v, dtype=dtype(c)) for c, v in data.items()})


def t(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text)


def sample() -> CrmData:
    leads = frame(
        "leads",
        [
            (
                "L1",
                t("2026-01-05 09:30"),
                "Web",
                "U1",
                t("2026-01-05 10:00"),
                t("2026-01-06 08:00"),
                t("2026-01-07"),
                "O1",
            ),
            ("L2", t("2026-01-06 11:00"), "Trade Show", "U2", t("2026-01-08 09:00"), NA, t("2026-01-09"), "O2"),
            (
                "L3",
                t("2026-01-08 14:20"),
                "Web",
                "U1",
                t("2026-01-08 15:00"),
                t("2026-01-09 10:00"),
                t("2026-01-12"),
                "O3",
            ),
            ("L4", t("2026-01-09 08:05"), "Partner", "U3", t("2026-01-09 09:00"), NA, t("2026-01-10"), "O4"),
            ("L5", t("2026-01-10 16:40"), "Email", "U3", NA, NA, NA, NA),
            ("L6", t("2026-01-11 07:15"), "Web", NA, t("2026-01-12 12:00"), NA, t("2026-01-13"), "O5"),
        ],
    )
    opportunities = frame(
        "opportunities",
        [
            ("O1", "L1", t("2026-01-07 09:00"), 25000.0, t("2026-02-10"), "won", "negotiation", "U1"),
            ("O2", "L2", t("2026-01-09 10:00"), 12000.5, t("2026-02-01"), "lost", "discovery", "U2"),
            ("O3", "L3", t("2026-01-12 13:00"), None, NA, "open", "proposal", "U1"),
            ("O4", "L4", t("2026-01-10 09:30"), 8000.0, t("2026-02-05"), "won", "proposal", "U3"),
            ("O5", "L6", t("2026-01-13 12:30"), 5000.0, NA, "open", "discovery", "U2"),
        ],
    )
    stage_history = frame(
        "stage_history",
        [
            ("O1", "discovery", t("2026-01-07 09:00")),
            ("O1", "proposal", t("2026-01-20 14:00")),
            ("O1", "negotiation", t("2026-02-01 11:15")),
            ("O1", "won", t("2026-02-10 16:45")),
            ("O2", "discovery", t("2026-01-09 10:00")),
            ("O2", "lost", t("2026-02-01 09:00")),
            ("O3", "discovery", t("2026-01-12 13:00")),
            ("O3", "proposal", t("2026-01-19 10:30")),
            ("O4", "discovery", t("2026-01-10 10:00")),
            ("O4", "proposal", t("2026-01-15 10:00")),
            ("O4", "lost", t("2026-01-20 10:00")),
            ("O4", "discovery", t("2026-01-25 10:00")),
            ("O4", "proposal", t("2026-02-01 10:00")),
            ("O4", "won", t("2026-02-05 10:00")),
        ],
    )
    activities = frame(
        "activities",
        [
            ("U1", "L1", NA, t("2026-01-05 10:00"), "call"),
            ("U1", "L1", "O1", t("2026-01-08 15:00"), "meeting"),
            ("U2", "L2", "O2", t("2026-01-10 09:10"), "email"),
            ("U1", NA, "O3", t("2026-01-14 11:00"), "demo"),
            ("U3", "L4", NA, t("2026-01-09 09:00"), "other"),
        ],
    )
    reps = frame(
        "reps", [("U1", t("2025-01-01"), NA), ("U2", t("2025-06-01"), NA), ("U3", t("2024-03-01"), t("2026-01-31"))]
    )
    return CrmData(
        leads=leads,
        opportunities=opportunities,
        stages=("qualify", "discovery", "proposal", "negotiation"),
        as_of=pd.Timestamp("2026-02-10 16:45"),
        stage_history=stage_history,
        activities=activities,
        reps=reps,
    )
