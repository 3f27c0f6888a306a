"""Where a sweep's runs execute: in this process, on local processes, or on a Dask cluster.

All three are `concurrent.futures.Executor`s; the sweep submits chunks of runs (`run_chunk`) and
never cares which one it has. A chunk returns its rows as plain columns, never live models.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from funnelsim.commands.common import UsageError
from funnelsim.experiment.parameters import apply_values
from funnelsim.model.model import FunnelModel
from funnelsim.results.kpis import run_kpis
from funnelsim.scenario.messages import problems_from
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import FieldPath, Source


@dataclass(frozen=True)
class RunSpec:
    """One run to do: which point, which replication, which seed."""

    run_id: str
    point_id: int
    replication: int
    seed: int
    values: tuple


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs, so that it needs no files (Dask workers may share none)."""

    base_doc: dict[str, Any]
    paths: list[tuple[FieldPath, ...]]
    names: list[str]
    kpis: tuple[str, ...]
    runs: list[RunSpec]


def run_kpis_once(scenario: Scenario, seed: int) -> dict[str, float]:
    """One seeded run reduced to its KPIs: the least a sweep needs to keep."""
    return run_kpis(FunnelModel(scenario, rng=seed).run())


def _short_error(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    text = str(exc).strip().replace("\n", "; ")
    return f"{type(exc).__name__}: {text}{where}"


def _build(job: ChunkJob, values: tuple) -> Scenario:
    doc = apply_values(job.base_doc, job.paths, values)
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        found = problems_from(exc.errors(include_url=False), Source(doc, {}), Scenario)
        message = "; ".join(f"{p.path}: {p.message}" for p in found)
        raise ValueError(f"invalid scenario at this point: {message}") from None


def run_chunk(job: ChunkJob) -> dict[str, list]:
    """Run every run of the chunk; a run that raises becomes an `error` row, the chunk goes on."""
    cols: dict[str, list] = {k: [] for k in ("run_id", "point_id", "replication", "seed", *job.names)}
    cols.update({k: [] for k in job.kpis})
    cols.update(status=[], error=[], seconds=[])
    scenarios: dict[int, Scenario | Exception] = {}
    for run in job.runs:
        t0 = time.perf_counter()
        kpis, error = None, None
        try:
            if run.point_id not in scenarios:
                try:
                    scenarios[run.point_id] = _build(job, run.values)
                except ValueError as exc:
                    scenarios[run.point_id] = exc
            scenario = scenarios[run.point_id]
            if isinstance(scenario, Exception):
                raise scenario
            kpis = run_kpis_once(scenario, run.seed)
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the sweep
            error = _short_error(exc)
        cols["run_id"].append(run.run_id)
        cols["point_id"].append(run.point_id)
        cols["replication"].append(run.replication)
        cols["seed"].append(run.seed)
        for name, value in zip(job.names, run.values, strict=True):
            cols[name].append(value)
        for k in job.kpis:
            cols[k].append(math.nan if kpis is None else float(kpis[k]))
        cols["status"].append("ok" if error is None else "error")
        cols["error"].append(error)
        cols["seconds"].append(time.perf_counter() - t0)
    return cols


# -- executors -----------------------------------------------------------------------------------
class SequentialExecutor(Executor):
    """Runs each task as it is submitted, in this process: the reference the others must match."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, like the others
            future.set_exception(exc)
        return future


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent decides, workers must not die mid-chunk.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes, started like `runner.process_pool` (forkserver with the model preloaded)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["funnelsim.experiment.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)


def stop_now(executor: Executor) -> None:
    """Cancel what has not started and, for local processes, end the workers at once."""
    executor.shutdown(wait=False, cancel_futures=True)
    processes = getattr(executor, "_processes", None) or {}
    for proc in list(processes.values()):
        if proc.is_alive():
            proc.terminate()
    for proc in list(processes.values()):
        proc.join(timeout=5)


@dataclass
class Evaluator:
    """An executor and how many runs it can do at once (a cluster's count can change: `recount`)."""

    executor: Executor
    slots: int
    kind: str
    recount: Callable[[], int] | None = None
    _checked: float = 0.0

    def current_slots(self) -> int:
        """Slots now; a cluster is asked at most every 5 s, so workers that join are used."""
        if self.recount is not None and time.monotonic() - self._checked > 5.0:
            self._checked = time.monotonic()
            self.slots = max(1, self.recount())
        return self.slots


def _dask_slots(client) -> Callable[[], int]:
    return lambda: sum(client.nthreads().values())


@contextmanager
def open_evaluator(workers: int = 1, scheduler: str | None = None) -> Iterator[Evaluator]:
    """Sequential (1 worker), local processes (more), or the Dask cluster at `scheduler`."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'funnelsim[distributed]'") from None
        try:
            client = Client(scheduler)
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield dask_evaluator(client, f"Dask scheduler {scheduler}")
        finally:
            client.close()
        return
    if workers <= 1:
        yield Evaluator(SequentialExecutor(), 1, "sequential")
        return
    pool = process_pool(workers)
    try:
        yield Evaluator(pool, workers, f"{workers} processes")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def dask_evaluator(client, kind: str = "Dask") -> Evaluator:
    """An evaluator on an existing `distributed.Client` (for notebooks and tests)."""
    ev = Evaluator(client.get_executor(pure=False), 1, kind, recount=_dask_slots(client))
    ev.current_slots()
    return ev
