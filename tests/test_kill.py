"""A build killed at any moment (SIGKILL) leaves the previous output and search index
intact and usable, and the next build recovers by itself. (Killed after its atomic swap, a
build has already published its complete new site; the test then checks it is complete.)

Builds run `site-builder build` (cli.main) in child processes forked from one process that
has already imported the package, so each build costs only its own work, not the imports;
each child leads its own process group, and the group is killed with SIGKILL at seeded
random points spread over a measured build's duration."""
from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, report_text, tree
from site_builder import build as build_module
from site_builder.build import state_dir

REPORTS = 12
KILLS = 8
SEED = 20240401
PLACES = "甲乙丙丁戊己庚辛壬癸"

# Forks one build per line of stdin ("content<TAB>output"); prints the child's pid, then
# its exit code (negative: killed by that signal).
ZYGOTE = r"""
import os, sys
from site_builder import cli
from site_builder.text import words as words_
words_.keywords("法治政府建设年度报告")  # load the extractor once, before forking
for line in sys.stdin:
    content, output = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            code = cli.main(["build", "--content", content, "--output", output])
        except BaseException:
            code = 3
        os._exit(code)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class Builder:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=REPO, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def start(self, content: Path, output: Path) -> int:
        self.proc.stdin.write(f"{content}\t{output}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def result(self) -> int:
        return int(self.proc.stdout.readline())

    def run(self, content: Path, output: Path) -> tuple[int, float]:
        started = time.monotonic()
        self.start(content, output)
        code = self.result()
        return code, time.monotonic() - started

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def digest(output: Path) -> str:
    h = hashlib.sha256()
    for path, data in sorted(tree(output).items()):
        h.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def _has_whoosh() -> bool:
    return hasattr(build_module, "update_index")


def check_index(output: Path) -> int:
    """The Whoosh index opens, answers, and is not left locked; returns its document count."""
    from site_builder.search import whoosh_index as si

    index = state_dir(output) / "whoosh"
    ix = si.open_index(index)
    with ix.searcher() as searcher:
        count = searcher.doc_count()
    assert si.search(index, "法治政府建设").total > 0
    writer = ix.writer(timeout=1.0)  # raises LockError if a killed build kept the lock
    writer.cancel()
    return count


def _add(content: Path, n: int) -> None:
    (content / f"kill-{n}.txt").write_text(report_text(f"{PLACES[n]}山镇", 2024), encoding="utf-8")
    (content / "site.toml").write_text(f'site_name = "档案 第{n}版"\n', encoding="utf-8")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_builds_killed_at_random_points_leave_the_last_good_site(tmp_path: Path):
    content, output = tmp_path / "content", tmp_path / "site" / "output"
    generated = subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(content),
                                "--count", str(REPORTS), "--seed", "7"], capture_output=True, text=True)
    assert generated.returncode == 0, generated.stderr
    builder = Builder()
    try:
        code, cold = builder.run(content, output)
        assert code == 0
        _add(content, 0)  # every page changes (site name), one report is new
        code, duration = builder.run(content, output)
        assert code == 0
        print(f"cold build {cold:.2f}s, changed build {duration:.2f}s")
        good = digest(output)
        if _has_whoosh():
            check_index(output)

        rng = random.Random(SEED)
        killed = 0
        for i in range(KILLS):
            _add(content, i + 1)
            point = duration * (0.05 + 0.85 * (i + rng.random()) / KILLS)
            pid = builder.start(content, output)
            time.sleep(point)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = builder.result()
            print(f"kill {i} at {point:.2f}s: exit {code}")
            if code == 0:  # it finished first: that is the new last good build
                good = digest(output)
            else:
                assert code == -signal.SIGKILL, code
                killed += 1
            assert output.is_dir()
            now = digest(output)
            if now != good:
                # Killed after the atomic swap (e.g. while updating the Whoosh index): output/
                # must then be the complete new site, the one a finished build of it makes.
                assert code == -signal.SIGKILL
                assert builder.run(content, output)[0] == 0
                assert digest(output) == now, f"kill {i} at {point:.2f}s left a partial site"
                good = now
            assert digest(output) == good, f"kill {i} at {point:.2f}s of {duration:.2f}s"
            if _has_whoosh():
                check_index(output)
        assert killed >= KILLS // 2, killed  # the others finished first (a loaded machine)

        # The next build recovers by itself: no leftovers, the same site a fresh build makes.
        assert builder.run(content, output)[0] == 0
        leftovers = [p.name for p in output.parent.iterdir() if p.name not in (output.name, ".site-cache")]
        assert leftovers == []
        reference = tmp_path / "fresh" / "output"
        assert builder.run(content, reference)[0] == 0
        assert tree(output) == tree(reference)
        if _has_whoosh():
            reports = {p.parent.name for p in (output / "reports").glob("*/index.html")}
            assert check_index(output) == len(reports)
            from site_builder.search import whoosh_index as si

            assert si.search(state_dir(output) / "whoosh", f"{PLACES[KILLS]}山镇").total == 1
    finally:
        builder.close()
