"""The working calendar: the simulation clock runs in business hours.

Reps sell only in working hours, so the clock skips nights and weekends. Response times are
reported in calendar hours, as the published speed-to-lead figures are (a lead arriving late on a
Friday waits the weekend).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOURS_PER_WEEK = 168.0


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    hours_per_day: float
    days_per_week: int

    @property
    def hours_per_week(self) -> float:
        return self.hours_per_day * self.days_per_week

    def calendar_hours(self, t: float) -> float:
        """Calendar hours elapsed at business time `t`, counted from the first working morning."""
        day, into_day = divmod(t, self.hours_per_day)
        week, weekday = divmod(day, self.days_per_week)
        return week * HOURS_PER_WEEK + weekday * 24.0 + into_day

    def calendar_hours_array(self, t: np.ndarray) -> np.ndarray:
        day, into_day = np.divmod(np.asarray(t, dtype=float), self.hours_per_day)
        week, weekday = np.divmod(day, self.days_per_week)
        return week * HOURS_PER_WEEK + weekday * 24.0 + into_day

    def elapsed_calendar_hours(self, start: float, end: float) -> float:
        return self.calendar_hours(end) - self.calendar_hours(start)

    def days(self, business_days: float) -> float:
        """Business hours in a number of working days."""
        return business_days * self.hours_per_day
