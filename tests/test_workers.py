"""The worker pool: results in order; an item over its time budget, or one that kills its
worker, fails alone while the others go on; safe to use from a thread."""
from __future__ import annotations

import os
import re
import threading
import time

from site_builder.workers import Failed, Pool


def square(n: int) -> int:
    return n * n


def slow_or_square(n: int) -> int:
    if n == 3:
        time.sleep(60)
    return n * n


def backtrack(n: int) -> int:
    if n == 2:  # a pattern with exponential backtracking: never returns on its own
        re.match(r"(a+)+$", "a" * 40 + "b")
    return n


def crash_or_square(n: int) -> int:
    if n == 1:
        os._exit(3)
    return n * n


def fail_or_square(n: int) -> int:
    if n == 2:
        raise ValueError("bad item")
    return n * n


def test_results_come_in_order():
    with Pool(2) as pool:
        assert list(pool.map(square, range(200))) == [n * n for n in range(200)]
        assert pool.submit(square, 7).result() == 49


def test_an_item_over_its_budget_fails_alone():
    started = time.monotonic()
    with Pool(2) as pool:
        results = list(pool.map(slow_or_square, range(8), budget=1.0))
    assert results[3] == Failed("timeout")
    assert [r for i, r in enumerate(results) if i != 3] == [n * n for n in range(8) if n != 3]
    assert time.monotonic() - started < 20


def test_a_regular_expression_that_never_returns_is_stopped():
    with Pool(2) as pool:
        assert list(pool.map(backtrack, range(5), budget=1.0)) == [0, 1, Failed("timeout"), 3, 4]


def test_an_item_that_kills_its_worker_fails_alone():
    with Pool(2) as pool:
        results = list(pool.map(crash_or_square, range(6), budget=10.0))
    assert results[1] == Failed("crash")
    assert [r for i, r in enumerate(results) if i != 1] == [n * n for n in range(6) if n != 1]


def test_an_exception_fails_its_item_with_the_traceback():
    with Pool(2) as pool:
        results = list(pool.map(fail_or_square, range(4)))
    assert isinstance(results[2], Failed) and "ValueError: bad item" in results[2].reason
    assert [results[i] for i in (0, 1, 3)] == [0, 1, 9]


def test_a_pool_works_from_a_thread_of_a_threaded_process():
    found = []
    busy = threading.Event()
    spinner = threading.Thread(target=lambda: busy.wait(5), daemon=True)  # another thread is running
    spinner.start()
    worker = threading.Thread(target=lambda: found.extend(Pool(2).map(square, range(10))))
    worker.start()
    worker.join(60)
    busy.set()
    assert found == [n * n for n in range(10)]
