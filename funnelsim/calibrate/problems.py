"""What is wrong with an export, cell by cell, collected across all its files and raised once.

A user fixes an export in a spreadsheet or an editor, so every problem names the file, the line
the row is on as an editor shows it (the header is line 1; Parquet rows are "row N"), the column
as the user named it, and what was expected against what was found.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from funnelsim.errors import FunnelsimError

MAX_SHOWN = 20


@dataclass(frozen=True)
class RowProblem:
    """One problem: `where` is a line number ("12"), a Parquet row ("row 12") or "" for the whole file."""

    file: str
    where: str
    column: str
    message: str

    def __str__(self) -> str:
        head = f"{self.file}:{self.where}" if self.where else self.file
        text = f"{head}: {self.column}: {self.message}" if self.column else f"{head}: {self.message}"
        return text.replace("\r", "\\r").replace("\n", "\\n")


class CrmDataError(FunnelsimError):
    """An export could not be read; `str()` lists the first problems, one a line, and how many more."""

    exit_code = 2  # bad input

    def __init__(self, problems: Sequence[RowProblem], more: int = 0, rows: int = 0) -> None:
        if not problems:
            raise ValueError("CrmDataError needs at least one problem")
        self.problems = list(problems)
        self.more = more
        self.rows = rows
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.more:
            lines.append(f"... and {self.more} more problems ({self.rows} rows have problems in all)")
        return "\n".join(lines)

    def cli_message(self) -> str:
        return str(self)

    def __reduce__(self):
        return (type(self), (self.problems, self.more, self.rows))


def suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def got(value: object) -> str:
    text = repr(value) if isinstance(value, str) else "nothing" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Problems:
    """Collects problems; cell problems are given as a mask so the good path stays vectorised."""

    shown: list[tuple[int, int, RowProblem]] = field(default_factory=list)
    total: int = 0
    rows: dict[str, list[np.ndarray]] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)

    def whole(self, file: str, message: str, column: str = "", where: str = "") -> None:
        self.total += 1
        rank = self.ranks.setdefault(file, len(self.ranks))
        self.shown.append((rank, -1, RowProblem(file, where, column, message)))

    def cells(
        self,
        raw,
        mask: np.ndarray,
        column: str,
        say: Callable[[object], str],
    ) -> None:
        """A problem for every row where `mask` holds; `say(value)` phrases one from the cell's value."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.total += len(idx)
        self.rows.setdefault(raw.file, []).append(idx)
        rank = self.ranks.setdefault(raw.file, len(self.ranks))
        first = idx[:MAX_SHOWN]
        values = raw.values(column, first) if column in raw.columns else [None] * len(first)
        for i, line, value in zip(first, raw.where(first), values, strict=True):
            self.shown.append((rank, int(i), RowProblem(raw.file, line, column, say(value))))

    def __bool__(self) -> bool:
        return self.total > 0

    def error(self) -> CrmDataError:
        ordered = sorted(self.shown, key=lambda t: (t[0], t[1]))[:MAX_SHOWN]
        rows = sum(len(np.unique(np.concatenate(parts))) for parts in self.rows.values())
        rows += sum(1 for _, i, _ in self.shown if i < 0)
        return CrmDataError([p for _, _, p in ordered], self.total - len(ordered), rows)

    def check(self) -> None:
        if self:
            raise self.error()
