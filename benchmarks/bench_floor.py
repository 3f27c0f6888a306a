"""The bare-loop floor of a one-year run: the least a Mesa model with lead agents and a heap can cost.

    python benchmarks/bench_floor.py                  # the floor, best of 3 seeds
    python benchmarks/bench_floor.py --compare        # and funnelsim.simulate(baseline) beside it
    python benchmarks/bench_floor.py --json           # one JSON line (for bench_engine.py)

500 leads a week for 52 weeks of 40 business hours, their arrival times drawn up front. Each lead
is a `mesa.Agent` on a `mesa.Model` built with `rng=`, routed to the least-loaded of 40 reps
through a heap (lazy deletion). A 0.25 h contact whose success decays with the wait, then a 1 h
demo 8 h later and a 2 h close 40 h later, each a coin flip, all on one `heapq` event loop. Reps
work one task at a time from their own queue; finished leads are removed as agents.

Nothing is vectorised that the real model could not vectorise: one event at a time, one random
draw at a time. The cycle collector is off during the loop, as in `FunnelModel.step`. Target for
`simulate` on the baseline: at most 2x this floor, stretch 1.5x.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import time
from collections import deque
from heapq import heappop, heappush
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

LEADS_PER_WEEK = 500
WEEKS = 52
HOURS_PER_WEEK = 40
REPS = 40
CONTACT_HOURS, DEMO_HOURS, CLOSE_HOURS = 0.25, 1.0, 2.0
DEMO_AFTER, CLOSE_AFTER = 8.0, 40.0
CONTACT_SUCCESS = 0.5  # at no wait; halves every CONTACT_HALF_LIFE business hours of wait
CONTACT_HALF_LIFE = 2.0
COIN = 0.5
CONTACT, DEMO, CLOSE = 0, 1, 2
DONE, READY = 0, 1


class Lead(mesa.Agent):
    """A lead: when it arrived, whose it is and which task it waits for."""

    def __init__(self, model: FloorModel, arrival: float):
        super().__init__(model)
        self.arrival = arrival
        self.rep: Rep | None = None
        self.task = CONTACT


class Rep(mesa.Agent):
    """A rep: open leads owned, its own queue of ready tasks, busy or not."""

    def __init__(self, model: FloorModel):
        super().__init__(model)
        self.open_leads = 0
        self.queue: deque[Lead] = deque()
        self.current: Lead | None = None
        self.started = 0.0
        self.mark = 0  # sequence number of its only valid entry in the load heap


class FloorModel(mesa.Model):
    """The whole year on one heap of (time, seq, kind, object)."""

    def __init__(self, rng: int, leads_per_week: int = LEADS_PER_WEEK, reps: int = REPS, weeks: int = WEEKS):
        super().__init__(rng=rng)
        self.horizon = weeks * HOURS_PER_WEEK
        draws = self.rng.uniform(0, HOURS_PER_WEEK, (weeks, leads_per_week))
        draws.sort(axis=1)
        draws += HOURS_PER_WEEK * np.arange(weeks)[:, None]
        self.arrivals: list[float] = draws.ravel().tolist()
        self.events: list = []
        self.loads: list = []
        self.seq = 0
        self.reps = [Rep(self) for _ in range(reps)]
        for rep in self.reps:
            self.push_load(rep)
        self.leads_created = 0
        self.deals_won = 0
        self.events_run = 0

    # -- routing: least loaded through a heap with lazy deletion -------------------------------
    def push_load(self, rep: Rep) -> None:
        self.seq += 1
        rep.mark = self.seq
        heappush(self.loads, (rep.open_leads, self.seq, rep))

    def least_loaded(self) -> Rep:
        loads = self.loads
        while True:
            _, mark, rep = loads[0]
            if mark == rep.mark:
                return rep
            heappop(loads)

    # -- the rules --------------------------------------------------------------------------------
    def arrive(self, now: float) -> None:
        lead = Lead(self, now)
        self.leads_created += 1
        rep = self.least_loaded()
        lead.rep = rep
        rep.open_leads += 1
        self.push_load(rep)
        self.ready(lead, now)

    def ready(self, lead: Lead, now: float) -> None:
        rep = lead.rep
        rep.queue.append(lead)
        if rep.current is None:
            self.start(rep, now)

    def start(self, rep: Rep, now: float) -> None:
        lead = rep.queue.popleft()
        rep.current = lead
        rep.started = now
        task = lead.task
        hours = CONTACT_HOURS if task == CONTACT else DEMO_HOURS if task == DEMO else CLOSE_HOURS
        self.seq += 1
        heappush(self.events, (now + hours, self.seq, DONE, rep))

    def done(self, rep: Rep, now: float) -> None:
        lead = rep.current
        rep.current = None
        task = lead.task
        luck = self.random.random()
        if task == CONTACT:
            wait = rep.started - lead.arrival
            success = luck < CONTACT_SUCCESS * math.exp(-wait * math.log(2) / CONTACT_HALF_LIFE)
            after, lead.task = DEMO_AFTER, DEMO
        elif task == DEMO:
            success = luck < COIN
            after, lead.task = CLOSE_AFTER, CLOSE
        else:
            success = False
            if luck < COIN:
                self.deals_won += 1
        if success:
            self.seq += 1
            heappush(self.events, (now + after, self.seq, READY, lead))
        else:
            self.finish(lead)
        if rep.queue:
            self.start(rep, now)

    def finish(self, lead: Lead) -> None:
        rep = lead.rep
        rep.open_leads -= 1
        self.push_load(rep)
        lead.remove()

    def run(self) -> FloorModel:
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._loop()
        finally:
            if collecting:
                gc.enable()
        return self

    def _loop(self) -> None:
        events, arrivals, horizon = self.events, self.arrivals, self.horizon
        n, i = len(arrivals), 0
        upcoming = arrivals[0] if n else math.inf
        count = 0
        while True:
            if events and events[0][0] <= upcoming:
                now, _, kind, obj = heappop(events)
                if now >= horizon:
                    break
                if kind == DONE:
                    self.done(obj, now)
                else:
                    self.ready(obj, now)
            elif i < n:
                self.arrive(upcoming)
                i += 1
                upcoming = arrivals[i] if i < n else math.inf
            else:
                break
            count += 1
        self.events_run = count


def time_floor(seed: int) -> tuple[float, FloorModel]:
    start = time.perf_counter()
    model = FloorModel(rng=seed).run()
    return time.perf_counter() - start, model


def time_simulate(scenario_path: Path, seed: int) -> float:
    import funnelsim

    scenario = funnelsim.load_scenario(scenario_path)
    start = time.perf_counter()
    result = funnelsim.simulate(scenario, seed=seed)
    result.kpis, result.timeseries  # noqa: B018 (what simulate returns, built as a caller sees it)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--compare", action="store_true", help="also time funnelsim.simulate on the baseline")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.yaml")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args()

    load_start = os.getloadavg()
    floor = []
    for seed in args.seeds:
        seconds, model = time_floor(seed)
        floor.append(seconds)
        stats = (model.leads_created, model.deals_won, model.events_run, len(model.agents))
    out = {"floor_seconds": min(floor), "floor_all": floor, "seeds": args.seeds}
    out["leads"], out["deals"], out["events"], out["agents_left"] = stats
    if args.compare:
        sim = [time_simulate(args.scenario, seed) for seed in args.seeds]
        out.update(simulate_seconds=min(sim), simulate_all=sim, ratio=min(sim) / min(floor))
    out["load_average"] = [load_start[0], os.getloadavg()[0]]
    if args.json:
        print(json.dumps(out))
        return
    print(f"load average (1 min) at start {load_start[0]:.2f}, at end {out['load_average'][1]:.2f}")
    print(
        f"floor: {out['floor_seconds']:.3f} s best of seeds {args.seeds} "
        f"({', '.join(f'{t:.3f}' for t in floor)}); last seed: {out['leads']:,} leads, {out['deals']:,} deals, "
        f"{out['events']:,} events, {out['agents_left']} agents left"
    )
    if args.compare:
        print(
            f"simulate({args.scenario.name}): {out['simulate_seconds']:.3f} s best of the same seeds "
            f"({', '.join(f'{t:.3f}' for t in out['simulate_all'])})"
        )
        print(f"simulate / floor: {out['ratio']:.2f}x (target <= 2x, stretch 1.5x)")


if __name__ == "__main__":
    main()
