"""Why calibration runs its own ABC rather than pyabc's: pyabc is not reproducible in parallel.

    .venv/bin/pip install pyabc   # not a funnelsim dependency; only this check needs it
    python benchmarks/abc_library_check.py

Runs pyabc's ABC-SMC on a toy problem (a normal mean, 50 particles, 3 generations) twice at the
same seed on one process and twice on two processes, and prints each run's posterior mean and
simulation count. Measured here (pyabc 0.13.0, 2 cores): one process 0.716281 / 418 both times;
two processes differ every time (1.007926 / 528 and 1.643633 / 489 in one try, 1.549798 / 440 and
1.150303 / 574 in the next). Its multicore and Dask samplers accept
particles in the order workers finish them, so a calibration's result would depend on timing,
and a resumed run cannot continue an interrupted one's random stream. funnelsim.calibrate.abc
runs a fixed batch per generation instead (see its docstring).
"""

from __future__ import annotations

import os
import sys
import tempfile

import numpy as np


def model(p):
    return {"x": p["mu"] + np.random.normal(0, 1)}


def run(pyabc, sampler) -> tuple[float, int]:
    np.random.seed(5)
    prior = pyabc.Distribution(mu=pyabc.RV("uniform", -5, 10))
    abc = pyabc.ABCSMC(model, prior, lambda a, b: abs(a["x"] - b["x"]), population_size=50, sampler=sampler)
    abc.new("sqlite:///" + os.path.join(tempfile.mkdtemp(), "abc.db"), {"x": 1.0})
    history = abc.run(max_nr_populations=3)
    df, w = history.get_distribution()
    return float((df["mu"] * w).sum()), int(history.total_nr_simulations)


def main() -> None:
    try:
        import pyabc
    except ImportError:
        sys.exit("this check needs pyabc: .venv/bin/pip install pyabc")
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    for label, make in (
        ("one process", pyabc.SingleCoreSampler),
        ("two processes", lambda: pyabc.MulticoreEvalParallelSampler(n_procs=2)),
    ):
        results = [run(pyabc, make()) for _ in range(2)]
        same = "identical" if results[0] == results[1] else "DIFFERENT"
        shown = "; ".join(f"mean {m:.6f}, {n} simulations" for m, n in results)
        print(f"{label}: {shown} ({same})")


if __name__ == "__main__":
    main()
