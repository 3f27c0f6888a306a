"""A workshop session: the room's choices, and one or two models stepped day by day together.

Side by side, both models get the same seed, so they draw the same random numbers (the model keeps
a stream per purpose): what differs between the figures is the strategy, not the luck.

Moving a lever rebuilds the models and replays them to the day the room had reached ("what if we
had done this from the start"); the replay is done in slices, so the page can redraw between them.
Everything here is plain Python: the Solara page drives it from one thread at a time, and a lock
keeps a redraw from reading a model while it steps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from funnelsim.dashboard.levers import BY_KEY, apply_levers, read_levers
from funnelsim.dashboard.room import LIVE_MODELS
from funnelsim.dashboard.snapshot import Ramp, Snapshot, Tracker, ramp_by_cohort, take_snapshot
from funnelsim.model.model import FunnelModel
from funnelsim.scenario.schema import Scenario

BOTH, B_ONLY = "both", "B only"
# what the page shows of a day: the snapshots (numbers, clock) and the figures as SVG, by key
Frame = tuple[list[Snapshot], dict[str, bytes]]
# a replay draws its first frame after this much stepping (most baseline replays fit), then more often
REPLAY_FIRST_SLICE_SECONDS = 0.5
REPLAY_SLICE_SECONDS = 0.3


class LeverError(ValueError):
    """The levers as set make no valid scenario; the message says which field and why."""


class Run:
    """One strategy's model and what the dashboard tracks beside it."""

    def __init__(self, name: str, scenario: Scenario, seed: int):
        self.name = name
        self.scenario = scenario
        self.model = FunnelModel(scenario, rng=seed)
        LIVE_MODELS.add(self.model)
        self.tracker = Tracker(self.model)
        self._ramp: tuple[int, Ramp] = (-1, Ramp())

    @property
    def running(self) -> bool:
        return self.model.running

    def step(self) -> None:
        model = self.model
        if not model.running:
            return
        model.step()
        self.tracker.update(model)

    def snapshot(self) -> Snapshot:
        rows = len(self.model.people.weekly)
        if self._ramp[0] != rows:  # weekly rows only grow at the end of a week
            self._ramp = (rows, ramp_by_cohort(self.model))
        return take_snapshot(self.model, self.name, self.tracker, self._ramp[1])


class Workshop:
    """One or two runs with the same seed, stepped together one working day at a time."""

    def __init__(self, strategies: list[tuple[str, Scenario]], seed: int | None = None):
        if not 1 <= len(strategies) <= 2:
            raise ValueError("a workshop shows one or two strategies")
        self.seed = strategies[0][1].seed if seed is None else seed
        self.runs = [Run(name, scenario, self.seed) for name, scenario in strategies]
        self._days_per_week = self.runs[0].model.calendar.days_per_week
        self.lock = threading.RLock()
        self._snapshots: tuple[int, list[Snapshot]] | None = None
        self._frame: Frame | None = None

    @property
    def day(self) -> int:
        return max((run.model.day for run in self.runs), default=0)

    @property
    def days_total(self) -> int:
        return max((run.model.days_total for run in self.runs), default=0)

    @property
    def days_per_week(self) -> int:
        return self._days_per_week

    @property
    def running(self) -> bool:
        return any(run.running for run in self.runs)

    def step(self, days: int = 1) -> int:
        """Advance every run `days` working days (each stops at its horizon); days advanced."""
        done = 0
        with self.lock:
            for _ in range(days):
                if not self.running:
                    break
                for run in self.runs:
                    run.step()
                done += 1
        return done

    def advance_to(self, day: int, seconds: float | None = None) -> bool:
        """Step towards `day`, for at most `seconds` of wall time; True once there (or at the end)."""
        start = time.perf_counter()
        while self.day < day and self.running:
            self.step()
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
        return self.day >= day or not self.running

    def close(self) -> None:
        with self.lock:
            self.runs = []
            self._snapshots = None
            self._frame = None

    def frame(self) -> Frame:
        """Today's snapshots and every figure drawn from them (drawn once per simulated day)."""
        from funnelsim.dashboard.figures import draw_all

        with self.lock:
            snaps = self.snapshots()
            if self._frame is None or self._frame[0] is not snaps:
                self._frame = (snaps, draw_all(snaps) if snaps else {})
            return self._frame

    def snapshots(self) -> list[Snapshot]:
        """The figures' data for today, taken once per simulated day."""
        with self.lock:
            key = sum(run.model.day for run in self.runs)
            if self._snapshots is None or self._snapshots[0] != key:
                self._snapshots = (key, [run.snapshot() for run in self.runs])
            return self._snapshots[1]


@dataclass(frozen=True)
class Setup:
    """What the room has chosen: one strategy or two, and the levers moved away from the file."""

    strategy_a: str
    strategy_b: str | None = None
    levers: Mapping[str, Any] = field(default_factory=dict)
    apply_to: str = BOTH

    @property
    def side_by_side(self) -> bool:
        return self.strategy_b is not None


class Session:
    """The strategies of one scenario file, the room's setup, and the workshop it gives."""

    def __init__(self, variants: Mapping[str, Scenario], setup: Setup | None = None):
        if not variants:
            raise ValueError("no strategies to show")
        self.variants = dict(variants)
        self.setup = setup or Setup(next(iter(self.variants)))
        self.lock = threading.RLock()
        self.workshop = self._build(self.setup)
        self.target_day = 0
        self.closed = False
        self.playing = False  # the page's play loop is on (the room counts these)
        self.last_used = time.monotonic()
        self.lost: str | None = None  # the worker holding the models stopped: what the page says
        self._last_frame: Frame = ([], {})
        self._working = 0

    def touch(self) -> None:
        """Somebody used the page (the room ends sessions nobody uses)."""
        self.last_used = time.monotonic()

    @property
    def busy(self) -> bool:
        """Stepping or replaying right now."""
        return self._working > 0

    def close(self) -> None:
        """The tab is gone: stop stepping and let the models go (waits for a step under way)."""
        with self.lock:
            self.closed = True
            self.playing = False
            self.workshop.close()

    @property
    def names(self) -> list[str]:
        return list(self.variants)

    def default_b(self) -> str:
        """Side by side starts with the file's first two strategies (or one against itself)."""
        names = self.names
        return names[1] if len(names) > 1 and names[0] == self.setup.strategy_a else names[0]

    def strategies(self, setup: Setup) -> list[tuple[str, Scenario]]:
        """(label, scenario) of each run, with the levers applied where they apply."""
        a = self.variants[setup.strategy_a]
        if not setup.side_by_side:
            return [(setup.strategy_a, _apply(a, setup.levers))]
        b = self.variants[setup.strategy_b]
        label_b = setup.strategy_b
        if setup.apply_to == B_ONLY:
            if setup.levers:
                label_b += " + changes"
            elif label_b == setup.strategy_a:
                label_b += " (again)"
            return [(setup.strategy_a, a), (label_b, _apply(b, setup.levers))]
        if label_b == setup.strategy_a:
            label_b += " (again)"
        return [(setup.strategy_a, _apply(a, setup.levers)), (label_b, _apply(b, setup.levers))]

    def changes_text(self) -> str:
        """'Sales reps 40 (file: 25), Mentoring on (file: off)': the levers the room has moved."""
        own = read_levers(self.lever_scenario())
        parts = []
        for key, value in self.setup.levers.items():
            lever = BY_KEY[key]
            parts.append(f"{_short(lever.label)} {lever.show(value)} (file: {lever.show(own[key])})")
        return ", ".join(parts)

    def lever_scenario(self, setup: Setup | None = None) -> Scenario:
        """The scenario whose settings the lever controls show."""
        setup = setup or self.setup
        name = setup.strategy_b if setup.side_by_side and setup.apply_to == B_ONLY else setup.strategy_a
        return self.variants[name]

    def lever_values(self) -> dict[str, Any]:
        """Where each control stands: the room's value where moved, else the strategy's own."""
        return {**read_levers(self.lever_scenario()), **self.setup.levers}

    def _build(self, setup: Setup) -> Workshop:
        """The models, in a worker process when the server has a pool (else in this one)."""
        from funnelsim.dashboard import workers

        strategies, seed = self.strategies(setup), self.variants[setup.strategy_a].seed
        pool = workers.pool()
        if pool is None:
            return Workshop(strategies, seed=seed)
        try:
            return workers.RemoteWorkshop(pool, strategies, seed=seed)
        except workers.WorkerLost:  # it died as we asked: the pool replaces it on the next try
            return workers.RemoteWorkshop(pool, strategies, seed=seed)

    def _replace(self, workshop) -> None:
        old, self.workshop = self.workshop, workshop
        self.lost = None
        if old is not workshop:
            old.close()

    def _lose(self, err: Exception) -> None:
        self.lost = f"The simulation's worker process stopped ({err})."
        self.playing = False

    # -- what the room does ----------------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        """Change the setup (strategies, levers, apply_to) and rebuild; the replay target is the
        day reached so far. Raises LeverError, leaving everything as it was, if invalid."""
        with self.lock:
            if self.closed:
                return
            self.touch()
            setup = replace(self.setup, **changes)
            if setup.strategy_a not in self.variants or (setup.side_by_side and setup.strategy_b not in self.variants):
                raise LeverError(f"no strategy called {setup.strategy_b or setup.strategy_a!r} in this file")
            workshop = self._build(setup)
            self.target_day = max(self.target_day, self.workshop.day)
            self.setup = setup
            self._replace(workshop)

    def set_lever(self, key: str, value: Any) -> None:
        """Move one lever; moving it back to the strategy's own value forgets it."""
        if key not in BY_KEY:
            raise KeyError(key)
        levers = dict(self.setup.levers)
        if read_levers(self.lever_scenario()).get(key) == value:
            levers.pop(key, None)
        else:
            levers[key] = value
        self.configure(levers=levers)

    def reset(self) -> None:
        """Back to day 0 with the current setup."""
        with self.lock:
            if self.closed:
                return
            self.touch()
            self._replace(self._build(self.setup))
            self.target_day = 0

    def step(self, days: int) -> int:
        from funnelsim.dashboard.workers import WorkerLost

        with self.lock:
            if self.closed or self.lost:
                return 0
            self._working += 1
            try:
                done = self.workshop.step(days)
            except WorkerLost as err:
                self._lose(err)
                return 0
            finally:
                self._working -= 1
            self.target_day = self.workshop.day
            return done

    @property
    def catching_up(self) -> bool:
        if self.closed or self.lost:
            return False
        return self.workshop.day < self.target_day and self.workshop.running

    def catch_up(self, seconds: float | None = None) -> bool:
        """Replay towards the day the room had reached; True once there."""
        from funnelsim.dashboard.workers import WorkerLost

        with self.lock:
            if self.closed or self.lost:
                return True
            self._working += 1
            try:
                return self.workshop.advance_to(self.target_day, seconds)
            except WorkerLost as err:
                self._lose(err)
                return True
            finally:
                self._working -= 1

    def restart(self) -> None:
        """After a lost worker: build the models again and replay them to the day reached."""
        self.configure()

    def snapshots(self) -> list[Snapshot]:
        with self.lock:
            return self.workshop.snapshots()

    def frame(self) -> Frame:
        """Today's snapshots and figures (the last ones drawn, if the worker has been lost since)."""
        from funnelsim.dashboard.workers import WorkerLost

        with self.lock:
            if not (self.closed or self.lost):
                try:
                    self._last_frame = self.workshop.frame()
                except WorkerLost as err:
                    self._lose(err)
            return self._last_frame


def _apply(scenario: Scenario, levers: Mapping[str, Any]) -> Scenario:
    try:
        return apply_levers(scenario, levers)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise LeverError(f"these lever settings make no valid scenario: {problems}") from None


def _short(label: str) -> str:
    return label.split(" (")[0]
