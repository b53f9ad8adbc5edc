"""Search figures on generated archives: segmenter throughput, Whoosh index build time and
size, query latency, static index build time and size, bytes a browser fetches per query.

    python bench/search.py [--sizes 1000,10000] [--seed 1] [--workdir DIR] [--no-browser]

For each size N: generate N reports (bench/generate.py), parse them (site_builder's parse
cache), assemble the site, then measure. Prints one markdown section.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import sys
import tempfile
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
    ("with a filter", "营商环境", {"year": "2023"}),
    ("no match", "不存在的词语组合", {}),
]


def mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB"


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def prepare(n: int, seed: int, work: Path):
    from site_builder.content import stage as parse_cache
    from site_builder.site.assemble import assemble_site
    from site_builder.content.read import find_report_paths

    content = work / f"content-{n}"
    if not content.exists():
        generate.generate(content, n, seed)
    cache = work / f"parse-{n}"
    rels, _, _ = find_report_paths(content)
    summaries, _ = parse_cache.parse_files(content, rels, cache)
    site, _ = assemble_site(summaries)
    return site, functools.partial(parse_cache.load_report, cache)


def segmenter_throughput(texts: list[str]) -> dict:
    import jieba
    import rjieba

    from site_builder.text import normalize as normalize_

    from site_builder.text import stream as stream_

    jieba.setLogLevel(60)
    jieba.initialize()
    rj = rjieba.Jieba()
    rj.cut("预热")
    chars = sum(len(t) for t in texts)
    out = {}
    for name, cut in (("jieba", lambda t: jieba.lcut(t, HMM=False)), ("rjieba", lambda t: rj.cut(t, False))):
        start = time.perf_counter()
        for t in texts:
            cut(t)
        out[name] = chars / (time.perf_counter() - start)
    sample = texts[: min(len(texts), 200)]
    out["same_tokens"] = sum(jieba.lcut(t, HMM=False) == rj.cut(t, False) for t in sample) / len(sample)
    start = time.perf_counter()
    for t in texts:
        stream_.stream(normalize_.normalize(t))
    out["stream"] = chars / (time.perf_counter() - start)
    out["chars"] = chars
    return out


def whoosh_figures(site, report_of, work: Path, n: int) -> dict:
    from dataclasses import replace

    from site_builder.search import whoosh_index as si
    from site_builder.search.whoosh_update import update_index

    index_dir = work / f"whoosh-{n}"
    if index_dir.exists():
        import shutil

        shutil.rmtree(index_dir)
    start = time.perf_counter()
    stats = update_index(site, index_dir, report_of)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    update_index(site, index_dir, report_of)
    noop = time.perf_counter() - start
    # One report edited: its summary gets a new key (as a changed file would).
    first = site.entries[0]
    edited = replace(site, entries=(replace(first, report=replace(first.report, key=first.report.key + "x")),)
                     + site.entries[1:])
    start = time.perf_counter()
    update_index(edited, index_dir, lambda key: report_of(key[:-1]) if key.endswith("x") else report_of(key))
    one = time.perf_counter() - start
    ix = si.open_searcher(index_dir)  # reused across queries, as the WSGI app does
    latencies = {}
    for label, query, filters in QUERIES:
        si.search(ix, query, filters=filters, limit=10, facets=True)  # warm
        runs = []
        for _ in range(7):
            t = time.perf_counter()
            res = si.search(ix, query, filters=filters, limit=10, facets=True)
            runs.append(time.perf_counter() - t)
        latencies[label] = (query, statistics.median(runs), res.total)
    return {"cold": cold, "noop": noop, "one": one, "bytes": stats.bytes, "docs": stats.documents,
            "latency": latencies}


class _Counting(http.server.SimpleHTTPRequestHandler):
    sent: dict = {}

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data)
        _Counting.sent[self.path] = _Counting.sent.get(self.path, 0) + len(data)


def static_figures(site, report_of, work: Path, n: int, browser: bool) -> dict:
    import shutil

    from site_builder.search import static_shards as static_search
    from site_builder.config import SiteConfig
    from site_builder.render.pages import make_environment
    from site_builder.render.theme import STATIC_DIR

    out = work / f"static-{n}"
    index_work = work / f"static-work-{n}"
    for path in (out, index_work):
        if path.exists():
            shutil.rmtree(path)
    start = time.perf_counter()
    static_search.write_static_search(site, out, report_of, index_work)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    static_search.write_static_search(site, work / f"static-{n}-again", report_of, index_work)
    noop = time.perf_counter() - start
    size, files = folder_size(out / static_search.BUNDLE_DIR)
    result = {"cold": cold, "noop": noop, "bytes": size, "files": files}
    if not browser:
        return result
    env = make_environment()
    (out / "search").mkdir(exist_ok=True)
    (out / "search" / "index.html").write_text(
        env.get_template("search.html").render(config=SiteConfig(), root="../", page_url="search/"), encoding="utf-8")
    shutil.copytree(STATIC_DIR, out / "static", dirs_exist_ok=True)
    for entry in site.entries:  # the data the results show (published by a build as reports/<id>/report.json)
        (out / "reports" / entry.id).mkdir(parents=True, exist_ok=True)
        (out / "reports" / entry.id / "report.json").write_text(json.dumps(
            {"id": entry.id, **report_of(entry.report.key).to_json()}, ensure_ascii=False), encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Counting, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    from playwright.sync_api import sync_playwright

    fetched = {}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for label, query, filters in QUERIES:
            context = b.new_context()  # a fresh cache for every query
            page = context.new_page()
            _Counting.sent = {}
            page.goto(base + "search/")
            page.wait_for_function("document.querySelectorAll('#search-level option').length > 1")
            page.wait_for_timeout(200)
            startup = sum(v for k, v in _Counting.sent.items() if k.startswith("/search/index/"))
            _Counting.sent = {}
            for name, value in filters.items():
                page.select_option(f"#search-{name}", value)
            page.fill("#search-q", query)
            t = time.perf_counter()
            page.press("#search-q", "Enter")
            page.wait_for_selector("body[data-search-done]")
            elapsed = time.perf_counter() - t
            sent = sum(v for k, v in _Counting.sent.items() if k.startswith("/search/index/"))
            shown = sum(v for k, v in _Counting.sent.items() if k.startswith("/reports/"))
            fetched[label] = (startup, sent, shown, elapsed)
            context.close()
        b.close()
    server.shutdown()
    result["fetched"] = fetched
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in (int(s) for s in args.sizes.split(",")):
        site, report_of = prepare(n, args.seed, work)
        texts = [report_of(e.report.key).text for e in site.entries]
        seg = segmenter_throughput(texts)
        wh = whoosh_figures(site, report_of, work, n)
        st = static_figures(site, report_of, work, n, not args.no_browser)
        lines += [
            f"### {len(site.entries)} reports ({seg['chars'] / 1e6:.1f} M characters of cleaned text)",
            "",
            f"- Segmenter, words without HMM: jieba {seg['jieba'] / 1e6:.2f} M chars/s, rjieba "
            f"{seg['rjieba'] / 1e6:.2f} M chars/s ({seg['rjieba'] / seg['jieba']:.0f}×), same tokens on "
            f"{seg['same_tokens']:.0%} of sampled reports; token stream (normalise + bigrams) "
            f"{seg['stream'] / 1e6:.2f} M chars/s.",
            f"- Whoosh: cold build {wh['cold']:.1f} s, no-op update {wh['noop']:.2f} s, one report changed "
            f"{wh['one']:.2f} s; index {mib(wh['bytes'])} for {wh['docs']} documents.",
            f"- Static index: cold build {st['cold']:.1f} s, unchanged rebuild {st['noop']:.2f} s; "
            f"{mib(st['bytes'])} in {st['files']} files.",
            "",
            "| query | | matches | Whoosh latency (median, 10 hits + facets) |"
            + (" static: index KiB fetched | static: report.json KiB (10 shown) | static: time to results |"
               if "fetched" in st else ""),
            "|---|---|---:|---:|" + ("---:|---:|---:|" if "fetched" in st else ""),
        ]
        for label, query, _ in QUERIES:
            q, lat, total = wh["latency"][label]
            row = f"| {label} | `{q}` | {total} | {lat * 1000:.1f} ms |"
            if "fetched" in st:
                startup, sent, shown, elapsed = st["fetched"][label]
                row += f" {sent / 1024:.0f} | {shown / 1024:.0f} | {elapsed * 1000:.0f} ms |"
            lines.append(row)
        if "fetched" in st:
            startup = st["fetched"][QUERIES[0][0]][0]
            lines += ["", f"Static search page start-up (meta.json: shards and filter values): "
                          f"{startup / 1024:.0f} KiB, once per visit."]
        lines.append("")
        print("\n".join(lines), flush=True)  # each size as soon as it is measured
        lines = []
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
