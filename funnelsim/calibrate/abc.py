"""Simulation-based calibration: ABC population Monte Carlo, reproducible and resumable.

What an export cannot show directly (conversions at the reference fit and skill, the noise of
marketing's score, how often nurture emails bring a lead back, how strongly fit drives a sale) is
inferred by running funnelsim and keeping the parameter sets whose simulated exports look like
the company's (`summary.summarise`, the same numbers on both sides).

The scheme is ABC population Monte Carlo (Beaumont, Cornuet, Marin & Robert, Biometrika 2009):
generation 0 draws from the priors (uniform on each parameter's range); each later generation
draws from a Gaussian kernel around the previous generation's particles (twice their weighted
covariance), and weights the kept ones by prior / proposal density. Each generation runs a fixed
number of simulations and keeps the best `keep` of them, so its tolerance is the quantile that
keeps them (the adaptive tolerance of Del Moral, Doucet & Jasra, 2012). A fixed batch makes a
generation a pure function of the seed and the generations before it: the result does not
depend on how many workers ran it, on which backend, or on whether it was interrupted.

pyabc's ABC-SMC was measured for this and not used: its parallel samplers accept particles in
the order workers finish them, so two runs at the same seed on 2 processes gave posterior means
1.008 and 1.644 (528 and 489 simulations) on the same toy problem, and a resumed run cannot
continue the interrupted one's random stream.

Resuming: every finished simulation is appended to a journal (`abc_journal.jsonl`) as it
returns; a rerun with the same data and options replays the journal and runs only what is
missing, so it ends with exactly what an uninterrupted run gives.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from funnelsim.errors import UsageError
from funnelsim.experiment.executors import Interrupted
from funnelsim.scenario.yamlsource import FieldPath, format_path

JOURNAL = "abc_journal.jsonl"


@dataclass(frozen=True)
class Parameter:
    """A scenario value the data cannot show directly: inferred on [low, high] (uniform prior)."""

    path: FieldPath
    low: float
    high: float
    default: float
    why: str

    @property
    def name(self) -> str:
        return format_path(self.path)


@dataclass
class Posterior:
    """The last generation's particles: parameter values (rows), weights, distances, summaries."""

    parameters: list[Parameter]
    values: np.ndarray
    weights: np.ndarray
    distances: np.ndarray
    summaries: list[dict[str, float]]
    generations: list[dict[str, Any]] = field(default_factory=list)
    simulations: int = 0
    resumed: int = 0

    adjusted: np.ndarray | None = None
    adjusted_weights: np.ndarray | None = None

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """The posterior as (values, weights): regression-adjusted when available."""
        if self.adjusted is not None:
            return self.adjusted, self.adjusted_weights
        return self.values, self.weights

    def estimate(self) -> dict[str, tuple[float, float, float]]:
        """name -> (posterior mean, 2.5%, 97.5%). The mean, not each marginal's median: the
        parameters trade off (a higher MQL threshold with a noisier score gives the same MQL
        share), and the means of a joint sample stay on that ridge where medians need not."""
        values, weights = self.sample()
        out = {}
        for j, p in enumerate(self.parameters):
            low, high = _weighted_quantiles(values[:, j], weights, (0.025, 0.975))
            out[p.name] = (float(weights @ values[:, j]), low, high)
        return out


def set_path(doc: dict, path: FieldPath, value: Any) -> None:
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def get_path(doc: dict, path: FieldPath) -> Any:
    node = doc
    for key in path:
        node = node[key]
    return node


def simulate_summary(doc: dict, seed: int, prepare: Callable[[dict], dict] | None = None) -> dict[str, float]:
    """One simulated export of `doc` at `seed`, reduced to its summary statistics (a worker task)."""
    from funnelsim.calibrate.summary import summarise
    from funnelsim.calibrate.synthetic import simulate_export
    from funnelsim.scenario.schema import Scenario

    if prepare is not None:
        doc = prepare(doc)
    crm = simulate_export(Scenario.model_validate(doc), seed)
    return summarise(crm)


def distance(stats: dict[str, float], observed: dict[str, float], scales: dict[str, float]) -> float:
    """Root mean square of the standardised differences over the statistics the data have."""
    total, n = 0.0, 0
    for key, obs in observed.items():
        if not math.isfinite(obs) or key not in scales:
            continue
        sim = stats.get(key, math.nan)
        z = (sim - obs) / scales[key] if math.isfinite(sim) else 10.0
        total += z * z
        n += 1
    return math.sqrt(total / n) if n else math.inf


def fit_scales(summaries: list[dict[str, float]], observed: dict[str, float]) -> dict[str, float]:
    """Each statistic's spread across generation 0 (median absolute deviation, as pyabc's adaptive
    distance), so a count per week and a share weigh alike; fixed from then on."""
    scales = {}
    for key, obs in observed.items():
        if not math.isfinite(obs):
            continue
        x = np.array([s.get(key, math.nan) for s in summaries], dtype=float)
        x = x[np.isfinite(x)]
        mad = float(np.median(np.abs(x - np.median(x)))) * 1.4826 if len(x) else 0.0
        floor = 0.02 * abs(obs) + 1e-6
        scales[key] = max(mad, floor)
    return scales


class Calibration:
    """One ABC run: the base scenario document, the parameters, the observed summaries, the budget."""

    def __init__(
        self,
        base_doc: dict,
        parameters: list[Parameter],
        observed: dict[str, float],
        *,
        budget: int,
        generations: int,
        seed: int,
        journal_dir: Path | None,
        prepare: Callable[[dict], dict] | None = None,
    ) -> None:
        if budget < 2 * generations or generations < 1:
            least = 2 * generations
            raise UsageError(f"--budget {budget} is too small for {generations} generations (at least {least})")
        self.base_doc = base_doc
        self.parameters = parameters
        self.observed = observed
        self.budget = budget
        self.generations = generations
        self.per_generation = budget // generations
        self.keep = max(2, self.per_generation // 2)
        self.seed = seed
        self.prepare = prepare
        self.low = np.array([p.low for p in parameters])
        self.high = np.array([p.high for p in parameters])
        self.journal = None if journal_dir is None else Path(journal_dir) / JOURNAL
        self._done: dict[tuple[int, int], dict] = {}
        self.fingerprint = self._fingerprint()
        self._load_journal()

    # -- the journal ------------------------------------------------------------------------------
    def _fingerprint(self) -> str:
        what = {
            "base": self.base_doc,
            "parameters": [(p.name, p.low, p.high) for p in self.parameters],
            "observed": {k: (None if not math.isfinite(v) else round(v, 12)) for k, v in self.observed.items()},
            "budget": self.budget,
            "generations": self.generations,
            "seed": self.seed,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def _load_journal(self) -> None:
        if self.journal is None or not self.journal.exists():
            return
        lines = self.journal.read_text().splitlines()
        if not lines:
            return
        try:
            head = json.loads(lines[0])
        except json.JSONDecodeError:
            head = {}
        if head.get("fingerprint") != self.fingerprint:
            raise UsageError(
                f"{self.journal} holds a calibration of other data or options: rerun with those, "
                "remove the file to start again, or choose another --out"
            )
        for line in lines[1:]:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut short by a kill: everything after it is lost, the rest is kept
            self._done[(rec["g"], rec["i"])] = rec

    def _write(self, records: list[dict]) -> None:
        if self.journal is None:
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        new = not self.journal.exists() or self.journal.stat().st_size == 0
        with self.journal.open("a") as f:
            if new:
                f.write(json.dumps({"fingerprint": self.fingerprint}) + "\n")
            for rec in records:
                f.write(json.dumps(rec) + "\n")
            f.flush()

    # -- the run -----------------------------------------------------------------------------------
    def doc_for(self, theta: np.ndarray) -> dict:
        import copy

        doc = copy.deepcopy(self.base_doc)
        for p, v in zip(self.parameters, theta, strict=True):
            set_path(doc, p.path, float(v))
        return doc

    def run(self, executor, progress: Callable[[int], None] | None = None) -> Posterior:
        d = len(self.parameters)
        span = self.high - self.low
        prev_u = prev_w = None
        scales: dict[str, float] | None = None
        history, simulations, resumed = [], 0, 0
        pool: list[tuple[np.ndarray, list[dict], np.ndarray]] = []
        for g in range(self.generations):
            rng = np.random.default_rng([self.seed, g])
            n = self.per_generation
            u = rng.random((n, d)) if g == 0 else _propose(rng, prev_u, prev_w, n)
            seeds = rng.integers(0, 2**31 - 1, size=self.per_generation)
            theta = self.low + u * span
            summaries, ran, reused = self._simulate(g, theta, seeds, executor, progress)
            simulations += ran + reused
            resumed += reused
            if scales is None:
                scales = fit_scales(summaries, self.observed)
            dist = np.array([distance(s, self.observed, scales) for s in summaries])
            order = np.lexsort((np.arange(len(dist)), dist))[: self.keep]
            u_kept = u[order]
            if g == 0:
                w = np.full(len(order), 1.0 / len(order))
            else:
                w = 1.0 / _kernel_density(u_kept, prev_u, prev_w)
                w /= w.sum()
            history.append(
                {
                    "generation": g,
                    "simulations": int(len(u)),
                    "tolerance": float(dist[order[-1]]),
                    "best": float(dist[order[0]]),
                    "effective_sample_size": float(1.0 / np.sum(w**2)),
                }
            )
            prev_u, prev_w = u_kept, w
            kept = (theta[order], w, dist[order], [summaries[i] for i in order])
            pool.append((u, summaries, dist))
        values, weights, dists, kept_summaries = kept
        post = Posterior(self.parameters, values, weights, dists, kept_summaries, history, simulations, resumed)
        post.adjusted, post.adjusted_weights = self._adjust(pool, scales)
        return post

    def _adjust(self, pool, scales) -> tuple[np.ndarray, np.ndarray]:
        """Beaumont, Zhang & Balding (Genetics 2002): regress the parameters on the summaries'
        distance from the data over the simulations nearest it (Epanechnikov weights), and move
        each to where its summaries would have matched. Uses every simulation run."""
        u = np.vstack([p[0] for p in pool])
        summaries = [s for p in pool for s in p[1]]
        dist = np.concatenate([p[2] for p in pool])
        keys = [k for k in scales if math.isfinite(self.observed[k])]
        x = np.array([[(s.get(k, math.nan) - self.observed[k]) / scales[k] for k in keys] for s in summaries])
        ok = np.isfinite(dist) & np.all(np.isfinite(x), axis=1)
        u, x, dist = u[ok], x[ok], dist[ok]
        n_near = max(self.keep, min(len(dist), 4 * (len(keys) + 1)))
        h = np.sort(dist)[min(n_near, len(dist)) - 1] * 1.0001
        w = np.clip(1.0 - (dist / h) ** 2, 0.0, None)
        near = w > 0
        u, x, w = u[near], x[near], w[near]
        design = np.hstack([np.ones((len(x), 1)), x])
        sw = np.sqrt(w)[:, None]
        ridge = 1e-3 * np.eye(design.shape[1])
        ridge[0, 0] = 0.0
        a = (design * sw).T @ (design * sw) + ridge
        beta = np.linalg.solve(a, (design * sw).T @ (u * sw))
        adjusted = np.clip(u - x @ beta[1:], 0.0, 1.0)
        return self.low + adjusted * (self.high - self.low), w / w.sum()

    def _simulate(self, g: int, theta: np.ndarray, seeds: np.ndarray, executor, progress):
        out: list[dict | None] = [None] * len(theta)
        todo = []
        for i in range(len(theta)):
            rec = self._done.get((g, i))
            if rec is not None:
                if not np.allclose(rec["theta"], theta[i], rtol=0, atol=1e-12) or rec["seed"] != int(seeds[i]):
                    where = f"generation {g}, simulation {i}"
                    raise UsageError(f"{self.journal} does not match this run ({where}): remove it")
                out[i] = _floats(rec["stats"])
            else:
                todo.append(i)
        reused = len(theta) - len(todo)
        if progress is not None and reused:
            progress(reused)
        batch = max(1, 2 * executor.slots())
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            tasks = [(self.doc_for(theta[i]), int(seeds[i]), self.prepare) for i in part]
            try:
                results = executor.map(simulate_summary, tasks, progress)
            except Interrupted as stop:  # keep what finished before Ctrl-C, then stop
                done = [(part[k], stats) for k, stats in sorted(stop.finished.items())]
                self._write([self._record(g, i, theta, seeds, stats) for i, stats in done])
                raise
            records = []
            for i, stats in zip(part, results, strict=True):
                out[i] = stats
                records.append(self._record(g, i, theta, seeds, stats))
            self._write(records)
        return out, len(todo), reused

    @staticmethod
    def _record(g: int, i: int, theta: np.ndarray, seeds: np.ndarray, stats: dict) -> dict:
        return {"g": g, "i": i, "theta": theta[i].tolist(), "seed": int(seeds[i]), "stats": _jsonable(stats)}


def _propose(rng: np.random.Generator, prev: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """n draws in the unit cube from the kernel mixture around the previous particles (redrawn
    until inside; after 100 misses the draw is clipped)."""
    cov = _kernel_cov(prev, w)
    chol = np.linalg.cholesky(cov)
    out = np.empty((n, prev.shape[1]))
    for k in range(n):
        for _ in range(100):
            j = rng.choice(len(prev), p=w)
            x = prev[j] + chol @ rng.standard_normal(prev.shape[1])
            if np.all((x >= 0) & (x <= 1)):
                break
        out[k] = np.clip(x, 0.0, 1.0)
    return out


def _kernel_cov(prev: np.ndarray, w: np.ndarray) -> np.ndarray:
    mean = w @ prev
    diff = prev - mean
    cov = 2.0 * (diff * w[:, None]).T @ diff
    return cov + np.eye(prev.shape[1]) * 1e-6


def _kernel_density(x: np.ndarray, prev: np.ndarray, w: np.ndarray) -> np.ndarray:
    cov = _kernel_cov(prev, w)
    inv = np.linalg.inv(cov)
    diff = x[:, None, :] - prev[None, :, :]
    m = np.einsum("abi,ij,abj->ab", diff, inv, diff)
    norm = 1.0 / math.sqrt((2 * math.pi) ** prev.shape[1] * np.linalg.det(cov))
    return (np.exp(-0.5 * m) * w[None, :]).sum(axis=1) * norm + 1e-300


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cdf, x)) for q in qs]


def _jsonable(stats: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in stats.items()}


def _floats(stats: dict) -> dict[str, float]:
    return {k: (math.nan if v is None else float(v)) for k, v in stats.items()}
