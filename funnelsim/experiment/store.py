"""Where a sweep's results live: one Parquet part per finished chunk, a manifest, compaction.

Layout of an output folder:

    manifest.json        what the sweep is (file hash, package version, design); written first
    parts/part-*.parquet one file per finished chunk, each moved into place whole
    results.parquet      every run, one row each, sorted by point and replication (on completion)
    summary.parquet/.csv mean and 95% CI of each KPI per point (on completion)

Nothing is ever written in place: files are written under a temporary name and renamed, so a
sweep killed at any instant leaves only whole files, and re-running it redoes only the missing runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from funnelsim.errors import UsageError
from funnelsim.experiment.parameters import Parameter
from funnelsim.experiment.statistics import t_interval
from funnelsim.results.registry import KPI

MANIFEST = "manifest.json"
PARTS = "parts"
RESULTS = "results.parquet"
SUMMARY = "summary.parquet"
SUMMARY_CSV = "summary.csv"
_TMP = ".tmp-"
_UMASK = os.umask(0)
os.umask(_UMASK)
_ARROW = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}


def results_schema(params: Iterable[Parameter], kpis: Iterable[str]) -> pa.Schema:
    fields = [
        pa.field("run_id", pa.string()),
        pa.field("point_id", pa.int64()),
        pa.field("replication", pa.int32()),
        pa.field("seed", pa.int64()),
    ]
    fields += [pa.field(p.name, _ARROW[p.kind]) for p in params]
    fields += [pa.field(k, pa.float64()) for k in kpis]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string()), pa.field("seconds", pa.float64())]
    return pa.schema(fields)


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """`write` fills a temporary file beside `path`, which is then synced and renamed onto it."""
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP}{path.name}.", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes it private; results are for sharing
        with open(tmp_path, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


class SweepStore:
    """An output folder, held under an exclusive lock while a sweep writes to it."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.parts = self.out / PARTS
        self._lock = None

    # -- opening -------------------------------------------------------------------------------
    def open(self, manifest: dict[str, Any], force: bool = False) -> bool:
        """Lock the folder and check it holds this sweep (or nothing); returns True when resuming.

        A folder holding another sweep, or results of another package version or base scenario,
        is refused unless `force`, which deletes that sweep's files (and nothing else).
        """
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / ".lock", "w")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise UsageError(f"{self.out} is in use by another sweep (wait for it, or choose another --out)") from None
        old = self.manifest()
        resuming = False
        if old is not None:
            why = _mismatch(old, manifest)
            if why and not force:
                self.close()
                raise UsageError(
                    f"{self.out} holds results of another sweep ({why}); "
                    "choose another --out, or pass --force to delete them and start again"
                )
            if why:
                self.clear()
            else:
                resuming = True
        elif any(self.parts.glob("*.parquet")) or (self.out / RESULTS).exists():
            if not force:
                self.close()
                raise UsageError(f"{self.out} holds sweep results without a manifest; pass --force to replace them")
            self.clear()
        self.parts.mkdir(exist_ok=True)
        self._sweep_temporaries()
        first = {"created": old["created"]} if resuming and "created" in old else {}
        self.write_manifest({**manifest, **first, "status": "running"})
        return resuming

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def clear(self) -> None:
        """Delete this sweep's own files: manifest, parts, results, summaries, analysis."""
        for name in (MANIFEST, RESULTS, SUMMARY, SUMMARY_CSV):
            with contextlib.suppress(FileNotFoundError):
                (self.out / name).unlink()
        for folder in (PARTS, "analysis"):
            shutil.rmtree(self.out / folder, ignore_errors=True)

    def _sweep_temporaries(self) -> None:
        """Remove files a killed sweep was half-way through writing."""
        for folder in (self.out, self.parts):
            for tmp in folder.glob(f"{_TMP}*"):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()

    # -- manifest ------------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.out / MANIFEST).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise UsageError(f"{self.out / MANIFEST} is unreadable ({exc}); pass --force to start again") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, allow_nan=False) + "\n"
        write_atomically(self.out / MANIFEST, lambda p: p.write_text(text))

    def update_manifest(self, **changes: Any) -> None:
        self.write_manifest({**(self.manifest() or {}), **changes})

    # -- parts ---------------------------------------------------------------------------------
    def write_part(self, columns: dict[str, list], schema: pa.Schema) -> Path:
        """One finished chunk, as one Parquet file named after the runs it holds."""
        table = pa.Table.from_pydict({f.name: columns[f.name] for f in schema}, schema=schema)
        name = hashlib.sha256("\n".join(columns["run_id"]).encode()).hexdigest()[:20]
        path = self.parts / f"part-{name}.parquet"
        write_atomically(path, lambda p: pq.write_table(table, p))
        return path

    def _files(self) -> list[Path]:
        files = sorted(self.parts.glob("part-*.parquet"))
        if (self.out / RESULTS).exists():
            files.insert(0, self.out / RESULTS)
        return files

    def finished(self, include_errors: bool = True) -> set[tuple[int, str]]:
        """(point_id, run_id) of the rows already recorded (with `include_errors=False`, only successes)."""
        done: set[tuple[int, str]] = set()
        for path in self._files():
            table = pq.read_table(path, columns=["point_id", "run_id", "status"]).to_pydict()
            rows = zip(table["point_id"], table["run_id"], table["status"], strict=True)
            done.update((p, r) for p, r, s in rows if include_errors or s == "ok")
        return done

    def compact(self, schema: pa.Schema) -> pa.Table:
        """Merge results and parts into `results.parquet` (one row per run), then drop the parts.

        A row recorded twice (an error retried with --retry-failed) keeps its successful version.
        Done in Arrow, with only the key columns in pandas, so the parent's memory stays small.
        """
        tables = [pq.read_table(p, schema=schema, use_threads=False) for p in self._files()]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        del tables
        keys = table.select(["point_id", "replication", "status"]).to_pandas()
        keys["ok"] = keys["status"] == "ok"
        keep = keys.sort_values(["point_id", "replication", "ok"], kind="stable")
        keep = keep.drop_duplicates(["point_id", "replication"], keep="last")
        table = table.take(pa.array(keep.index.to_numpy()))
        write_atomically(self.out / RESULTS, lambda p: _write_in_row_groups(table, p))
        for part in self.parts.glob("part-*.parquet"):
            part.unlink()
        return table

    def write_summary(self, summary: pd.DataFrame) -> None:
        write_atomically(self.out / SUMMARY, lambda p: summary.to_parquet(p, index=False))
        write_atomically(self.out / SUMMARY_CSV, lambda p: summary.to_csv(p, index=False))


def _write_in_row_groups(table: pa.Table, path: Path, rows: int = 4096) -> None:
    """Row group by row group: the writer then buffers one group, not the whole table."""
    with pq.ParquetWriter(path, table.schema) as writer:
        for start in range(0, max(table.num_rows, 1), rows):
            writer.write_table(table.slice(start, rows))


def _mismatch(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    if old.get("sweep_hash") != new["sweep_hash"]:
        return f"it was started from {old.get('sweep_file', 'another file')!r} with different contents"
    if old.get("package_version") != new["package_version"]:
        return f"made by funnelsim {old.get('package_version')}, this is {new['package_version']}"
    if old.get("posterior") != new.get("posterior"):
        was = (old.get("posterior") or {}).get("file", "no posterior")
        return f"it was run with {'posterior ' + was if old.get('posterior') else was}, this with another"
    if old.get("base_hash") != new["base_hash"]:
        return "its base scenario has changed since"
    return None


def summarize(results: pa.Table, params: Iterable[Parameter], kpis: Iterable[str]) -> pd.DataFrame:
    """Per point: the parameter values, runs and errors, and each KPI's mean and 95% CI.

    The same figures as `statistics.summarise` (NaN values left out), for all points at once;
    aggregated in Arrow so that only one row per point reaches pandas.
    """
    names = [p.name for p in params]
    kpis = list(kpis)
    failed = pc.cast(pc.not_equal(results["status"], "ok"), pa.int64())
    per_point = results.select(["point_id", *names]).append_column("failed", failed)
    head = per_point.group_by("point_id", use_threads=False).aggregate(
        [*[(n, "first") for n in names], ("point_id", "count"), ("failed", "sum")]
    )
    out = head.to_pandas().rename(
        columns={**{f"{n}_first": n for n in names}, "point_id_count": "runs", "failed_sum": "errors"}
    )
    ok = results.filter(pc.equal(results["status"], "ok"))
    cols = {k: pc.if_else(pc.is_nan(ok[k]), None, ok[k]) for k in kpis}
    stats_table = pa.table({"point_id": ok["point_id"], **cols}).group_by("point_id", use_threads=False)
    spec = [(k, fn) for k in kpis for fn in ("count", "mean")]
    spec += [(k, "stddev", pc.VarianceOptions(ddof=1)) for k in kpis]
    agg = stats_table.aggregate(spec).to_pandas().set_index("point_id")
    out = out.set_index("point_id").sort_index()
    agg = agg.reindex(out.index)
    columns = {}
    for k in kpis:
        mean = agg[f"{k}_mean"].to_numpy(dtype=float)
        low, high = t_interval(mean, agg[f"{k}_stddev"].to_numpy(dtype=float), agg[f"{k}_count"].fillna(0))
        if k in KPI:
            low, high = KPI[k].bounded(low), KPI[k].bounded(high)
        columns[f"{k}_mean"] = mean
        columns[f"{k}_ci95_low"] = low
        columns[f"{k}_ci95_high"] = high
    return pd.concat([out[[*names, "runs", "errors"]], pd.DataFrame(columns, index=out.index)], axis=1).reset_index()
