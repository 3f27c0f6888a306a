"""The room: seats, limits, idle sessions and the status, without a server."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest

from funnelsim.dashboard.room import LIVE_MODELS, Room, status_line
from funnelsim.dashboard.session import Session
from funnelsim.scenario.loader import load_variants

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def session() -> Session:
    return Session(load_variants(SCENARIOS / "lead_strategy.yaml", ["horizon_weeks=4"]))


def live_models(expected: int) -> int:
    """Models alive once collected (gc.collect() returns at once while the room's thread collects)."""
    deadline = time.monotonic() + 10
    while True:
        gc.collect()
        if len(LIVE_MODELS) == expected or time.monotonic() > deadline:
            return len(LIVE_MODELS)
        time.sleep(0.05)


def settled() -> int:
    """Models alive once earlier tests' models are collected: the count unchanged for 0.3 s."""
    deadline, last, since = time.monotonic() + 10, -1, time.monotonic()
    while time.monotonic() < deadline:
        gc.collect()
        n = len(LIVE_MODELS)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since > 0.3:
            break
        time.sleep(0.05)
    return last


def test_leaving_closes_the_session_and_releases_its_models():
    room = Room()
    before = settled()
    seat = room.take_seat()
    seat.attach(session())
    seat.session.step(3)
    assert room.status()["sessions"] == 1 and live_models(before + 1) == before + 1
    kept = seat.session
    seat.leave()
    assert kept.closed and kept.step(1) == 0 and not kept.catching_up
    assert room.status()["sessions"] == 0 and live_models(before) == before
    seat.leave()  # twice is harmless


def test_a_new_session_in_the_same_tab_closes_the_old_one():
    room = Room()
    seat = room.take_seat()
    first, second = session(), session()
    seat.attach(first)
    seat.attach(second)
    assert first.closed and not second.closed


def test_beyond_max_sessions_there_is_no_seat():
    room = Room(max_sessions=2)
    a, b = room.take_seat(), room.take_seat()
    assert room.take_seat() is None and room.full
    a.leave()
    assert room.take_seat() is not None
    assert "2 of 2 sessions open" in status_line(room.status())
    b.leave()


def test_a_session_nobody_uses_is_ended_and_its_page_told():
    room = Room(idle_timeout=60)
    seat, used = room.take_seat(), room.take_seat()
    seat.attach(session())
    used.attach(session())
    told = []
    seat.on_end = lambda: told.append(seat.ended)
    kept = seat.session
    later = time.monotonic() + 61
    used.session.last_used = later - 1  # somebody moved a lever a second ago
    assert room.end_idle(now=later) == [seat]
    assert told == ["idle"] and kept.closed and list(room.seats.values()) == [used]


def test_without_an_idle_timeout_nothing_ends():
    room = Room(idle_timeout=None)
    seat = room.take_seat()
    assert room.end_idle(now=time.monotonic() + 1e6) == [] and seat.ended is None


@pytest.mark.parametrize("name", ["max_sessions", "idle_timeout", "grace"])
def test_the_room_reads_its_limits_from_the_environment(name):
    env = {
        "FUNNELSIM_DASHBOARD_MAX_SESSIONS": "12",
        "FUNNELSIM_DASHBOARD_IDLE_TIMEOUT": "90",
        "FUNNELSIM_DASHBOARD_GRACE": "4",
    }
    assert getattr(Room.from_env(env), name) == {"max_sessions": 12, "idle_timeout": 90.0, "grace": 4.0}[name]
    assert Room.from_env({"FUNNELSIM_DASHBOARD_IDLE_TIMEOUT": "0"}).idle_timeout is None


def test_a_tab_arriving_holds_the_others_frames_until_its_page_is_shown():
    room = Room()
    playing = room.take_seat()
    playing.arrived()
    assert not playing.making_room()
    room.expect()  # a browser asked for the page: no kernel, no seat yet
    assert playing.making_room() and room.status()["arriving"]
    newcomer = room.take_seat()
    assert playing.making_room() and not newcomer.making_room()  # the newcomer draws its own page
    newcomer.arrived()
    assert not playing.making_room() and not room.status()["arriving"]


def test_a_page_that_never_comes_holds_the_room_only_briefly():
    from funnelsim.dashboard.room import ARRIVAL_SECONDS

    room = Room()
    playing = room.take_seat()
    playing.arrived()
    room.expect(now=time.monotonic() - ARRIVAL_SECONDS - 0.1)
    stuck = room.take_seat()
    stuck.taken_at -= ARRIVAL_SECONDS + 0.1
    assert not playing.making_room()


@pytest.mark.parametrize(("accept", "counts"), [(b"text/html,application/xhtml+xml", True), (b"*/*", False)])
def test_a_browser_asking_for_the_page_tells_the_room(monkeypatch, accept, counts):
    import asyncio

    from funnelsim.dashboard import room as room_module
    from funnelsim.dashboard.serve import ExpectArrivals

    fresh = Room()
    monkeypatch.setattr(room_module, "ROOM", fresh)
    served = []

    async def app(scope, receive, send):
        served.append(scope["path"])

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept", accept)]}
    asyncio.run(ExpectArrivals(app)(scope, None, None))
    assert served == ["/"] and fresh.arriving() is counts
