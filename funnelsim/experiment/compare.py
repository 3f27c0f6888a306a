"""Comparing strategies: paired replications under common random numbers, and honest statistics.

Replication i of every strategy runs with the same seed, so each random stream (arrivals, fits,
deal values, stage luck...) starts from the same state: the paired difference of a KPI measures
the strategy, not the noise. Per KPI and strategy against the baseline we report the mean paired
difference, a bootstrap 95% CI (BCa, fixed generator: reproducible) and a two-sided p-value from
a sign-flip permutation test (exact for up to 13 pairs), which assumes only that, with no effect,
a difference is as likely to be positive as negative. A difference is called significant when
both agree: p < 0.05 and the CI excludes zero.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from funnelsim.experiment.executors import Executor, open_executor
from funnelsim.experiment.runner import RunResult, SimulationResult, run_once
from funnelsim.model.streams import replication_seeds
from funnelsim.results.registry import KPI_NAMES
from funnelsim.scenario.schema import Scenario

ALPHA = 0.05
RESAMPLES = 9999
# the smallest sign-flip p-value with n pairs is 2 / 2**n: below 6 pairs it cannot reach 0.05
MIN_FOR_SIGNIFICANCE = 6
STATS_SEED = 20260
MIN_REPLICATIONS = 2


# -- pure statistics ----------------------------------------------------------------------------
def paired_differences(baseline: Sequence[float], other: Sequence[float]) -> np.ndarray:
    """`other - baseline` pair by pair, leaving out pairs where either value is missing (NaN)."""
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples must have the same length (got {len(a)} and {len(b)})")
    keep = ~(np.isnan(a) | np.isnan(b))
    return b[keep] - a[keep]


def bootstrap_ci(
    values: Sequence[float], confidence: float = 0.95, resamples: int = RESAMPLES, seed: int = STATS_SEED
) -> tuple[float, float]:
    """Bootstrap CI of the mean (BCa; percentile where BCa is undefined). Same input, same interval."""
    x = np.asarray(values, dtype=float)
    if len(x) < MIN_REPLICATIONS:
        return math.nan, math.nan
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = stats.bootstrap(
                (x,),
                np.mean,
                n_resamples=resamples,
                confidence_level=confidence,
                method=method,
                vectorized=True,
                rng=np.random.default_rng(seed),
            )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if not (math.isnan(lo) or math.isnan(hi)):
            return lo, hi
    return math.nan, math.nan


def sign_flip_p_value(values: Sequence[float], resamples: int = RESAMPLES, seed: int = STATS_SEED) -> float:
    """Two-sided p-value of 'mean difference = 0' by flipping the signs of the paired differences."""
    x = np.asarray(values, dtype=float)
    if len(x) < MIN_REPLICATIONS:
        return math.nan
    if not np.any(x):
        return 1.0
    res = stats.permutation_test(
        (x,),
        np.mean,
        permutation_type="samples",
        vectorized=True,
        n_resamples=resamples,
        alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return float(min(1.0, res.pvalue))


@dataclass(frozen=True)
class Difference:
    """A strategy minus the baseline on one KPI, over paired replications."""

    scenario: str
    kpi: str
    mean_diff: float
    ci95: tuple[float, float]
    p_value: float
    n: int
    baseline_mean: float

    @property
    def significant(self) -> bool:
        """The test rejects 'no difference' at 5% and the bootstrap CI excludes zero: both agree."""
        return self._rejects and self._excludes_zero

    @property
    def borderline(self) -> bool:
        """The p-value and the CI disagree about zero (at small n, BCa intervals run a little narrow)."""
        return self._rejects != self._excludes_zero

    @property
    def _rejects(self) -> bool:
        return not math.isnan(self.p_value) and self.p_value < ALPHA

    @property
    def _excludes_zero(self) -> bool:
        lo, hi = self.ci95
        return not (math.isnan(lo) or math.isnan(hi)) and (lo > 0 or hi < 0)

    @property
    def relative(self) -> float:
        """The difference as a share of the baseline's mean (NaN when that is zero)."""
        if not self.baseline_mean or math.isnan(self.baseline_mean):
            return math.nan
        return self.mean_diff / abs(self.baseline_mean)

    def as_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "kpi": self.kpi,
            "mean_diff": self.mean_diff,
            "ci95": list(self.ci95),
            "p_value": self.p_value,
        }


def paired_difference(name: str, kpi: str, baseline: Sequence[float], other: Sequence[float]) -> Difference:
    d = paired_differences(baseline, other)
    base = np.asarray(baseline, dtype=float)
    return Difference(
        scenario=name,
        kpi=kpi,
        mean_diff=float(np.mean(d)) if len(d) else math.nan,
        ci95=bootstrap_ci(d),
        p_value=sign_flip_p_value(d),
        n=len(d),
        baseline_mean=float(np.nanmean(base)) if np.any(~np.isnan(base)) else math.nan,
    )


# -- running the strategies ---------------------------------------------------------------------
def strategy_seeds(master: int, index: int, replications: int, common: bool = True) -> list[int]:
    """Seeds of one strategy. Common random numbers: every strategy gets the baseline's seeds.
    Otherwise strategy `index` draws its own, independent of the others (for checking CRN's worth)."""
    if common or index == 0:
        return replication_seeds(master, replications)
    own = np.random.SeedSequence([int(master), int(index)]).generate_state(1, dtype=np.uint32)[0]
    return replication_seeds(int(own), replications)


@dataclass
class Comparison:
    """Replications of several strategies; the first is the baseline.

    Attributes:
        results: strategy name -> its `SimulationResult`, baseline first, runs in replication order.
        seed: master seed of the replications.
        common_random_numbers: whether replication i of every strategy shared its seed.
        robustness: the comparison rerun under alternative assumptions, when asked for
            (`funnelsim.experiment.robustness`).
    """

    results: dict[str, SimulationResult]
    seed: int
    common_random_numbers: bool = True
    notes: list[str] = field(default_factory=list)
    robustness: Any = None
    posterior: Any = None  # calibrate.draws.PosteriorDraws: replication r of every strategy gets draw r
    _cache: dict[tuple[str, str], Difference] = field(default_factory=dict, repr=False)
    _summaries: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def baseline(self) -> str:
        return next(iter(self.results))

    @property
    def names(self) -> list[str]:
        return list(self.results)

    @property
    def replications(self) -> int:
        return len(self.results[self.baseline].runs)

    @cached_property
    def kpis(self) -> dict[str, pd.DataFrame]:
        return {name: res.kpis for name, res in self.results.items()}

    def summary(self, name: str) -> pd.DataFrame:
        """Mean and 95% CI of every KPI for one strategy."""
        if name not in self._summaries:
            self._summaries[name] = self.results[name].summary()
        return self._summaries[name]

    def difference(self, name: str, kpi: str) -> Difference:
        """`name` minus the baseline on `kpi`, computed once."""
        key = (name, kpi)
        if key not in self._cache:
            if name == self.baseline or name not in self.results:
                raise KeyError(f"{name!r} is not a strategy compared with the baseline {self.baseline!r}")
            base, other = self.kpis[self.baseline][kpi], self.kpis[name][kpi]
            self._cache[key] = paired_difference(name, kpi, base.to_numpy(), other.to_numpy())
        return self._cache[key]

    @property
    def differences(self) -> list[Difference]:
        return [self.difference(name, kpi) for name in self.names[1:] for kpi in KPI_NAMES]

    def _repr_html_(self) -> str:
        from funnelsim.report.notebook import comparison_html

        return comparison_html(self)

    def plot(self):
        """The comparison's figures (those `compare --out` writes), by name; a notebook shows them all."""
        from funnelsim.report.compare_figures import comparison_figures
        from funnelsim.report.notebook import figures

        return figures(comparison_figures(self))

    def document(self) -> dict:
        """The `compare --json` document."""
        scenarios = []
        for name in self.names:
            s = self.summary(name)
            kpis = {
                k: {"mean": s.at[k, "mean"], "ci95": [s.at[k, "ci95_low"], s.at[k, "ci95_high"]]} for k in KPI_NAMES
            }
            scenarios.append({"name": name, "kpis": kpis})
        out = {
            "baseline": self.baseline,
            "replications": self.replications,
            "scenarios": scenarios,
            "differences": [d.as_dict() for d in self.differences],
        }
        if self.robustness is not None:
            out["robustness"] = self.robustness.document()
        return out


def by_name(scenarios: Mapping[str, Scenario] | Sequence[Scenario]) -> dict[str, Scenario]:
    """Strategies keyed by name: a mapping as given, or a list keyed by each scenario's `name`."""
    if isinstance(scenarios, Mapping):
        return dict(scenarios)
    out = {s.name: s for s in scenarios}
    if len(out) != len(scenarios):
        raise ValueError("strategies need distinct names; pass a mapping of name -> scenario instead")
    return out


def check_comparable(scenarios: Mapping[str, Scenario]) -> None:
    """Strategies must share the clock: a longer horizon is not a better strategy."""
    if len(scenarios) < 2:
        raise ValueError(f"a comparison needs at least two strategies (got {len(scenarios)})")
    items = list(scenarios.items())
    base_name, base = items[0]
    for name, s in items[1:]:
        if s.horizon_weeks != base.horizon_weeks or s.calendar != base.calendar:
            raise ValueError(
                f"{name!r} runs {s.horizon_weeks:g} weeks of {s.calendar.days_per_week}-day weeks but the baseline "
                f"{base_name!r} runs {base.horizon_weeks:g} weeks of {base.calendar.days_per_week}-day weeks; "
                "strategies must share horizon_weeks and calendar to be compared"
            )


def compare(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    replications: int = 30,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    common_random_numbers: bool = True,
    scheduler: str | None = None,
    executor: Executor | None = None,
    posterior: Any = None,
) -> Comparison:
    """Run `replications` paired replications of every strategy; the first one is the baseline.

    `scenarios` maps strategy names to scenarios (or is a list, keyed by scenario name). The master
    seed defaults to the baseline scenario's. Runs go to `executor`, the Dask `scheduler` or `workers`
    local processes (see `simulate`); results do not depend on which. `posterior`
    (`calibrate.draws.PosteriorDraws`) gives replication r of every strategy the same posterior draw.
    """
    if replications < MIN_REPLICATIONS:
        raise ValueError(f"statistics need at least {MIN_REPLICATIONS} replications per strategy (got {replications})")
    scenarios = by_name(scenarios)
    check_comparable(scenarios)
    master = next(iter(scenarios.values())).seed if seed is None else seed
    cmp = Comparison({n: SimulationResult(s) for n, s in scenarios.items()}, master, common_random_numbers)
    with_posterior(cmp, posterior)
    with open_executor(workers, scheduler, executor, tasks=replications * len(scenarios)) as ex:
        extend(cmp, replications, ex, progress)
    if replications < MIN_FOR_SIGNIFICANCE:
        cmp.notes.append(
            f"With {replications} replications no difference can be significant: the smallest possible "
            f"sign-flip p-value is {2 / 2**replications:.3g}. "
            f"Use {MIN_FOR_SIGNIFICANCE} or more (30 for firm conclusions)."
        )
    return cmp


def extend(
    cmp: Comparison, replications: int, executor: Executor, progress: Callable[[int], None] | None = None
) -> None:
    """Add replications up to `replications`; the runs already done are kept (seed i is fixed)."""
    done = cmp.replications
    seeds = {
        name: strategy_seeds(cmp.seed, i, replications, cmp.common_random_numbers)[done:]
        for i, name in enumerate(cmp.names)
    }
    # replication by replication, so every strategy advances together
    tasks = [
        (name, _replication_scenario(cmp, name, done + r), seeds[name][r])
        for r in range(replications - done)
        for name in cmp.names
    ]

    def describe(i: int) -> str:
        name, _, seed = tasks[i]
        return f"replication {done + i // len(cmp.names) + 1} of {name} (seed {seed})"

    runs: list[RunResult] = executor.map(run_once, [(s, seed) for _, s, seed in tasks], progress, describe=describe)
    for (name, _, _), run in zip(tasks, runs, strict=True):
        cmp.results[name].runs.append(run)
    cmp.__dict__.pop("kpis", None)
    cmp._cache.clear()
    cmp._summaries.clear()


def with_posterior(cmp: Comparison, posterior) -> None:
    """Attach posterior draws to a new comparison (refused if a strategy sets one of their fields)."""
    if posterior is None:
        return
    posterior.check({n: r.scenario for n, r in cmp.results.items()})
    cmp.posterior = posterior
    cmp.notes.append(
        f"Replication r of every strategy uses draw r of the calibration posterior {posterior.file} "
        f"({len(posterior.names)} parameters), so intervals carry calibration uncertainty as well as luck."
    )


def _replication_scenario(cmp: Comparison, name: str, replication: int) -> Scenario:
    scenario = cmp.results[name].scenario
    if cmp.posterior is None:
        return scenario
    return cmp.posterior.apply(scenario, cmp.seed, replication)


# -- sequential sampling ------------------------------------------------------------------------
AUTO_STEP = 2  # replications are added in multiples of this (not of the workers: results must not depend on them)


@dataclass(frozen=True)
class Target:
    """Stop adding replications once the 95% CI of `kpi`'s difference is narrower than `width`
    (a share of the baseline's mean when `relative`, else in the KPI's own units), for every strategy."""

    kpi: str = "profit"
    width: float = 0.05
    relative: bool = True

    def absolute(self, cmp: Comparison) -> float:
        if not self.relative:
            return self.width
        base = float(cmp.kpis[cmp.baseline][self.kpi].mean())
        return self.width * abs(base)

    def describe(self) -> str:
        return f"{self.width:.1%} of the baseline's mean" if self.relative else f"{self.width:g}"


def widest_ci(cmp: Comparison, kpi: str) -> float:
    """Width of the widest difference CI of `kpi` over the strategies (inf when undefined)."""
    widths = [cmp.difference(name, kpi).ci95[1] - cmp.difference(name, kpi).ci95[0] for name in cmp.names[1:]]
    return max((math.inf if math.isnan(w) else w for w in widths), default=math.inf)


def next_size(done: int, width: float, target: float, step: int, cap: int) -> int:
    """Replications to reach `target`: the CI narrows as 1/sqrt(n); at most double at a time, in
    multiples of `step`."""
    want = 2 * done if width <= 0 or math.isinf(width) else math.ceil(done * (width / target) ** 2 * 1.1)
    step = max(step, 1)
    want = min(max(want, done + step), 2 * done)
    want = math.ceil(want / step) * step
    return min(want, cap)


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.3g}"


def compare_until(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    target: Target,
    start: int = 10,
    max_replications: int = 200,
    seed: int | None = None,
    workers: int = 1,
    batch_progress: Callable | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    posterior: Any = None,
) -> Comparison:
    """Sequential sampling: add replications until `target` is met or `max_replications` is reached.

    `batch_progress(total, label)` may return a context manager yielding a progress callback per batch.
    The outcome is written into `Comparison.notes`. Batches grow in steps of `AUTO_STEP` whatever
    the workers, so where sampling stops does not depend on where the runs execute.
    """
    if start < MIN_REPLICATIONS or max_replications < start:
        raise ValueError(f"need {MIN_REPLICATIONS} <= start ({start}) <= max_replications ({max_replications})")
    if target.kpi not in KPI_NAMES:
        raise ValueError(f"unknown KPI {target.kpi!r}")
    scenarios = by_name(scenarios)
    check_comparable(scenarios)
    master = next(iter(scenarios.values())).seed if seed is None else seed
    cmp = Comparison({n: SimulationResult(s) for n, s in scenarios.items()}, master)
    with_posterior(cmp, posterior)
    size = start
    with open_executor(workers, scheduler, executor) as ex:
        while True:
            todo = (size - cmp.replications) * len(cmp.names)
            label = f"replications {cmp.replications + 1}-{size}"
            if batch_progress is None:
                extend(cmp, size, ex)
            else:
                with batch_progress(todo, label) as tick:
                    extend(cmp, size, ex, tick)
            width, goal = widest_ci(cmp, target.kpi), target.absolute(cmp)
            if width <= goal or cmp.replications >= max_replications:
                break
            size = next_size(cmp.replications, width, goal, AUTO_STEP, max_replications)
    met = "met" if width <= goal else f"not met at the cap of {max_replications}"
    cmp.notes.append(
        f"Sequential sampling: {cmp.replications} replications; widest 95% CI of the {target.kpi} difference "
        f"{_number(width)} against a target of {_number(goal)} ({target.describe()}): {met}. "
        "Stopping on the data makes the intervals slightly optimistic."
    )
    return cmp
