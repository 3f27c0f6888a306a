"""Shared pieces of the subcommands: argument types and where runs execute.

Kept light: importing it (as every command's registration does) must not import pandas, scipy or mesa.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from funnelsim.errors import UsageError  # re-exported: the commands raise it

BAD_INPUT = 2
FAILED = 1
INTERRUPTED = 130


def whole_number(text: str, minimum: int, bound: str) -> int:
    """An integer option of at least `minimum`; `bound` says so in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {bound} (got {value})")
    return value


def positive_int(text: str) -> int:
    return whole_number(text, 1, "at least 1")


def seed(text: str) -> int:
    return whole_number(text, 0, "0 or more")


def kpi_name(text: str) -> str:
    """A KPI's name; checked when parsed, so registering the option does not import the KPI table."""
    from funnelsim.results.kpis import KPI_NAMES

    if text not in KPI_NAMES:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(KPI_NAMES)})")
    return text


def execution_options(p: argparse.ArgumentParser) -> None:
    """`--workers` and `--scheduler`, the same on every command that runs replications."""
    p.add_argument("--workers", "-w", type=positive_int, default=None, help="local processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS, e.g. tcp://host:8786")


def where_to_run(args) -> tuple[int | None, str | None]:
    """(workers, scheduler) from the options; workers None means all cores."""
    if args.scheduler and args.workers:
        raise UsageError("--workers sets local processes; with --scheduler the cluster's workers are used")
    return args.workers, args.scheduler


def where_label(workers: int, scheduler: str | None) -> str:
    """Where the runs go, as the start line of a long command says it."""
    return f"Dask scheduler {scheduler}" if scheduler else f"{workers} process(es)"


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler's kill) stops a long command the way Ctrl-C does: what finished is kept."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
