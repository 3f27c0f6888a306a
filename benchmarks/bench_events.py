"""Why FunnelModel keeps its own heap: Mesa's event list against a plain heapq, same workload.

    python benchmarks/bench_events.py [--events 200000]

Each event reschedules a successor at a random later time, as a rep's task completion does.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import time

import mesa


class Worker:
    def __init__(self, model, rng):
        self.model = model
        self.rng = rng
        self.left = 0

    def fire(self):
        if self.left > 0:
            self.left -= 1
            self.model.schedule_event(self.fire, after=self.rng.random())


def mesa_events(n: int, workers: int = 50) -> float:
    model = mesa.Model(rng=1)
    rng = random.Random(1)
    ws = [Worker(model, rng) for _ in range(workers)]
    for w in ws:
        w.left = n // workers
        model.schedule_event(w.fire, after=rng.random())
    horizon = n / workers * 0.5 * 1.5  # past the last event (mean spacing 0.5)
    start = time.perf_counter()
    model.run_until(horizon)  # also runs Mesa's own step every 1.0: a few thousand extra events
    assert all(w.left == 0 for w in ws)
    return time.perf_counter() - start


def heap_events(n: int, workers: int = 50) -> float:
    rng = random.Random(1)
    heap: list = []
    seq = itertools.count()
    left = [n // workers] * workers

    def fire(i, now):
        if left[i] > 0:
            left[i] -= 1
            heapq.heappush(heap, (now + rng.random(), next(seq), fire, i))

    for i in range(workers):
        heapq.heappush(heap, (rng.random(), next(seq), fire, i))
    start = time.perf_counter()
    while heap:
        t, _, callback, arg = heapq.heappop(heap)
        callback(arg, t)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    m = min(mesa_events(args.events) for _ in range(3))
    h = min(heap_events(args.events) for _ in range(3))
    print(f"Mesa schedule_event: {m:.3f} s for {args.events:,} events ({m / args.events * 1e6:.2f} us each)")
    print(f"plain heapq:         {h:.3f} s for {args.events:,} events ({h / args.events * 1e6:.2f} us each)")
    print(f"heapq is {m / h:.1f}x faster")


if __name__ == "__main__":
    main()
