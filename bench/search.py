"""Search per query on a built archive: the static search in Chromium beside Pagefind on the
same report pages, and the Whoosh index of the same build.

    python bench/search.py --sizes 10000,100000 --workdir DIR [--reuse] [--no-pagefind]

For each size N: generate N reports (bench/generate.py, seed 1), build them with the
command line (`site_builder.cli build`) into DIR/site-N, and index the report pages of that
output with Pagefind (`python -m pagefind`, the `bench` extra), each timed. Then, per query:

- static search: a fresh browser context loads search/, then the query is typed and
  Enter pressed; counted are the requests and bytes of the query (search/index/ but the
  ids: buckets, records, and the part masks or region names when a filter or the region
  counts ask) and of the 10 results shown (their ids from search/index/i/ and their
  texts, reports/*/report.json, for the excerpts), the time from Enter to the first
  result on screen and to the last excerpt, and whether the first ten results are
  Whoosh's, in the same order;
- Pagefind: a page that imports the bundle, then times search() and data() of the first
  ten results; counted the same way (the query: its index chunks and filters; the
  results: their fragments);
- Whoosh: the median of 7 searches (10 hits and facets) on a searcher kept open.

The files are served on loopback by a server that gzips JSON, JavaScript, HTML and .bin
files when the browser accepts it and keeps connections alive, as a static host does (in
a process of its own, so that this one's browser driver does not slow it); bytes are counted as sent on
the wire (Pagefind's files are gzipped by Pagefind itself and sent as they are). Prints
one markdown table per size.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402  (bench/generate.py)

QUERIES = [
    ("two characters", "营商", {}),
    ("phrase", "营商环境", {}),
    ("policy term", "放管服", {}),
    ("traditional", "行政復議", {}),
    ("long phrase", "深入贯彻习近平法治思想", {}),
    ("one character", "镇", {}),
    ("digits + Han", "2023年", {}),
    ("two terms", "执法 培训", {}),
    ("with a filter (2023)", "营商环境", {"year": "2023"}),
    ("no match", "不存在的词语组合", {}),
]
COMPRESSED = {".json", ".bin", ".js", ".html", ".css"}
PAGEFIND_PAGE = """<!DOCTYPE html><meta charset="utf-8"><title>pagefind</title>
<script type="module">
window.pagefindSearch = async function (query) {
  const pf = await import("./pagefind/pagefind.js");
  await pf.init();
  const start = performance.now();
  const found = await pf.search(query);
  const first = performance.now();
  await Promise.all(found.results.slice(0, 10).map(r => r.data()));
  return {count: found.results.length, first: first - start, done: performance.now() - start};
};
window.pagefindReady = async function () {
  const pf = await import("./pagefind/pagefind.js");
  await pf.init();
  await pf.preload("x");
};
</script>"""


class Counting(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, gzipping text and .bin files for a browser that accepts it, and
    counts each request's path and the bytes sent for it. HTTP/1.1: connections are kept
    alive, as a static host keeps them, and sent without Nagle's delay (headers and body
    are separate writes)."""
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    lock = threading.Lock()
    sent: list = []  # (path, bytes on the wire)
    gzipped: dict = {}

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "max-age=3600")
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants and path.suffix in COMPRESSED and path.is_file()):
            return super().send_head()
        body = Counting.gzipped.get(path)
        if body is None:
            body = Counting.gzipped[path] = gzip.compress(path.read_bytes(), 6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data)
        with Counting.lock:
            Counting.sent.append((self.path.split("?")[0], len(data)))

    @classmethod
    def take(cls) -> list:
        with cls.lock:
            sent, cls.sent = cls.sent, []
        return sent


class Server:
    """A Counting server on a loopback port, in a process of its own (in this one the
    browser driver's event loop would hold the interpreter while a request waits); its
    tally comes over a pipe."""

    def __init__(self, folder: Path):
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(target=_serve, args=(str(folder), child),
                                                                     daemon=True)
        self._process.start()
        self.base = f"http://127.0.0.1:{self._pipe.recv()}/"

    def take(self) -> list:
        self._pipe.send("take")
        return self._pipe.recv()

    def close(self) -> None:
        self._pipe.send("stop")
        self._process.join(10)


def _serve(folder: str, pipe) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Counting, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pipe.send(server.server_address[1])
    while pipe.recv() == "take":
        pipe.send(Counting.take())
    server.shutdown()


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def prepare(n: int, seed: int, work: Path, reuse: bool, pagefind: bool) -> dict:
    content, site, bundle = work / f"content-{n}", work / f"site-{n}", work / f"pagefind-{n}"
    if not content.exists():
        generate.generate(content, n, seed)
    figures = {}
    if not (reuse and (site / "index.html").exists()):
        figures["build"] = timed([sys.executable, "-m", "site_builder.cli", "build", "--content", str(content),
                                  "--output", str(site), "--allow-shrink"])
    if pagefind and not (reuse and (bundle / "pagefind" / "pagefind.js").exists()):
        figures["pagefind"] = timed([sys.executable, "-m", "pagefind", "--site", str(site),
                                     "--glob", "reports/*/index.html", "--root-selector", "main",
                                     "--output-path", str(bundle / "pagefind")])
    if pagefind:
        (bundle / "index.html").write_text(PAGEFIND_PAGE, encoding="utf-8")
    return figures


def whoosh_latency(site: Path) -> dict:
    from site_builder.search import whoosh_index
    from site_builder.state import WHOOSH, state_dir

    index_dir = state_dir(site) / WHOOSH
    out = {}
    for label, query, filters in QUERIES:
        whoosh_index.search(index_dir, query, filters=filters, limit=10, facets=True)  # warm
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            results = whoosh_index.search(index_dir, query, filters=filters, limit=10, facets=True)
            runs.append(time.perf_counter() - start)
        out[label] = (statistics.median(runs), results.total, [h.id for h in results.hits])
    return out


def tally(sent: list, prefix: str) -> tuple[int, int]:
    picked = [size for path, size in sent if path.startswith(prefix)]
    return len(picked), sum(picked)


def static_queries(browser, site: Path) -> dict:
    server = Server(site)
    base, out = server.base, {}
    try:
        for label, query, filters in QUERIES:
            context = browser.new_context()  # a fresh cache for every query
            page = context.new_page()
            page.goto(base + "search/")
            page.wait_for_function("document.querySelectorAll('#search-level option').length > 1")
            page.wait_for_load_state("networkidle")
            startup = tally(server.take(), "/search/index/")
            for name, value in filters.items():
                page.select_option(f"#search-{name}", value)
            page.fill("#search-q", query)
            start = time.perf_counter()
            page.press("#search-q", "Enter")
            page.wait_for_function("document.querySelector('#search-results li') ||"
                                   " document.body.hasAttribute('data-search-done')", polling="raf")
            first = time.perf_counter() - start
            page.wait_for_selector("body[data-search-done]", state="attached")
            done = time.perf_counter() - start
            page.wait_for_load_state("networkidle")  # the region facet's table, if any
            sent = server.take()
            ids = page.eval_on_selector_all(".search-result", "els => els.map(e => e.dataset.id)")
            status = page.inner_text("#search-status")
            id_files = tally(sent, "/search/index/i/")
            index = tally(sent, "/search/index/")
            texts = tally(sent, "/reports/")
            out[label] = {"startup": startup, "query": (index[0] - id_files[0], index[1] - id_files[1]),
                          "shown": (id_files[0] + texts[0], id_files[1] + texts[1]), "first": first, "done": done,
                          "ids": ids, "status": status}
            context.close()
    finally:
        server.close()
    return out


def pagefind_queries(browser, bundle: Path) -> dict:
    server = Server(bundle)
    base, out = server.base, {}
    try:
        for label, query, filters in QUERIES:
            if filters:  # the report pages carry no Pagefind filter attributes
                continue
            context = browser.new_context()
            page = context.new_page()
            page.goto(base)
            page.wait_for_function("window.pagefindReady !== undefined")
            page.evaluate("pagefindReady()")
            page.wait_for_load_state("networkidle")
            startup = tally(server.take(), "/pagefind/")
            result = page.evaluate("q => pagefindSearch(q)", query)
            sent = server.take()
            fragments, everything = tally(sent, "/pagefind/fragment/"), tally(sent, "/pagefind/")
            out[label] = {"startup": startup, "query": (everything[0] - fragments[0], everything[1] - fragments[1]),
                          "shown": fragments, **result}
            context.close()
    finally:
        server.close()
    return out


def kib(n: int) -> str:
    return f"{n / 1024:,.0f}"


def table(n: int, figures: dict, whoosh: dict, static: dict, pagefind: dict) -> str:
    lines = [f"### {n:,} reports", ""]
    if "build" in figures:
        lines.append(f"- cold build (site, static index, Whoosh index): {figures['build']:.0f} s")
    if "pagefind" in figures:
        lines.append(f"- Pagefind indexing the same report pages: {figures['pagefind']:.0f} s")
    s0 = next(iter(static.values()))["startup"]
    lines.append(f"- static search start-up (meta.json): {s0[0]} request(s), {kib(s0[1])} KiB")
    if pagefind:
        p0 = next(iter(pagefind.values()))["startup"]
        lines.append(f"- Pagefind start-up (entry, wasm, filters): {p0[0]} requests, {kib(p0[1])} KiB")
    lines += ["", "| query | | matches: static / Whoosh / Pagefind | static: query requests, KiB | "
                  "static: 10 results shown (ids, texts) requests, KiB | static: first result / all shown | "
                  "top 10 = Whoosh's | Pagefind: query requests, KiB | Pagefind: 10 results requests, KiB | "
                  "Pagefind: search / +10 results | Whoosh (median) |",
              "|---|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|"]
    for label, query, _ in QUERIES:
        st, (latency, total, ids) = static[label], whoosh[label]
        found = "".join(ch for ch in st["status"] if ch.isdigit()) or "0"
        pf = pagefind.get(label)
        pair = lambda sent: f"{sent[0]}, {kib(sent[1])}"
        row = [label, f"`{query}`", f"{int(found):,} / {total:,} / " + (f"{pf['count']:,}" if pf else "—"),
               pair(st["query"]), pair(st["shown"]),
               f"{st['first'] * 1000:.0f} / {st['done'] * 1000:.0f} ms", "yes" if st["ids"] == ids else "**no**",
               pair(pf["query"]) if pf else "—", pair(pf["shown"]) if pf else "—",
               f"{pf['first']:.0f} / {pf['done']:.0f} ms" if pf else "—", f"{latency * 1000:.0f} ms"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--reuse", action="store_true", help="keep builds and bundles already in --workdir")
    parser.add_argument("--no-pagefind", action="store_true")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    for n in (int(s) for s in args.sizes.split(",")):
        figures = prepare(n, args.seed, args.workdir, args.reuse, not args.no_pagefind)
        whoosh = whoosh_latency(args.workdir / f"site-{n}")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            static = static_queries(browser, args.workdir / f"site-{n}")
            pagefind = {} if args.no_pagefind else pagefind_queries(browser, args.workdir / f"pagefind-{n}")
            browser.close()
        print(table(n, figures, whoosh, static, pagefind), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
