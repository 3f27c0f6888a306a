"""The workshop room: every session this server holds, its limits, and what it reports.

A tab takes a seat when its page is built and leaves it when its page is closed (Solara closes a
tab's kernel when the tab says goodbye, or after the reconnect grace once its connection has gone:
`SOLARA_KERNEL_CULL_TIMEOUT`). Leaving stops the session's play loop and releases its models.
Beyond `max_sessions` a tab gets no seat (the page says the room is full); a seat nobody has used
for `idle_timeout` seconds is ended the same way. The server's status (`status()`, served as JSON
at `STATUS_PATH`) counts seats, playing sessions and the models still alive in memory.

Plain Python: the page (`app.Page`) holds a `Seat`; the server entry point (`serve`) wires the
status route; tests drive a `Room` directly.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_SESSIONS_ENV = "FUNNELSIM_DASHBOARD_MAX_SESSIONS"
IDLE_TIMEOUT_ENV = "FUNNELSIM_DASHBOARD_IDLE_TIMEOUT"
GRACE_ENV = "FUNNELSIM_DASHBOARD_GRACE"
STATUS_PATH = "/_funnelsim/status"
DEFAULT_GRACE = 10.0  # seconds a disconnected tab keeps its session, for a reconnect
DEFAULT_IDLE_TIMEOUT = 30 * 60.0
TICK = 1.0  # how often the room looks for idle seats and measures the server's CPU
# A new tab's first page goes first: from the browser's request for the page until its controls
# are drawn (at most this long), tabs already playing keep stepping but draw no new frames, so the
# cores serve the newcomer. Measured with 8 tabs playing on 2 cores: without it a newcomer waited
# 3.1-4.1 s for its controls (1.7-1.8 s on an idle server); see benchmarks/bench_dashboard.py --room.
ARRIVAL_SECONDS = 5.0

# every model the dashboard has built and that is still in memory (sessions add theirs)
LIVE_MODELS: weakref.WeakSet = weakref.WeakSet()


@dataclass(eq=False)
class Seat:
    """One tab's place in the room: its session (if one is open) and when it was last used."""

    room: Room
    number: int
    context: Any = None  # the tab's Solara kernel context, to redraw its page from the room's thread
    session: Any = None
    last_used: float = field(default_factory=time.monotonic)
    ended: str | None = None  # why the room ended this seat ("idle"), None while open
    on_end: Callable[[], None] | None = None
    arriving: bool = True  # its first page is not shown yet (see ARRIVAL_SECONDS)
    taken_at: float = field(default_factory=time.monotonic)

    def arrived(self) -> None:
        """The tab's first page has been shown: the others may draw again."""
        self.room._arrived(self)

    def making_room(self) -> bool:
        """Whether another tab is arriving, so this one should hold its next frame."""
        return self.room.arriving(but=self)

    def attach(self, session) -> None:
        """The session the tab shows now; the one it replaces is closed."""
        old, self.session = self.session, session
        if old is not None and old is not session:
            old.close()
            self.room.collect_soon()
        self.touch()

    def touch(self) -> None:
        self.last_used = time.monotonic()

    def idle_since(self) -> float:
        session = self.session
        return max(self.last_used, session.last_used) if session is not None else self.last_used

    def leave(self, reason: str | None = None) -> None:
        """Stop the session and give the seat back (idempotent)."""
        self.room._remove(self, reason)


class Room:
    """The seats of one server, its limits (None: unlimited, never idle) and its status."""

    def __init__(self, max_sessions: int | None = None, idle_timeout: float | None = None, grace: float | None = None):
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.grace = grace
        self.lock = threading.Lock()
        self.seats: dict[int, Seat] = {}
        self._numbers = 0
        self._expected: list[float] = []  # when each page request not yet shown came in
        self._collect = threading.Event()
        self._cpu = (time.monotonic(), _cpu_seconds(), 0.0)
        self._ticker: threading.Thread | None = None

    @classmethod
    def from_env(cls, env=os.environ) -> Room:
        max_sessions = int(env[MAX_SESSIONS_ENV]) if env.get(MAX_SESSIONS_ENV) else None
        idle = float(env[IDLE_TIMEOUT_ENV]) if env.get(IDLE_TIMEOUT_ENV) else DEFAULT_IDLE_TIMEOUT
        grace = float(env[GRACE_ENV]) if env.get(GRACE_ENV) else None
        return cls(max_sessions=max_sessions or None, idle_timeout=idle or None, grace=grace)

    # -- seats -------------------------------------------------------------------------------------
    def take_seat(self, context: Any = None) -> Seat | None:
        """A seat for a new tab, or None when the room is full."""
        with self.lock:
            if self.max_sessions is not None and len(self.seats) >= self.max_sessions:
                return None
            self._numbers += 1
            seat = Seat(self, self._numbers, context=context)
            self.seats[seat.number] = seat
        self.start()
        return seat

    def _remove(self, seat: Seat, reason: str | None) -> None:
        with self.lock:
            if self.seats.get(seat.number) is not seat:
                return
            del self.seats[seat.number]
            session, seat.session = seat.session, None
            seat.ended = reason or "left"
        if session is not None:
            session.close()
        self.collect_soon()

    def expect(self, now: float | None = None) -> None:
        """A browser asked for the page: a tab is on its way (before its kernel, and so its seat, exists)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            self._expected = [t for t in self._expected if now - t < ARRIVAL_SECONDS] + [now]

    def _arrived(self, seat: Seat) -> None:
        with self.lock:
            if seat.arriving and self._expected:
                self._expected.pop(0)  # the oldest request: this tab's, or one that will never come
            seat.arriving = False

    def arriving(self, but: Seat | None = None, now: float | None = None) -> bool:
        """Whether a tab (other than `but`) is arriving: asked for the page or has a seat, and its
        first page not yet shown, for at most ARRIVAL_SECONDS (a page that never comes does not
        hold the room for long)."""
        now = time.monotonic() if now is None else now
        with self.lock:
            if any(now - t < ARRIVAL_SECONDS for t in self._expected) and not (but is not None and but.arriving):
                return True
            return any(s.arriving and s is not but and now - s.taken_at < ARRIVAL_SECONDS for s in self.seats.values())

    @property
    def full(self) -> bool:
        with self.lock:
            return self.max_sessions is not None and len(self.seats) >= self.max_sessions

    def end_idle(self, now: float | None = None) -> list[Seat]:
        """End the seats nobody has used for `idle_timeout`; their pages are told (`on_end`)."""
        if not self.idle_timeout:
            return []
        now = time.monotonic() if now is None else now
        with self.lock:
            idle = [s for s in self.seats.values() if now - s.idle_since() >= self.idle_timeout]
        for seat in idle:
            if seat.session is not None and seat.session.busy:
                continue  # a replay or a play loop still running: somebody started it recently
            seat.leave("idle")
            _tell(seat)
        return idle

    # -- housekeeping --------------------------------------------------------------------------------
    def start(self) -> None:
        """The room's thread: ends idle seats, frees closed sessions' memory, measures CPU."""
        with self.lock:
            if self._ticker is not None:
                return
            self._ticker = threading.Thread(target=self._tick_forever, name="funnelsim-room", daemon=True)
        self._ticker.start()

    def _tick_forever(self) -> None:
        while True:
            self._collect.wait(TICK)
            self.tick()

    def tick(self) -> None:
        self.end_idle()
        if self._collect.is_set():
            self._collect.clear()
            release_memory()
        now, cpu = time.monotonic(), _cpu_seconds()
        then, cpu_then, _ = self._cpu
        if now - then >= TICK:
            self._cpu = (now, cpu, (cpu - cpu_then) / (now - then))

    def collect_soon(self) -> None:
        """Closed models are cycles (agents point at their model): collect them on the next tick."""
        self._collect.set()

    def status(self) -> dict[str, Any]:
        from funnelsim.dashboard import workers

        with self.lock:
            sessions = [s.session for s in self.seats.values() if s.session is not None]
            seats = len(self.seats)
        pool = workers.current_pool()
        in_workers = pool.status() if pool is not None else []
        return {
            "sessions": seats,
            "max_sessions": self.max_sessions,
            "playing": sum(1 for s in sessions if s.playing),
            "arriving": self.arriving(),
            "busy": sum(1 for s in sessions if s.busy),
            "models": len(LIVE_MODELS) + sum(w["models"] for w in in_workers),
            "workers": in_workers,
            "cpu": round(self._cpu[2], 3),
            "rss_mb": _rss_mb(),
            "idle_timeout": self.idle_timeout,
            "grace": self.grace,
        }


def status_line(status: dict[str, Any]) -> str:
    """What `funnelsim dashboard` prints for the trainer when the room changes."""
    limit = f" of {status['max_sessions']}" if status.get("max_sessions") else ""
    line = f"room: {status['sessions']}{limit} sessions open, {status['playing']} playing, {status['busy']} computing"
    if status.get("workers"):
        busy = sum(1 for w in status["workers"] if w["busy"])
        line += f"; workers {busy} of {len(status['workers'])} busy"
    return line + f"; server {100 * status['cpu']:.0f}% of a core, {status['rss_mb']:.0f} MB"


def _tell(seat: Seat) -> None:
    """Redraw the seat's page, inside its kernel context (the room's thread has none)."""
    if seat.on_end is None:
        return
    try:
        if seat.context is not None:
            with seat.context:
                seat.on_end()
        else:
            seat.on_end()
    except Exception:  # the tab may be closing at the same moment: nothing left to tell
        pass


def release_memory() -> None:
    """Collect cycles and hand freed heap back to the system (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


ROOM = Room.from_env()
