"""The model's clock: business hours, and the events due in them.

A year of a baseline team is ~10^5 events. Mesa's event objects cost several times a plain heap
entry (benchmarks/bench_events.py), so the model keeps its own queue with Mesa-like names. Only
today's events sit in the heap; later ones wait in a list for their day, so the heap stays small
however long leads live.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from heapq import heapify, heappop, heappush


class EventQueue:
    """Callbacks due at business times, run in time order (ties in the order they were scheduled).

    Attributes:
        now: the current business time (hours since the first working morning).
        day: the working day the queue is running.
        hours_per_day: length of a working day in business hours.
    """

    __slots__ = ("now", "day", "hours_per_day", "_today", "_later", "_seq")

    def __init__(self, hours_per_day: float):
        self.now = 0.0
        self.day = 0
        self.hours_per_day = hours_per_day
        self._today: list[tuple[float, int, Callable[[], object]]] = []
        self._later: dict[int, list[tuple[float, int, Callable[[], object]]]] = {}
        self._seq = itertools.count()

    def schedule_at(self, time: float, callback: Callable[[], object]) -> None:
        """Run `callback()` at business time `time` (now, if `time` has passed)."""
        day = int(time // self.hours_per_day)
        if day <= self.day:
            heappush(self._today, (time, next(self._seq), callback))
        else:
            later = self._later.get(day)
            if later is None:
                self._later[day] = [(time, next(self._seq), callback)]
            else:
                later.append((time, next(self._seq), callback))

    def schedule_in(self, delay: float, callback: Callable[[], object]) -> None:
        """Run `callback()` `delay` business hours from now."""
        self.schedule_at(self.now + delay, callback)

    def open_day(self, day: int) -> None:
        """Start working day `day`: its waiting events join the heap, the clock moves to its morning."""
        self.day = day
        self.now = day * self.hours_per_day
        due = self._later.pop(day, None)
        if due:
            self._today.extend(due)
            heapify(self._today)

    def run_until(self, end: float) -> None:
        """Run every event due before `end`, in order; events they schedule before `end` run too."""
        today = self._today
        while today and today[0][0] < end:
            time, _, callback = heappop(today)
            self.now = time
            callback()
        self.now = end

    def clear(self) -> None:
        self._today.clear()
        self._later.clear()

    def __len__(self) -> int:
        return len(self._today) + sum(len(v) for v in self._later.values())
