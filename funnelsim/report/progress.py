"""A progress bar on stderr for anything long; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, label: str, unit: str = "run", delay: float = 0.0) -> Iterator[Callable[[int], None]]:
    """`delay`: show nothing until that many seconds have passed, so short jobs stay quiet."""
    bar = tqdm(
        total=total,
        desc=label,
        unit=unit,
        file=sys.stderr,
        disable=None if total > 1 else True,
        dynamic_ncols=True,
        mininterval=0.5,
        delay=delay,
    )
    try:
        yield bar.update
    finally:
        bar.close()
