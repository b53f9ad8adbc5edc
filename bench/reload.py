"""Time from saving a report to the reloaded page in an open browser tab, under `serve`.

    python bench/reload.py --count 1000 [--edits 5] [--work DIR]

Generates COUNT reports with bench/generate.py (skipped when the work folder already has
them), builds once (cold, timed), starts the preview server on a free loopback port,
opens one report page in headless Chromium, then EDITS times: inserts a marker sentence
into that report's file and measures until the tab has reloaded by itself and shows it.
Before the next edit the server settles (the static search index, refreshed in the
background after an edit, is published by one more build), as it has by the time a
person saves again.
Prints one Markdown table row per run; the figures go into the benchmark doc.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from site_builder.build import build
from site_builder.serve.server import PreviewServer
from site_builder.site.urls import report as report_url

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def pick_report(content: Path, site):
    """A plain UTF-8 .txt report in simplified Chinese, and the line of its "一、" heading."""
    for entry in site.entries:
        report = entry.report
        if report.format == "txt" and report.encoding == "utf-8" and report.script == "simplified":
            lines = (content / report.source).read_text(encoding="utf-8").split("\n")
            for number, line in enumerate(lines):
                if line.strip().startswith("一、"):
                    return entry, number
    raise SystemExit("no editable report found")


def settle(server, timeout: float = 600) -> None:
    """Wait until the preview has no build pending."""
    deadline = time.monotonic() + timeout
    state = server.preview.state
    while server.preview._pending.is_set():
        if time.monotonic() > deadline:
            raise SystemExit("the preview never settled")
        state = server.preview.wait_for_build(state.seq, timeout=1.0)

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix=f"reload-{args.count}-"))
    content, output = work / "content", work / "output"
    if not content.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(content),
                        "--count", str(args.count)], check=True)

    started = time.perf_counter()
    result = build(content, output)
    cold = time.perf_counter() - started
    if not result.ok:
        print("\n".join(str(p) for p in result.problems if p.severity == "error")[:2000])
        raise SystemExit("the generated archive does not build")
    entry, heading_line = pick_report(content, result.site)
    path = content / entry.report.source
    original = path.read_text(encoding="utf-8")

    from playwright.sync_api import sync_playwright

    times, builds = [], []
    logs: list[str] = []
    with PreviewServer(content, output, port=0, log=logs.append) as server, \
            sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         headless=True)
        tab = browser.new_page()
        tab.goto(server.url + report_url(entry.id))
        try:
            for edit in range(args.edits):
                marker = f"本段为基准测试第{edit + 1}次修改所加。"
                tab.evaluate("window.__notReloaded = true")
                lines = original.split("\n")
                lines.insert(heading_line + 1, marker)
                seq = server.preview.state.seq
                saved = time.perf_counter()
                path.write_text("\n".join(lines), encoding="utf-8")
                tab.wait_for_function(
                    "m => !window.__notReloaded && document.body.innerText.includes(m)",
                    arg=marker, timeout=600_000)
                times.append(time.perf_counter() - saved)
                state = server.preview.wait_for_build(seq, timeout=600)
                assert state.ok, state.errors
                settle(server)  # the next edit finds the server idle, as a person's next save would
                builds.extend(line for line in logs if line.startswith("built in"))
                logs.clear()
                time.sleep(0.3)  # let the tab settle before the next edit
        finally:
            browser.close()
    path.write_text(original, encoding="utf-8")  # after the server stopped: no rebuild

    print(f"| {args.count:,} | {cold:.1f} s | {statistics.median(times):.2f} s | "
          f"{max(times):.2f} s | {args.edits} |")
    print("rebuilds:", "; ".join(builds))
    print("timings of a standalone rebuild (edit reverted):", build(content, output).timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
