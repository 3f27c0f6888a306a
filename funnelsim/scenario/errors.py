"""Problems found in a scenario, phrased for the person who typed it.

A scenario is written by hand, so every problem names the file and line where the offending
value was typed, the field path, and what was expected versus found. All problems of a load
are collected into one `ScenarioError` so a user can fix them in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnelsim.errors import FunnelsimError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario, located as precisely as we know."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        # One problem, one line: a stray newline in a quoted value must not split it.
        return text.replace("\r", "\\r").replace("\n", "\\n")


class ScenarioError(FunnelsimError):
    """A scenario could not be loaded; `problems` lists every reason, one per line of `str()`."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("ScenarioError needs at least one problem")
        self.problems = list(problems)
        super().__init__(str(self))

    exit_code = 2  # bad input

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def cli_message(self) -> str:
        return str(self)  # each line already says file:line

    def __reduce__(self):
        # Picklable (dask workers, multiprocessing) despite the custom __init__.
        return (type(self), (self.problems,))
