"""Turn a column of text cells into typed values, vectorised; every cell that does not fit is a problem."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from funnelsim.calibrate.files import RawTable
from funnelsim.calibrate.mapping import ISO, Amounts, Outcome
from funnelsim.calibrate.problems import Problems, got, suggest

_LOW, _HIGH = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
_CURRENCY = r"(?:[$€£¥]|[A-Z]{3})"


def text(raw: RawTable, column: str) -> pd.Series:
    """Stripped text, <NA> for an empty cell."""
    s = raw.frame[column]
    if s.dtype != "string":
        s = s.astype("string")
    s = s.str.strip()
    return s.mask(s == "")


def required(raw: RawTable, column: str, values: pd.Series, problems: Problems) -> None:
    problems.cells(raw, values.isna().to_numpy(), column, lambda v: "a value is required here (got an empty cell)")


def ids(raw: RawTable, column: str, problems: Problems, need: bool = False) -> pd.Series:
    values = text(raw, column)
    if need:
        required(raw, column, values, problems)
    return values


def unique(raw: RawTable, column: str, values: pd.Series, problems: Problems) -> None:
    dup = values.duplicated(keep="first") & values.notna()
    if not dup.any():
        return
    first = pd.Series(np.arange(len(values)), index=values.to_numpy(dtype=object))
    first = first[~values.duplicated(keep="first").to_numpy()]
    lines = dict(zip(first.index, raw.where(first.to_numpy()), strict=True))
    on = "on line " if raw.kind == "csv" else "at "
    problems.cells(
        raw, dup.to_numpy(), column, lambda v: f"expected each id once (got {got(v)}, first {on}{lines.get(v)})"
    )


def times(raw: RawTable, column: str, formats: list[str], problems: Problems, need: bool = False) -> pd.Series:
    s = raw.frame[column]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):  # a typed Parquet column
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert(None)
        s = s.astype("datetime64[ns]")
        if need:
            required(raw, column, s, problems)
        return s.reset_index(drop=True)
    values = text(raw, column)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    left = values.notna().to_numpy(dtype=bool, copy=True)
    for fmt in formats:
        if not left.any():
            break
        sub = values[left]
        if fmt == ISO:
            parsed = pd.to_datetime(sub, format="ISO8601", utc=True, errors="coerce").dt.tz_convert(None)
        else:
            parsed = pd.to_datetime(sub, format=fmt, errors="coerce", utc="%z" in fmt or "%Z" in fmt)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_convert(None)
        ok = (parsed.notna() & (parsed > _LOW) & (parsed < _HIGH)).to_numpy()
        where = np.flatnonzero(left)[ok]
        out.iloc[where] = parsed[ok].astype("datetime64[ns]").to_numpy()
        left[where] = False
    shown = ", ".join(repr(f) for f in formats)
    problems.cells(raw, left, column, lambda v: f"expected a date or time in one of the formats {shown} (got {got(v)})")
    if need:
        required(raw, column, values, problems)
    return out


def amounts(raw: RawTable, column: str, fmt: Amounts, problems: Problems) -> pd.Series:
    s = raw.frame[column]
    if pd.api.types.is_float_dtype(s.dtype):
        return s.astype("float64").reset_index(drop=True)
    values = text(raw, column).str.replace("\u00a0", " ").str.replace("\u202f", " ")
    parts = values.str.extract(rf"^{_CURRENCY}?\s*(-)?\s*{_CURRENCY}?\s*([0-9][0-9.,' ]*?)\s*{_CURRENCY}?$")
    number = parts[1]
    d, t = re.escape(fmt.decimal), re.escape(fmt.thousands)
    grouped = rf"\d{{1,3}}(?:{t}\d{{3}})+|" if fmt.thousands else ""
    shaped = number.str.fullmatch(rf"(?:{grouped}\d+)(?:{d}\d+)?").fillna(False).astype(bool)
    clean = number.where(shaped)
    if fmt.thousands:
        clean = clean.str.replace(fmt.thousands, "", regex=False)
    clean = clean.str.replace(fmt.decimal, ".", regex=False)
    out = pd.to_numeric(clean, errors="coerce").astype("float64")
    out = out.where(parts[0].isna(), -out)
    bad = (values.notna() & out.isna()).to_numpy()
    example = f"25{fmt.thousands}000{fmt.decimal}00"
    problems.cells(raw, bad, column, lambda v: f"expected an amount like {example} (got {got(v)})")
    return out.reset_index(drop=True)


def flags(raw: RawTable, column: str, outcome: Outcome, problems: Problems) -> pd.Series:
    values = text(raw, column).str.lower()
    yes = values.isin([v.lower() for v in outcome.true_values]).to_numpy()
    no = values.isin([v.lower() for v in outcome.false_values]).to_numpy()
    options = ", ".join(repr(v) for v in [*outcome.true_values, *outcome.false_values])
    problems.cells(raw, ~(yes | no), column, lambda v: f"expected true or false, one of {options} (got {got(v)})")
    return pd.Series(yes)


def named(
    raw: RawTable, column: str, names: dict[str, str], what: str, key: str, problems: Problems, need: bool = True
) -> pd.Series:
    """Cells mapped through `names` (the map's stages, types or values); an unmapped value is a problem."""
    values = text(raw, column)
    mapped = values.map(names).astype("string") if len(values) else values.astype("string")
    unknown = (values.notna() & mapped.isna()).to_numpy()
    known = list(names)

    def say(v: object) -> str:
        listing = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f"expected {what} listed under '{key}:' in the map ({listing}) (got {got(v)}){suggest(v, known)}"

    problems.cells(raw, unknown, column, say)
    if need:
        required(raw, column, values, problems)
    return mapped
