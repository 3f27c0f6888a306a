"""The search: an Optuna study in DIR/study.log, asked for plans in fixed batches.

Storage is Optuna's JournalStorage on a JournalFileBackend: an append-only log that survives a
kill (with TPE, about 50 ms a trial, 3% of a one-year run; SQLite took 17%: bench_optimize.py).
One objective: TPE; several: NSGA-II; constraints through the sampler's `constraints_func`.

Reproducible with resume: trials are asked in batches of `batch` (whatever the workers), and
trial n is asked of a sampler seeded from (seed, n), so its plan depends only on the seed and the
trials before its batch. A killed batch's trials stay RUNNING in the log with their plans; the next
process asks the rest of that batch, runs them all and goes on, reaching the same trials (and so
the same result) as an uninterrupted study at the same seed.
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from funnelsim.errors import UsageError
from funnelsim.experiment.executors import Executor
from funnelsim.experiment.parameters import canonical_json
from funnelsim.optimize.evaluate import PlanRuns, evaluate, trial_seeds
from funnelsim.optimize.problem import OptimizationProblem
from funnelsim.optimize.variables import Plan, plan_from_params, suggest

STUDY_LOG = "study.log"
FINISHED = (TrialState.COMPLETE, TrialState.FAIL)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _constraints(trial: FrozenTrial) -> list[float]:
    return list(trial.user_attrs.get("constraints", []))


@contextmanager
def journal_writes() -> Iterator[None]:
    """Ctrl-C (or SIGTERM) waits until the study's writes are done, then interrupts: raised inside
    Optuna's journal file lock, it would leave the lock half taken and end in a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


def trial_seed(seed: int, number: int) -> int:
    return int(np.random.SeedSequence([seed, number]).generate_state(1, dtype=np.uint32)[0])


NATIVE_CONSTRAINTS = hasattr(optuna.Trial, "set_constraint")  # Optuna 5; 4.x reads them through constraints_func


def sampler_for(problem: OptimizationProblem, seed: int, number: int) -> optuna.samplers.BaseSampler:
    """The sampler that asks trial `number`: TPE for one objective, NSGA-II for several."""
    constraints = _constraints if problem.constraints and not NATIVE_CONSTRAINTS else None
    s = trial_seed(seed, number)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if len(problem.objectives) == 1:
            return optuna.samplers.TPESampler(seed=s, multivariate=True, constraints_func=constraints)
        population = max(4, min(50, problem.spec.trials // 6))
        return optuna.samplers.NSGAIISampler(seed=s, population_size=population, constraints_func=constraints)


def open_study(problem: OptimizationProblem, out: Path, seed: int, resume: bool) -> optuna.Study:
    """The study in `out`, created if new; a log of another problem or seed is refused."""
    log = out / STUDY_LOG
    if resume and not log.exists():
        raise UsageError(f"--resume: no study to resume in {out} (no {STUDY_LOG})")
    out.mkdir(parents=True, exist_ok=True)
    with journal_writes():
        return _open(problem, log, out, seed)


def _open(problem: OptimizationProblem, log: Path, out: Path, seed: int) -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(log)))
    others = [n for n in optuna.study.get_all_study_names(storage) if n != problem.name]
    if others:
        raise UsageError(
            f"{out} holds the study {others[0]!r} of another problem; use another --out, or delete the folder"
        )
    directions = [o.direction for o in problem.objectives]
    study = optuna.create_study(
        storage=storage,
        study_name=problem.name,
        directions=directions,
        sampler=sampler_for(problem, seed, 0),
        load_if_exists=True,
    )
    attrs = study.user_attrs
    if not attrs:
        study.set_user_attr("problem_hash", problem.problem_hash)
        study.set_user_attr("seed", seed)
        study.set_user_attr("problem_file", problem.file)
    elif attrs.get("problem_hash") != problem.problem_hash:
        raise UsageError(
            f"{out} holds a study of another problem ({attrs.get('problem_file')}, or the same file changed "
            "since); use another --out, or delete the folder to start again"
        )
    elif attrs.get("seed") != seed:
        raise UsageError(
            f"{out} holds the study of seed {attrs.get('seed')}; use --seed {attrs.get('seed')} "
            "to continue it, or another --out"
        )
    return study


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if t.state in FINISHED]


def run_study(
    problem: OptimizationProblem,
    study: optuna.Study,
    executor: Executor,
    trials: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Ask, run and tell trials, batch by batch, until `trials` have finished; returns the
    seconds spent outside the runs (the optimiser's own overhead: sampling, storage).

    KeyboardInterrupt (an `Interrupted` from the executor) leaves the batch's trials RUNNING in the
    log; the next call runs them. Finished trials are never run again.
    """
    batch = problem.spec.batch
    seeds = trial_seeds(problem, seed)
    t0, in_runs = time.perf_counter(), 0.0
    while True:
        with journal_writes():
            all_trials = study.get_trials(deepcopy=False)
            asked = len(all_trials)
            running = [t for t in all_trials if t.state == TrialState.RUNNING]
            if not running and asked >= trials:
                return time.perf_counter() - t0 - in_runs
            start = min(t.number for t in running) if running else asked
            end = min((start // batch + 1) * batch, trials)
            # a trial left RUNNING by a killed process keeps its plan: run it, do not ask again
            # (suggesting again returns the stored values; a lever it had not reached is drawn now)
            pending, plans = [], []
            for t in running:
                study.sampler = sampler_for(problem, seed, t.number)
                pending.append(optuna.Trial(study, t._trial_id))
                plans.append(suggest(pending[-1], problem))
            for number in range(asked, end):
                study.sampler = sampler_for(problem, seed, number)
                trial = study.ask()
                pending.append(trial)
                plans.append(suggest(trial, problem))
        t1 = time.perf_counter()
        results = evaluate_once(problem, study, plans, seeds, executor, progress)
        in_runs += time.perf_counter() - t1
        with journal_writes():
            for trial, runs in zip(pending, results, strict=True):
                tell(study, problem, trial, runs)


def tell(study: optuna.Study, problem: OptimizationProblem, trial: optuna.Trial, runs: PlanRuns) -> None:
    """Record a trial's outcome: its KPI means and constraint values first, then its scores."""
    if not runs.ok:
        trial.set_user_attr("error", runs.error)
        study.tell(trial, state=TrialState.FAIL)
        return
    violations = [min(v, 1e12) for v in runs.violations]  # a KPI that is NaN violates, finitely
    trial.set_user_attr("kpis", runs.means())
    trial.set_user_attr("constraints", violations)
    trial.set_user_attr("ran", runs.ran)
    if NATIVE_CONSTRAINTS:
        for c, v in zip(problem.constraints, violations, strict=True):
            trial.set_constraint(c.text, v)
    study.tell(trial, runs.scores if len(runs.scores) > 1 else runs.scores[0])


def evaluate_once(problem, study, plans, seeds, executor, progress) -> list[PlanRuns]:
    """Like `evaluate`, but a plan already run (in an earlier trial or this batch) is not run again:
    at the same seeds it would give the same numbers. Its trial records 0 runs."""
    known: dict[str, PlanRuns] = {}
    with journal_writes():
        done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    for t in done:
        if "kpis" in t.user_attrs:
            plan = plan_from_params(problem, t.params)
            done = PlanRuns(
                plan,
                means_only=t.user_attrs["kpis"],
                scores=list(t.values),
                violations=list(t.user_attrs["constraints"]),
            )
            known.setdefault(canonical_json(plan), done)
    todo: dict[str, Plan] = {}
    for plan in plans:
        key = canonical_json(plan)
        if key not in known:
            todo.setdefault(key, plan)
    fresh = dict(zip(todo, evaluate(problem, list(todo.values()), seeds, executor, progress), strict=True))
    out = []
    for plan in plans:
        key = canonical_json(plan)
        if key in fresh:
            out.append(fresh.pop(key))
            known[key] = out[-1]
        else:
            again = known[key]
            if progress:
                progress(len(seeds))
            out.append(
                PlanRuns(
                    plan,
                    error=again.error,
                    means_only=again.means(),
                    scores=again.scores,
                    violations=again.violations,
                    ran=0,
                )
            )
    return out
