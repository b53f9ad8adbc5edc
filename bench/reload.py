"""Time from saving a report to its reloaded page in an open browser tab, under `site-builder serve`.

    python bench/generate.py ARCHIVE --count 1000 --seed 1
    python bench/reload.py ARCHIVE [--edits 7] [--code DIR] [--work DIR]

Copies ARCHIVE into a fresh work folder, starts `site-builder serve` on it (the code in DIR:
this repository by default, or any other checkout of it, so that two versions time the same
archive), opens one report's page in headless Chromium, then EDITS times: inserts a marker
sentence into that report's file and measures until the tab has reloaded by itself and
shows it. Before the next edit the server goes quiet (no build for two seconds), as it has by
the time a person saves again.

Prints one Markdown table row (reports, median, slowest, edits), the server's rebuild times
and the part of each figure spent outside its build (the server's own share); the figures
go into docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SERVING = re.compile(r"Serving (http://[^/\s]+/[^\s（(]*)")
BUILT = re.compile(r"built in ([0-9.]+) s|build FAILED")
QUIET = 2.0  # seconds without a build after which the server counts as settled


class Server:
    """`site-builder serve` in its own process; its messages are read as they come."""

    def __init__(self, code: Path, content: Path, output: Path):
        env = {**os.environ, "PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "site_builder.cli", "serve", "--content", str(content),
             "--output", str(output), "--port", "0"],
            cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self.builds: list[tuple[float, str]] = []  # (when, the message)
        self._lock = threading.Lock()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        for line in self.proc.stdout:
            found = SERVING.search(line)
            if found:
                self.url = found[1]
                break
        else:
            raise SystemExit("the server did not start:\n" + "".join(m for _, m in self.builds))

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            if BUILT.search(line):
                with self._lock:
                    self.builds.append((time.monotonic(), line.strip()))

    def builds_since(self, moment: float) -> list[str]:
        with self._lock:
            return [message for when, message in self.builds if when >= moment]

    def settle(self, since: float, timeout: float = 600) -> None:
        """Wait for a build after `since`, then for QUIET seconds without one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                last = self.builds[-1][0] if self.builds else 0.0
            if last >= since and time.monotonic() - last >= QUIET:
                return
            time.sleep(0.05)
        raise SystemExit("the server never settled")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def pick_report(content: Path) -> tuple[Path, str, int]:
    """A UTF-8 .txt report, its text and the line of its "一、" heading."""
    for path in sorted(content.rglob("*.txt")):
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if line.strip().startswith("一、"):
                return path, text, number
    raise SystemExit("no editable report found")


def report_id(output: Path, original: bytes) -> str:
    """The id of the published report whose original is `original`."""
    for path in (output / "reports").glob("*/original.txt"):
        if path.read_bytes() == original:
            return path.parent.name
    raise SystemExit("the edited report is not published")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", type=Path, help="a folder of reports, e.g. made by bench/generate.py")
    ap.add_argument("--edits", type=int, default=7)
    ap.add_argument("--code", type=Path, default=REPO, help="the checkout whose site_builder runs (default: this one)")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a new temporary one)")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="reload-"))
    content, output = work / "content", work / "output"
    shutil.rmtree(content, ignore_errors=True)
    shutil.copytree(args.archive, content)
    count = sum(1 for p in content.rglob("*") if p.is_file() and p.suffix in (".txt", ".html", ".md"))
    path, original, heading_line = pick_report(content)

    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    server = Server(args.code.resolve(), content, output)
    first_build = time.monotonic() - started
    times: list[float] = []
    rebuilds: list[str] = []
    beyond: list[float] = []  # of each edit, the time not spent in its build
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            tab = browser.new_page()
            tab.goto(server.url + f"reports/{report_id(output, original.encode('utf-8'))}/")
            for edit in range(args.edits):
                marker = f"本段为基准测试第{edit + 1}次修改所加。"
                lines = original.split("\n")
                lines.insert(heading_line + 1, marker)
                tab.evaluate("window.__notReloaded = true")
                saved = time.monotonic()
                path.write_text("\n".join(lines), encoding="utf-8")
                tab.wait_for_function("m => !window.__notReloaded && document.body.innerText.includes(m)",
                                      arg=marker, timeout=600_000)
                times.append(time.monotonic() - saved)
                server.settle(saved)
                builds = server.builds_since(saved)
                rebuilds += builds
                first = BUILT.search(builds[0])[1]
                if first:
                    beyond.append(times[-1] - float(first))
                time.sleep(0.3)  # the tab settles before the next edit
            browser.close()
    finally:
        server.stop()
    seconds = [float(m[1]) for m in map(BUILT.search, rebuilds) if m and m[1]]
    print(f"| {count:,} | {statistics.median(times):.2f} s | {max(times):.2f} s | {args.edits} |")
    print(f"code: {args.code.resolve()}; start-up (first build, then serving): {first_build:.1f} s")
    print(f"each save -> reloaded tab: {', '.join(f'{t:.2f}' for t in times)} s")
    print(f"builds in the server: {len(rebuilds)} for {args.edits} edits, "
          f"{min(seconds, default=0):.2f}-{max(seconds, default=0):.2f} s")
    if beyond:
        print(f"beyond the build (watching, quiet period, event, reload): median {statistics.median(beyond):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
