"""Running a sweep: plan every run, skip those already stored, run the rest in chunks, compact.

Runs are identified by a hash of what determines them (package version, base scenario, parameter
values, seed), so a killed sweep resumes by running exactly the runs whose ids are not stored.
Replication r of every point uses the same seed (common random numbers), so points differ by
their parameters, not by their luck.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from funnelsim.errors import ExecutorFailed, UsageError
from funnelsim.experiment.executors import Executor, open_executor
from funnelsim.experiment.parameters import Sweep, digest
from funnelsim.experiment.samplers import Design, design
from funnelsim.experiment.store import SweepStore, results_schema, summarize
from funnelsim.experiment.sweepchunks import ChunkJob, RunSpec, run_chunk
from funnelsim.experiment.sweepfile import load_sweep
from funnelsim.model.streams import replication_seeds

TARGET_CHUNK_SECONDS = 2.0  # long enough that per-task overhead is noise, short enough to lose little on a kill
MAX_CHUNK = 500


def package_version() -> str:
    try:
        return metadata.version("funnelsim")
    except metadata.PackageNotFoundError:
        from funnelsim import __version__

        return __version__


@dataclass
class Plan:
    """Every run of the sweep, in point-major order."""

    sweep: Sweep
    design: Design
    seeds: list[int]
    runs: list[RunSpec]
    posterior: Any = None  # calibrate.draws.PosteriorDraws, when replications draw from one


def run_id(version: str, base_hash: str, paths: list[str], values: tuple, seed: int) -> str:
    return digest({"v": version, "base": base_hash, "at": dict(zip(paths, values, strict=True)), "seed": seed})[:24]


def plan(sweep: Sweep) -> Plan:
    points = design(sweep)
    seeds = replication_seeds(sweep.seed, sweep.replications)
    version = package_version()
    keys = ["|".join(p["paths"]) for p in (param.describe() for param in sweep.parameters)]
    runs = [
        RunSpec(run_id(version, sweep.base_hash, keys, values, seed), point_id, r, seed, values)
        for point_id, values in enumerate(points.points)
        for r, seed in enumerate(seeds)
    ]
    return Plan(sweep, points, seeds, runs)


def with_posterior(sweep: Sweep, posterior) -> Sweep:
    """The sweep with replication r of every point drawing posterior set r. A swept field that the
    posterior also sets is refused (one would silently override the other); the posterior's
    digest joins the base's, so runs with and without it are never mixed up on resume."""
    swept = {path: param.name for param in sweep.parameters for path in param.paths}
    for name, path in zip(posterior.names, posterior.paths, strict=True):
        if path in swept:
            raise UsageError(
                f"{posterior.file} draws {name}, which the sweep also varies (parameter {swept[path]!r}): "
                "the sweep's values would be overridden. Sweep other fields, or drop that column"
            )
    base_hash = digest({"base": sweep.base_hash, "posterior": posterior.sha256})
    return replace(sweep, base_hash=base_hash)


def manifest(p: Plan) -> dict:
    sweep = p.sweep
    return {
        "sweep_file": sweep.file,
        "sweep_hash": sweep.sweep_hash,
        "base_file": sweep.base_file,
        "base_hash": sweep.base_hash,
        "package_version": package_version(),
        "name": sweep.name,
        "sampler": sweep.sampler,
        "base_samples": p.design.base_samples,
        "parameters": [param.describe() for param in sweep.parameters],
        "points": len(p.design),
        "replications": sweep.replications,
        "seed": sweep.seed,
        "seeds": p.seeds,
        "kpis": list(sweep.kpis),
        "total_runs": len(p.runs),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass
class SweepOutcome:
    """What a `run_sweep` call did."""

    out: Path
    total: int
    already_done: int
    ran: int = 0
    errors: int = 0
    interrupted: bool = False
    summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def complete(self) -> bool:
        return not self.interrupted and self.already_done + self.ran == self.total

    @property
    def results(self) -> pd.DataFrame:
        """Every run, read from `results.parquet` when asked (a sweep does not hold them)."""
        return pd.read_parquet(self.out / "results.parquet")


class _Chunker:
    """Sizes chunks from the run time measured so far: about TARGET_CHUNK_SECONDS each, and at
    least four chunks per worker slot for what remains, so no worker idles at the end."""

    def __init__(self, slots: int, fixed: int | None) -> None:
        self.slots = slots
        self.fixed = fixed
        self.seconds_per_run: float | None = None

    def observe(self, seconds: list[float]) -> None:
        if seconds:
            mean = sum(seconds) / len(seconds)
            old = self.seconds_per_run
            self.seconds_per_run = mean if old is None else 0.7 * old + 0.3 * mean

    def size(self, remaining: int) -> int:
        if self.fixed:
            return self.fixed
        if self.seconds_per_run is None:
            return 2
        want = TARGET_CHUNK_SECONDS / max(self.seconds_per_run, 1e-6)
        balance = math.ceil(remaining / (4 * self.slots))
        return int(max(1, min(want, balance, MAX_CHUNK)))


def run_sweep(
    sweep: Sweep | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    force: bool = False,
    retry_failed: bool = False,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    posterior=None,
) -> SweepOutcome:
    """Run (or resume) a sweep into `out`; returns what was done.

    `executor` overrides `workers`/`scheduler` (e.g. a Dask client's, see `executors.dask_executor`).
    `on_start(total, already_done)` is called once the folder is checked, before any run.
    KeyboardInterrupt stops the sweep, keeping every finished chunk; the outcome says so.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    if posterior is not None:
        sweep = with_posterior(sweep, posterior)
    p = plan(sweep)
    p.posterior = posterior
    store = SweepStore(Path(out))
    info = manifest(p)
    info["posterior"] = None if posterior is None else {"file": posterior.file, "sha256": posterior.sha256}
    store.open(info, force=force)
    try:
        done = store.finished(include_errors=not retry_failed)
        todo = [r for r in p.runs if (r.point_id, r.run_id) not in done]
        outcome = SweepOutcome(store.out, len(p.runs), len(p.runs) - len(todo))
        if on_start:
            on_start(outcome.total, outcome.already_done)
        schema = results_schema(sweep.parameters, sweep.kpis)
        if todo:
            with open_executor(workers, scheduler, executor) as ex:
                _execute(p, todo, ex, store, schema, chunk_size or sweep.spec.chunk_size, outcome, progress)
        if outcome.interrupted:
            store.update_manifest(status="interrupted")
            return outcome
        results = store.compact(schema)
        summary = summarize(results, sweep.parameters, sweep.kpis)
        del results
        store.write_summary(summary)
        failed = int(summary["errors"].sum())
        outcome.errors = failed
        outcome.summary = summary
        store.update_manifest(
            status="complete", errors=failed, finished=datetime.now(UTC).isoformat(timespec="seconds")
        )
        return outcome
    finally:
        store.close()


def _execute(p, todo, ev: Executor, store: SweepStore, schema, chunk_size, outcome, progress) -> None:
    """Run `todo` in chunks; each finished chunk becomes a part file at once.

    Points with identical values (a Sobol' AB_i row whose discrete value matches A's) have the
    same run_id: the run is done once and its row recorded for each of those points.
    """
    sweep = p.sweep
    paths = [param.paths for param in sweep.parameters]
    names = [param.name for param in sweep.parameters]
    aliases: dict[str, list[int]] = {}
    unique: list[RunSpec] = []
    for run in todo:
        if run.run_id in aliases:
            aliases[run.run_id].append(run.point_id)
        else:
            aliases[run.run_id] = []
            unique.append(run)
    queue = deque(unique)
    chunker = _Chunker(ev.slots(), chunk_size)
    in_flight: set[Future] = set()
    try:
        while queue or in_flight:
            chunker.slots = ev.slots()
            while queue and len(in_flight) < 2 * chunker.slots:
                n = min(len(queue), chunker.size(len(queue)))
                runs = [queue.popleft() for _ in range(n)]
                job = ChunkJob(sweep.base_doc, paths, names, sweep.kpis, runs, p.posterior, sweep.seed)
                in_flight.add(ev.submit(run_chunk, job))
            finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                columns = future.result()
                chunker.observe(columns["seconds"])
                _add_aliases(columns, aliases)
                store.write_part(columns, schema)
                ran = len(columns["run_id"])
                outcome.ran += ran
                outcome.errors += sum(s != "ok" for s in columns["status"])
                if progress:
                    progress(ran)
    except KeyboardInterrupt:
        outcome.interrupted = True
        for future in in_flight:
            future.cancel()
        ev.stop()
    except Exception as exc:
        # Runs' own errors are rows; this is the executor failing (a worker killed, the cluster gone).
        for future in in_flight:
            future.cancel()
        ev.stop()
        raise ExecutorFailed(
            f"{ev.kind} failed: {type(exc).__name__}: {exc}. Finished chunks are kept in {store.out}; "
            "run the same command again to resume."
        ) from exc


def _add_aliases(columns: dict[str, list], aliases: dict[str, list[int]]) -> None:
    """Copy each row to the other points that share its run_id (no time spent: seconds 0)."""
    for i in range(len(columns["run_id"])):
        for point_id in aliases.get(columns["run_id"][i], ()):
            for key, values in columns.items():
                values.append(point_id if key == "point_id" else 0.0 if key == "seconds" else values[i])
