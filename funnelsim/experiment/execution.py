"""Where a batch of runs executes: in this process, or on a pool of local worker processes.

A batch is a list of `(scenario, seed)` pairs from any number of strategies or team sizes, so
one pool serves a whole comparison or sweep and no worker idles while a strategy finishes.
Results come back in task order and do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from funnelsim.experiment.runner import RunResult, run_once
from funnelsim.scenario.schema import Scenario


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent stops the pool, workers must stay quiet.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def executor(workers: int) -> Iterator[Executor | None]:
    """Worker processes for `workers > 1` (forkserver, model preloaded), else None: this process."""
    if workers <= 1:
        yield None
        return
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["funnelsim.experiment.runner"])
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (Ctrl-C, or a run that failed)."""
    processes = dict(getattr(pool, "_processes", None) or {})
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes.values():
        if proc.is_alive():
            proc.terminate()
    for proc in processes.values():
        proc.join(timeout=5)


def run_tasks(
    tasks: Sequence[tuple[Scenario, int]],
    pool: Executor | None,
    progress: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Run every `(scenario, seed)`; one task a run keeps the load balanced to the last run."""
    if pool is None:
        out = []
        for scenario, seed in tasks:
            out.append(run_once(scenario, seed))
            if progress:
                progress(1)
        return out
    futures = {pool.submit(run_once, scenario, seed): i for i, (scenario, seed) in enumerate(tasks)}
    results: list[RunResult | None] = [None] * len(tasks)
    for done in as_completed(futures):
        results[futures[done]] = done.result()
        if progress:
            progress(1)
    return results  # type: ignore[return-value]
