"""`optimize`: search, confirm, write. The one entry point the command and Python callers use."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from funnelsim.experiment.executors import Executor, open_executor
from funnelsim.optimize.confirm import confirm
from funnelsim.optimize.outcome import Outcome, importance, write_outcome
from funnelsim.optimize.problem import OptimizationProblem, load_problem
from funnelsim.optimize.study import STUDY_LOG, finished_trials, open_study, run_study


@dataclass
class OptimizeResult:
    """What an `optimize` call did; `outcome` is None when it was interrupted."""

    out: Path
    trials: int
    done_before: int
    done: int
    outcome: Outcome | None = None
    overhead_seconds: float = 0.0

    @property
    def interrupted(self) -> bool:
        return self.outcome is None


def optimize(
    problem: OptimizationProblem | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    trials: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    workers: int | None = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[int, int, int], None] | None = None,
    report: bool = True,
) -> OptimizeResult:
    """Run (or continue) the study in `out` to `trials` trials, confirm, and write the outputs.

    `on_start(trials, already_done, runs_to_do)` is called once the study is open. Ctrl-C keeps
    every finished trial in `out/study.log` and returns with `interrupted` set; calling again with
    the same problem and seed continues the same study.
    """
    if not isinstance(problem, OptimizationProblem):
        problem = load_problem(problem)
    out = Path(out)
    seed = problem.spec.seed if seed is None else seed
    trials = trials or problem.spec.trials
    study = open_study(problem, out, seed, resume)
    before = len(finished_trials(study))
    result = OptimizeResult(out, trials, before, before)
    confirm_runs = (problem.spec.confirm.top_k + 1) * problem.spec.confirm.replications
    if on_start:
        on_start(trials, before, max(trials - before, 0) * problem.replications + confirm_runs)
    try:
        with open_executor(workers, scheduler, executor) as ex:
            result.overhead_seconds = run_study(problem, study, ex, trials, seed, progress)
            all_trials = study.get_trials()
            confirmation = confirm(problem, all_trials, ex, seed, progress)
    except KeyboardInterrupt:
        result.done = len(finished_trials(study))
        return result
    runs = sum(t.user_attrs.get("ran", 0) for t in all_trials)
    outcome = Outcome(problem, seed, all_trials, confirmation, runs)
    outcome.importance = importance(problem, study)
    outcome.overhead_seconds = result.overhead_seconds
    result.done = len(finished_trials(study))
    result.outcome = outcome
    write(outcome, out, report)
    return result


def write(outcome: Outcome, out: Path, report: bool = True) -> None:
    from funnelsim.report.optimize_report import note, write_report

    write_outcome(outcome, out, note(outcome))
    if report:
        write_report(outcome, out)


__all__ = ["optimize", "OptimizeResult", "STUDY_LOG"]
