"""The model's event queue: time order, ties in scheduling order, days kept apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from funnelsim.model.clock import EventQueue


def _run_days(queue: EventQueue, days: int) -> None:
    for day in range(days):
        queue.open_day(day)
        queue.run_until((day + 1) * queue.hours_per_day)


@given(st.lists(st.floats(min_value=0, max_value=79.999, allow_nan=False), min_size=1, max_size=200))
def test_events_run_in_time_order_ties_first_come(times):
    queue = EventQueue(hours_per_day=8)
    ran: list[tuple[float, int]] = []
    for i, t in enumerate(times):
        queue.schedule_at(t, lambda t=t, i=i: ran.append((queue.now, i)))
    _run_days(queue, 10)
    assert ran == sorted(((t, i) for i, t in enumerate(times)), key=lambda x: (x[0], x[1]))
    assert len(queue) == 0


def test_later_days_wait_and_the_clock_moves():
    queue = EventQueue(hours_per_day=8)
    seen = []
    queue.schedule_at(20.0, lambda: seen.append(("day2", queue.now)))
    queue.schedule_at(3.0, lambda: queue.schedule_in(2.0, lambda: seen.append(("chained", queue.now))))
    queue.open_day(0)
    assert queue.now == 0.0
    queue.run_until(8.0)
    assert seen == [("chained", 5.0)] and queue.now == 8.0
    queue.open_day(1)
    queue.run_until(16.0)
    assert seen == [("chained", 5.0)]
    queue.open_day(2)
    queue.run_until(24.0)
    assert seen[-1] == ("day2", 20.0)


def test_an_event_for_a_past_time_runs_now_and_end_is_exclusive():
    queue = EventQueue(hours_per_day=8)
    queue.open_day(1)
    seen = []
    queue.schedule_at(2.0, lambda: seen.append(queue.now))  # yesterday: runs first, today
    queue.schedule_at(16.0, lambda: seen.append("tomorrow"))
    queue.run_until(16.0)
    assert seen == [2.0] and len(queue) == 1
    queue.clear()
    assert len(queue) == 0
