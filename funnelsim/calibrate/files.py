"""One export file read as text columns (CSV through pyarrow's reader, or Parquet), only the
columns the map uses, remembering how to say where a row is in the file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from funnelsim.calibrate.problems import Problems

_SNIFF = 1 << 16


@dataclass
class RawTable:
    """A file's used columns, by the user's names; pandas string columns (Parquet may keep its types)."""

    file: str
    path: Path
    kind: str  # "csv" or "parquet"
    frame: pd.DataFrame
    header: list[str]
    _lines: np.ndarray | None = field(default=None, repr=False)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame)

    def values(self, column: str, idx: np.ndarray) -> list[Any]:
        out = self.frame[column].iloc[idx].tolist()
        return [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v for v in out]

    def where(self, idx: np.ndarray) -> list[str]:
        """The line (CSV, as an editor numbers it) or "row N" (Parquet) of each data row index."""
        if self.kind == "parquet":
            return [f"row {i + 1}" for i in idx]
        if self._lines is None:
            self._lines = record_lines(self.path, len(self.header))
        return [str(self._lines[i]) if i < len(self._lines) else "?" for i in idx]


def record_lines(path: Path, ncols: int) -> np.ndarray:
    """First line of each data record the CSV reader kept (blank lines and rows of the wrong
    width are skipped there too). Only called when there is a problem to report."""
    return _scan(path, ncols)[0]


def _scan(path: Path, ncols: int) -> tuple[np.ndarray, list[int]]:
    """First lines of the records of the right width, and of those of the wrong width."""
    good: list[int] = []
    bad: list[int] = []
    with open(path, encoding="utf-8-sig", errors="replace") as handle:  # universal newlines, as pyarrow
        reader = csv.reader(handle)
        start = 1
        header = True
        try:
            for record in reader:
                if record and not header:
                    (good if len(record) == ncols else bad).append(start)
                if record:
                    header = False
                start = reader.line_num + 1
        except csv.Error:
            pass
    return np.asarray(good, dtype=np.int64), bad


def read_table(path: Path, display: str, wanted: list[str], problems: Problems) -> RawTable | None:
    """The columns of `wanted` the file has (the caller checks which are missing), or None after
    recording why the file cannot be read at all."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, display, wanted, problems)
    return _read_csv(path, display, wanted, problems)


def _not_text(head: bytes) -> str | None:
    if head.startswith(b"PAR1"):
        return "is a Parquet file, not CSV: name it .parquet"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is UTF-16 text; save it as UTF-8 CSV"
    if head.startswith(b"PK\x03\x04"):
        return "is a ZIP archive (an Excel workbook?), not CSV: export the sheet as CSV (UTF-8)"
    if b"\x00" in head:
        return "is not a CSV file (it holds binary data)"
    return None


def _encoding_problem(path: Path, display: str, problems: Problems) -> None:
    raw = path.read_bytes()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        guess = ""
        try:
            raw.decode("cp1252")
            guess = "; it looks like Windows-1252 / Latin-1: save it as UTF-8"
        except UnicodeDecodeError:
            pass
        problems.whole(display, f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x}){guess}", where=str(line))
        return
    problems.whole(display, "file could not be read as UTF-8 CSV")


def _read_csv(path: Path, display: str, wanted: list[str], problems: Problems) -> RawTable | None:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF)
    except OSError as exc:
        problems.whole(display, f"cannot read file: {exc.strerror or exc}")
        return None
    if not head.strip():
        problems.whole(display, "file is empty; expected a header line and then one row a line")
        return None
    if (why := _not_text(head)) is not None:
        problems.whole(display, f"file {why}")
        return None
    text = head.decode("utf-8-sig", errors="replace")
    try:
        raw_names = next((r for r in csv.reader(io.StringIO(text, newline=None)) if r), [])
    except csv.Error:
        raw_names = []
    header = [h.strip() for h in raw_names]
    if "\ufffd" in ",".join(header):
        _encoding_problem(path, display, problems)
        return None
    twice = sorted({h for h in header if header.count(h) > 1 and h in wanted})
    if twice:
        problems.whole(display, f"columns named twice in the header: {', '.join(twice)}", where="1")
        return None
    used = [h for h in header if h in wanted]
    bad_rows: list[Any] = []

    def invalid(row: Any) -> str:
        bad_rows.append(row)
        return "skip"

    names = {r: r.strip() for r in raw_names}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                include_columns=[r for r in raw_names if names[r] in used],
                column_types={r: pa.string() for r in raw_names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowException as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            _encoding_problem(path, display, problems)
        else:
            problems.whole(display, f"is not a readable CSV file ({str(exc).splitlines()[0][:120]})")
        return None
    if bad_rows:
        lines = _scan(path, len(header))[1]
        for k, row in enumerate(bad_rows[:20]):
            where = str(row.number) if row.number is not None else str(lines[k]) if k < len(lines) else ""
            message = f"expected {row.expected_columns} fields, got {row.actual_columns} (a cut or broken line?)"
            problems.whole(display, message, "", where)
        if len(bad_rows) > 20:
            problems.total += len(bad_rows) - 20
    table = table.rename_columns([names.get(n, n.strip()) for n in table.column_names])
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, self_destruct=True)
    return RawTable(display, path, "csv", frame, header)


def _read_parquet(path: Path, display: str, wanted: list[str], problems: Problems) -> RawTable | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        header = list(schema.names)
        table = pq.read_table(path, columns=[h for h in header if h in wanted])
    except (OSError, pa.ArrowException) as exc:
        problems.whole(display, f"is not a readable Parquet file ({str(exc).splitlines()[0][:120]})")
        return None
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type) or pa.types.is_floating(col.type):
            columns[name] = col.to_pandas()
        else:
            columns[name] = col.cast(pa.string()).to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    return RawTable(display, path, "parquet", pd.DataFrame(columns), header)
