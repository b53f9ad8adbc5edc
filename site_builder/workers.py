"""The one worker pool of a build: the standard library's process pool, started the
"forkserver" way (safe in a process with threads, such as the preview server), its server
process loading what workers need once (site_builder.preload) before it forks them.

`Pool.map` runs a plain module-level function over items in the workers and gives the
results in order. With a time budget, each item runs under a timer that the kernel enforces
(SIGALRM with its default action ends the worker, even inside a regular expression that
never returns): the item is reported as `Failed`, the pool is started again and the other
items go on. A worker that dies for another cause (a crash, out of memory) fails the items
it was running the same way, after they are tried once more alone, so one bad input never
stops the rest.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

PRELOAD = "site_builder.preload"


@dataclass(frozen=True, slots=True)
class Failed:
    """An item whose function did not return: `reason` is "timeout", "crash", or the
    traceback of the exception it raised."""

    reason: str


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([PRELOAD])
    return context


class Pool:
    """Worker processes for one build; the processes start when first needed."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def prepare(self) -> None:
        """Start the server process the workers fork from, which loads what they need
        (site_builder.preload) while the caller goes on; once per process."""
        _context()
        multiprocessing.forkserver.ensure_running()

    def submit(self, fn: Callable, *args) -> Future:
        """Run fn(*args) in a worker (no time budget)."""
        return self._started().submit(fn, *args)

    def map(self, fn: Callable, items: Iterable, budget: float | None = None) -> Iterator:
        """fn(item) for each item, in order, each a result or a `Failed`. `budget`: the
        seconds one item may take."""
        items = list(items)
        done: dict[int, object] = {}
        todo = list(range(len(items)))
        alone: list[int] = []  # items running when a worker died: tried once more, one at a time
        given = 0
        while todo or alone:
            if alone:
                batch, chunk = [alone.pop(0)], 1
            else:
                batch, todo, chunk = todo, [], _chunk_size(len(todo), self.workers)
            with tempfile.TemporaryDirectory(prefix="site-builder-work-") as status:
                chunks = [batch[i:i + chunk] for i in range(0, len(batch), chunk)]
                executor = self._started()
                futures = [executor.submit(_run, fn, [(i, items[i]) for i in c], budget, status) for c in chunks]
                try:
                    for future in futures:
                        for index, value in future.result():
                            done[index] = value
                        while given in done:
                            yield done.pop(given)
                            given += 1
                except BrokenProcessPool:
                    self._executor = None
                    for future in futures:  # what finished before the pool broke
                        if future.done() and future.exception() is None:
                            done.update(future.result())
                    running = {i: t for i, t in _running(status).items() if i not in done}
                    now = time.monotonic()
                    for index, started in running.items():
                        if budget is not None and now - started >= budget * 0.9:
                            done[index] = Failed("timeout")
                        elif chunk == 1 and len(batch) == 1:
                            done[index] = Failed("crash")
                        else:
                            alone.append(index)
                    todo += [i for i in batch if i not in done and i not in alone]
                    if not running and not alone and todo == batch:  # the pool itself failed
                        raise
            while given in done:
                yield done.pop(given)
                given += 1

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=_worker_init)
        return self._executor


def _chunk_size(items: int, workers: int) -> int:
    """Items sent to a worker at a time: enough to make sending cheap, few enough that the
    workers finish together."""
    return max(1, min(32, items // (workers * 4)))


def _worker_init() -> None:
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a budget's timer ends the worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle


def _run(fn: Callable, items: list, budget: float | None, status: str) -> list:
    """In a worker: fn over (index, item) pairs. While an item runs, the file
    <status>/<pid> names it and when it started (see Pool.map)."""
    out = []
    mark = os.path.join(status, str(os.getpid()))
    for index, item in items:
        with open(mark, "w") as file:
            file.write(f"{index} {time.monotonic()!r}")
        if budget is not None:
            signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            value = fn(item)
        except Exception:  # noqa: BLE001 - the item fails, the others go on
            value = Failed(traceback.format_exc())
        finally:
            if budget is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
        out.append((index, value))
    try:
        os.unlink(mark)
    except FileNotFoundError:
        pass
    return out


def _running(status: str) -> dict[int, float]:
    """The items that were running when the workers stopped: index -> start time."""
    found = {}
    for name in os.listdir(status):
        try:
            with open(os.path.join(status, name)) as file:
                index, started = file.read().split()
            found[int(index)] = float(started)
        except (OSError, ValueError):
            continue
    return found

