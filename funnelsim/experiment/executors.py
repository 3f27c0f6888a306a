"""Where runs execute: in this process, on local worker processes, or on a Dask cluster.

One interface, three implementations, entered with a context manager (as the EMA workbench's
evaluators): everything that runs many experiments (simulate, compare, crossover, sweep, the README
table) submits picklable tasks here and never cares where they run. `map` returns results in task
order, so results do not depend on the number of workers or on the executor.

Ctrl-C reaches the whole process group. Workers ignore it; the parent cancels what has not started,
ends local workers at once, keeps every finished result (`Interrupted.finished`) and re-raises.
"""

from __future__ import annotations

import ast
import multiprocessing
import os
import re
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from funnelsim.errors import ExecutorFailed, RunFailed, UsageError, install_hint

# imported once by the fork server, so every worker starts with the model already loaded
PRELOAD = ["funnelsim.experiment.runner"]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `Executor.map`: `finished` maps task index to result for every finished task."""

    def __init__(self, finished: dict[int, Any]) -> None:
        super().__init__()
        self.finished = finished


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def short_error(exc: BaseException) -> str:
    """`Type: message (at file:line in function)`, one line; the place is the worker's when remote."""
    where = ""
    remote = getattr(exc.__cause__, "tb", None)  # concurrent.futures' _RemoteTraceback
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', remote) if isinstance(remote, str) else []
    if frames:
        file, line, name = frames[-1]
        where = f" (at {Path(file).name}:{line} in {name})"
    elif exc.__traceback__ is not None:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    text = str(exc).strip().replace("\n", "; ")
    return f"{type(exc).__name__}: {text}{where}"


def _call_chunk(fn: Callable, chunk: list[tuple]) -> list:
    return [fn(*args) for args in chunk]


class Executor:
    """Runs picklable tasks somewhere; subclasses say where.

    `submit` and `stop` are the primitives; `map` is what most callers want. Leaving the `with`
    block normally waits for running tasks; leaving it on an exception (Ctrl-C included) stops now.
    """

    kind = "executor"

    def submit(self, fn: Callable, /, *args: Any) -> Future:
        raise NotImplementedError

    def slots(self) -> int:
        """How many tasks can run at once (a cluster's count may change while it runs)."""
        return 1

    def window(self) -> int:
        """How many tasks to keep submitted ahead: enough to keep every slot busy."""
        return 2 * self.slots()

    def stop(self) -> None:
        """Cancel what has not started and end what runs, as far as this executor can."""

    def close(self) -> None:
        """Release the workers once running tasks are done."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.stop()

    def map(
        self,
        fn: Callable,
        tasks: Sequence[tuple],
        progress: Callable[[int], None] | None = None,
        *,
        chunk_size: int = 1,
        describe: Callable[[int], str] | None = None,
    ) -> list:
        """`[fn(*t) for t in tasks]`, run here or elsewhere; results in task order whatever the workers.

        `progress(n)` is called as tasks finish; `chunk_size` tasks travel together (less overhead
        for short tasks). A task that raises stops the batch with `RunFailed` (`describe(i)` names
        task i in the message); Ctrl-C raises `Interrupted` with every finished result.
        """
        chunks = [list(range(i, min(i + chunk_size, len(tasks)))) for i in range(0, len(tasks), chunk_size)]
        results: dict[int, Any] = {}
        pending: dict[Future, list[int]] = {}
        queue = iter(chunks)
        try:
            for chunk in queue:
                pending[self.submit(_call_chunk, fn, [tuple(tasks[i]) for i in chunk])] = chunk
                if len(pending) >= self.window():
                    self._collect(pending, results, progress, describe)
            while pending:
                self._collect(pending, results, progress, describe)
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            self.stop()
            raise Interrupted(results) from None
        except BaseException:
            for future in pending:
                future.cancel()
            raise
        return [results[i] for i in range(len(tasks))]

    def _collect(self, pending: dict, results: dict, progress, describe) -> None:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in done:
            chunk = pending.pop(future)
            try:
                values = future.result()
            except Exception as exc:
                raise self._failure(exc, chunk, describe) from exc
            results.update(zip(chunk, values, strict=True))
            if progress:
                progress(len(chunk))

    def _failure(self, exc: Exception, chunk: list[int], describe) -> Exception:
        if isinstance(exc, BrokenExecutor) or type(exc).__name__ in ("KilledWorker", "CancelledError"):
            return ExecutorFailed(f"{self.kind} failed: {type(exc).__name__}: {exc}")
        which = describe(chunk[0]) if describe and len(chunk) == 1 else f"task {chunk[0] + 1}"
        return RunFailed(f"{which} failed: {short_error(exc)}")


class InProcess(Executor):
    """Runs each task as it is submitted, in this process: the reference the others must match."""

    kind = "this process"

    def window(self) -> int:
        return 1  # one at a time, so progress ticks run by run

    def submit(self, fn: Callable, /, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, like the others
            future.set_exception(exc)
        return future


def _under_main_guard(tree: ast.Module, line: int) -> bool:
    """Whether `line` of a module lies in a top-level `if __name__ == "__main__":` block."""
    for node in tree.body:
        test = node.test if isinstance(node, ast.If) else None
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
            and node.lineno <= line <= (node.end_lineno or node.lineno)
        ):
            return True
    return False


def unguarded_main_call() -> tuple[str, int] | None:
    """(file, line) of the script's top-level line that led here, if it is not under an
    `if __name__ == "__main__":` guard: worker processes re-run a script's top level when they
    start, so such a line would start workers in every worker (and end in BrokenProcessPool)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path or not str(path).endswith(".py"):
        return None  # an interactive session, a notebook, python -c: nothing is re-run
    frame = sys._getframe(1)
    line = None
    while frame is not None:
        if frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return None
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    return None if _under_main_guard(tree, line) else (str(path), line)


def _ignore_sigint() -> None:
    # Ctrl-C reaches the whole process group; the parent decides, workers must not die mid-task.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcesses(Executor):
    """Worker processes started from a fork server that has already imported the model."""

    def __init__(self, workers: int) -> None:
        unguarded = unguarded_main_call()
        if unguarded is not None:
            file, line = unguarded
            raise UsageError(
                f"{Path(file).name}:{line} starts {workers} worker processes, which re-run the script's top level: "
                'put the script\'s code under `if __name__ == "__main__":` (or use workers=1)'
            )
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        self.workers = workers
        self.kind = f"{workers} local process{'es' if workers > 1 else ''}"
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_ignore_sigint)

    def submit(self, fn: Callable, /, *args: Any) -> Future:
        return self.pool.submit(fn, *args)

    def slots(self) -> int:
        return self.workers

    def stop(self) -> None:
        processes = dict(getattr(self.pool, "_processes", None) or {})
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes.values():
            if proc.is_alive():
                proc.terminate()
        for proc in processes.values():
            proc.join(timeout=5)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class DaskCluster(Executor):
    """Tasks on a Dask cluster through a `distributed.Client`; closes the client only if it opened it."""

    def __init__(self, client, kind: str = "Dask", owns_client: bool = False) -> None:
        self.client = client
        self.kind = kind
        self.owns_client = owns_client
        self.executor = client.get_executor(pure=False)
        self._slots = 1
        self._checked = -1e9

    def submit(self, fn: Callable, /, *args: Any) -> Future:
        return self.executor.submit(fn, *args)

    def slots(self) -> int:
        """Asked of the scheduler at most every 5 s, so workers that join are used."""
        if time.monotonic() - self._checked > 5.0:
            self._checked = time.monotonic()
            self._slots = max(1, sum(self.client.nthreads().values()))
        return self._slots

    def stop(self) -> None:
        self.executor.shutdown(wait=False)  # cancels every future it handed out
        if self.owns_client:
            self.client.close()
        else:  # the owner's client may take more work
            self.executor = self.client.get_executor(pure=False)

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self.owns_client:
            self.client.close()


def dask_executor(client, kind: str = "Dask") -> DaskCluster:
    """An executor on an existing `distributed.Client` (notebooks, tests); the client stays open."""
    return DaskCluster(client, kind)


def connect(scheduler: str) -> DaskCluster:
    """An executor on the Dask scheduler at `scheduler` (e.g. tcp://host:8786), with its own client."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"--scheduler needs Dask; install it with: {install_hint('distributed')}") from None
    try:
        client = Client(scheduler)
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    return DaskCluster(client, f"Dask scheduler {scheduler}", owns_client=True)


def make_executor(workers: int | None = 1, scheduler: str | None = None, tasks: int | None = None) -> Executor:
    """Dask at `scheduler`; else local processes for `workers > 1` (no more than `tasks`); else this process.

    `workers=None` means all cores.
    """
    if scheduler:
        return connect(scheduler)
    workers = default_workers() if workers is None else workers
    if tasks is not None:
        workers = min(workers, tasks)
    return LocalProcesses(workers) if workers > 1 else InProcess()


@contextmanager
def open_executor(
    workers: int | None = 1,
    scheduler: str | None = None,
    executor: Executor | None = None,
    tasks: int | None = None,
) -> Iterator[Executor]:
    """The executor to use: `executor` if given (left open for its owner), else `make_executor(...)`."""
    if executor is not None:
        yield executor
        return
    with make_executor(workers, scheduler, tasks) as ex:
        yield ex
