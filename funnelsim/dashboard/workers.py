"""The sessions' models in worker processes, so a room of tabs uses every core.

The web server's interpreter serves the pages; each session's models live in one of a pool of
worker processes (sized to the cores), which steps them, replays them after a lever moved, takes
their snapshots and draws the figures (measured: drawing the six figures takes some 20 times as
long as stepping a week). Only the snapshots (a few arrays per strategy) and the SVG come back.

A session stays on the worker it was given (the least loaded when it was built). Calls to one
worker are taken one at a time; calls to different workers run at once. A new tab's build (which
also draws its first frame) and a closing tab's release go ahead of the calls of tabs already
playing, so a newcomer sees its page in about the time an idle server takes even when the room
is busy. A worker that dies takes its sessions' models with it: their next call raises
`WorkerLost`, the page says so and offers a restart, which builds the models again on a live
worker (the pool replaces the dead one).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import threading
from typing import Any

from funnelsim.scenario.schema import Scenario

WORKERS_ENV = "FUNNELSIM_DASHBOARD_WORKERS"


class WorkerLost(RuntimeError):
    """The worker process holding a session's models has stopped."""


# -- inside a worker -------------------------------------------------------------------------------
def _state(workshop) -> dict[str, Any]:
    return {"day": workshop.day, "days_total": workshop.days_total, "running": workshop.running}


def serve(conn) -> None:
    """A worker's loop: build, step, replay and snapshot the workshops it holds, one call at a time."""
    from funnelsim.dashboard.room import release_memory
    from funnelsim.dashboard.session import Workshop

    workshops: dict[int, Workshop] = {}
    released = True  # nothing closed since the last collection
    while True:
        try:
            if not released and not conn.poll(1.0):  # a quiet second: give closed models' memory back
                release_memory()
                released = True
            op, key, args = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        try:
            if op == "build":
                strategies, seed = args
                workshop = workshops[key] = Workshop(strategies, seed=seed)
                reply: Any = {"days_per_week": workshop.days_per_week, "frame": workshop.frame()}
            elif op == "close":
                if workshops.pop(key, None) is not None:
                    released = False  # a model is a web of cycles: collect it when the worker is quiet
                reply = None
            else:
                workshop = workshops[key]
                if op == "step":
                    reply = workshop.step(*args)
                elif op == "advance_to":
                    reply = workshop.advance_to(*args)
                elif op == "snapshots":
                    reply = workshop.snapshots()
                elif op == "frame":
                    reply = workshop.frame()
                else:
                    raise ValueError(f"unknown call {op!r}")
            state = _state(workshops[key]) if key in workshops else None
            conn.send((True, reply, state, sum(len(w.runs) for w in workshops.values())))
        except Exception as err:  # the session shows the message; the worker carries on
            conn.send((False, RuntimeError(f"{type(err).__name__}: {err}"), None, None))


# -- in the web server -----------------------------------------------------------------------------
class Gate:
    """One call at a time, and urgent callers before the others.

    A plain lock hands itself to whichever waiting thread the scheduler wakes, so a new tab's build
    could wait behind several rounds of the playing tabs' steps and frames. Here a caller marked
    urgent is let in as soon as the call under way ends; the others wait while any urgent one does.
    """

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._urgent = 0

    @contextlib.contextmanager
    def hold(self, urgent: bool = False):
        with self._cond:
            if urgent:
                self._urgent += 1
                try:
                    while self._held:
                        self._cond.wait()
                finally:
                    self._urgent -= 1
            else:
                while self._held or self._urgent:
                    self._cond.wait()
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()


URGENT = frozenset({"build", "close"})  # a tab arriving or leaving: ahead of the tabs at play


class Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context, number: int):
        self.number = number
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child,), name=f"funnelsim-worker-{number}", daemon=True)
        self.process.start()
        child.close()
        self.gate = Gate()
        self.sessions = 0
        self.models = 0  # as the worker last said
        self.busy = 0  # calls under way

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def call(self, op: str, key: int, *args):
        with self.gate.hold(urgent=op in URGENT):
            self.busy += 1
            try:
                self.conn.send((op, key, args))
                ok, reply, state, models = self.conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                raise WorkerLost(f"worker {self.number} (process {self.process.pid}) stopped") from None
            finally:
                self.busy -= 1
        if not ok:
            raise reply
        self.models = models
        return reply, state

    def stop(self) -> None:
        self.conn.close()
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()


class Pool:
    """Worker processes for the room's sessions; a dead one is replaced when a session next needs one."""

    def __init__(self, size: int | None = None):
        self.size = size or os.cpu_count() or 1
        # a fresh interpreter: forking a web server's threads and sockets is asking for trouble
        self.context = multiprocessing.get_context("spawn")
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)
        self.workers = [Worker(self.context, next(self.numbers)) for _ in range(self.size)]

    def assign(self) -> Worker:
        """The least loaded live worker (replacing dead ones first)."""
        with self.lock:
            for i, worker in enumerate(self.workers):
                if not worker.alive:
                    self.workers[i] = Worker(self.context, next(self.numbers))
            worker = min(self.workers, key=lambda w: w.sessions)
            worker.sessions += 1
            return worker

    def release(self, worker: Worker) -> None:
        with self.lock:
            worker.sessions = max(0, worker.sessions - 1)

    def status(self) -> list[dict[str, Any]]:
        return [
            {"pid": w.process.pid, "sessions": w.sessions, "models": w.models if w.alive else 0, "busy": w.busy > 0}
            for w in self.workers
        ]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


class RemoteWorkshop:
    """A `session.Workshop` whose runs live in a worker process: the same calls, answered there."""

    _keys = itertools.count(1)

    def __init__(self, pool: Pool, strategies: list[tuple[str, Scenario]], seed: int | None = None):
        self.pool = pool
        self.key = next(self._keys)
        self.names = [name for name, _ in strategies]
        self.worker = pool.assign()
        self.lock = threading.RLock()
        self._closed = False
        self._snapshots: tuple[int, list] | None = None
        self._frame: tuple[int, tuple] | None = None
        try:
            reply, state = self.worker.call("build", self.key, strategies, seed)
        except BaseException:
            pool.release(self.worker)
            raise
        self.days_per_week = reply["days_per_week"]
        self._state = state
        self._frame = (state["day"], reply["frame"])  # drawn with the build: the page needs no second call

    @property
    def day(self) -> int:
        return self._state["day"]

    @property
    def days_total(self) -> int:
        return self._state["days_total"]

    @property
    def running(self) -> bool:
        return self._state["running"] and not self._closed

    def _call(self, op: str, *args):
        if self._closed:
            raise WorkerLost("this session's models were released")
        reply, state = self.worker.call(op, self.key, *args)
        if state is not None:
            self._state = state
        return reply

    def step(self, days: int = 1) -> int:
        with self.lock:
            return self._call("step", days) if self.running else 0

    def advance_to(self, day: int, seconds: float | None = None) -> bool:
        with self.lock:
            if self.day >= day or not self.running:
                return True
            return self._call("advance_to", day, seconds)

    def snapshots(self) -> list:
        with self.lock:
            if self._closed:
                return []
            if self._snapshots is None or self._snapshots[0] != self.day:
                self._snapshots = (self.day, self._call("snapshots"))
            return self._snapshots[1]

    def frame(self) -> tuple[list, dict[str, bytes]]:
        """Snapshots and figures, drawn in the worker: only SVG text and a few arrays come back."""
        with self.lock:
            if self._closed:
                return [], {}
            if self._frame is None or self._frame[0] != self.day:
                self._frame = (self.day, self._call("frame"))
            return self._frame[1]

    def close(self) -> None:
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self._snapshots = self._frame = None
        self.pool.release(self.worker)
        if self.worker.alive:
            with contextlib.suppress(Exception):  # lost meanwhile: its models went with it
                self.worker.call("close", self.key)


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> Pool | None:
    """The server's pool, started on first use; None when `FUNNELSIM_DASHBOARD_WORKERS` is 0 or unset
    (the models then step in the server's own interpreter, as in `solara.render` tests)."""
    global _POOL
    size = int(os.environ.get(WORKERS_ENV) or 0)
    if size <= 0:
        return None
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool(size)
        return _POOL


def current_pool() -> Pool | None:
    """The pool if one has been started (the status never starts one)."""
    return _POOL


def warm_up(p: Pool) -> None:
    """Have every worker import the model now, not when the first tab needs it."""
    for worker in p.workers:
        with contextlib.suppress(Exception):
            worker.call("close", 0)
