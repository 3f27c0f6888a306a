"""Replications that carry calibration uncertainty: one posterior draw per replication.

`compare --posterior posterior.parquet` (and `sweep --posterior`) give replication r of every
strategy the same parameter set, drawn from the calibration's posterior by weight with a seed of
its own (the master seed and r), so the strategies still share their luck (common random numbers)
and a difference reflects both simulation noise and what the data left uncertain. Draw r does
not depend on how many replications are run.

A strategy that sets a posterior parameter itself would be silently overridden, so every
strategy must hold the same value at every parameter the posterior sets (the calibrated one,
typically); otherwise the draws are refused, naming the strategy and the field.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from funnelsim.errors import UsageError
from funnelsim.scenario.yamlsource import FieldPath


@dataclass(frozen=True)
class PosteriorDraws:
    file: str
    names: tuple[str, ...]
    paths: tuple[FieldPath, ...]
    values: np.ndarray  # (particles, parameters)
    weights: np.ndarray
    sha256: str = ""  # of the file: a sweep resumed with another posterior is refused

    @classmethod
    def load(cls, path: str | Path) -> PosteriorDraws:
        import pandas as pd

        from funnelsim.scenario.overrides import check_path, parse_path
        from funnelsim.scenario.schema import Scenario

        path = Path(path)
        try:
            df = pd.read_parquet(path)
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file (a posterior.parquet written by funnelsim calibrate)") from None
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same mistake for the user
            raise UsageError(f"{path}: not a Parquet file ({type(exc).__name__}: {exc})") from None
        if "weight" not in df.columns:
            raise UsageError(
                f"{path}: column 'weight' is missing: expected a posterior.parquet from funnelsim calibrate"
            )
        names = [c for c in df.columns if c != "weight"]
        if not names or len(df) == 0:
            raise UsageError(f"{path}: holds no parameters or no draws")
        paths = []
        for name in names:
            p = parse_path(name)
            why = "not a field path" if p is None else check_path(p, Scenario)
            if why:
                raise UsageError(f"{path}: column {name!r} is not a scenario field ({why})")
            paths.append(p)
        w = df["weight"].to_numpy(dtype=float)
        values = df[names].to_numpy(dtype=float)
        if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0) or not np.all(np.isfinite(values)):
            raise UsageError(f"{path}: weights must be non-negative numbers that do not all vanish, values finite")
        import hashlib

        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(str(path), tuple(names), tuple(paths), values, w / w.sum(), sha)

    def draw(self, master: int, replication: int) -> np.ndarray:
        rng = np.random.default_rng([int(master), int(replication), 0x9E3779B9])
        return self.values[rng.choice(len(self.weights), p=self.weights)]

    def check(self, scenarios: dict) -> None:
        """Refuse strategies that disagree at a posterior parameter (their own change would be lost)."""
        from funnelsim.calibrate.abc import get_path

        docs = {n: s.model_dump(mode="json", by_alias=True) for n, s in scenarios.items()}
        first = next(iter(docs))
        for name, path in zip(self.names, self.paths, strict=True):
            seen = {}
            for strategy, doc in docs.items():
                try:
                    seen[strategy] = get_path(doc, path)
                except (KeyError, IndexError, TypeError):
                    raise UsageError(f"{self.file}: {name} is not in strategy {strategy!r}") from None
            for strategy, value in seen.items():
                if value != seen[first]:
                    raise UsageError(
                        f"strategy {strategy!r} sets {name} to {value!r} ({first!r}: {seen[first]!r}), and "
                        f"{self.file} draws {name} for every replication: the strategy's own value would be "
                        "ignored. Compare strategies that differ in other fields, or drop that column"
                    )

    def apply(self, scenario, master: int, replication: int):
        """`scenario` with replication `replication`'s draw."""
        from funnelsim.calibrate.abc import set_path
        from funnelsim.scenario.schema import Scenario

        doc = copy.deepcopy(scenario.model_dump(mode="json", by_alias=True))
        for path, value in zip(self.paths, self.draw(master, replication), strict=True):
            set_path(doc, path, float(value))
        return Scenario.model_validate(doc)
