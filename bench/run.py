"""Time site_builder builds on generated archives, against reference tools, in one run.

    python bench/run.py [--sizes 1000,10000] [--seed 1] [--workdir DIR] [--skip-hugo]
                        [--cold-only] [--reuse] [--edits 5] [--colds 3]

For each size N: generate N reports (bench/generate.py), then in child processes time
cold builds (--colds of them, each into a fresh output folder; the median is shown), a
no-op rebuild and rebuilds after one report changed (--edits of them, one more report each
time; the median is shown), with each child's peak RSS (os.wait4). References measured in
the same run on the same texts, and the cold build's ratio to each:
- floor: what any build of this site must do at least, in one process: segment every text
  with the segmenter the build uses (text/words.py: jieba-rs through rjieba, with the
  domain terms; its loading excluded) and write the bytes of the cold build's output, file
  by file, into a fresh folder; --colds passes, the median shown;
- Hugo (/usr/bin/hugo) rendering one minimal markdown page per report, then Pagefind
  (python -m pagefind) indexing those pages;
- with --baseline DIR, the same builds by another checkout of site_builder (DIR, with its
  own .venv), e.g. the code before a change.
Prints one markdown table.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import generate  # noqa: E402  (bench/generate.py)
from site_builder.state import state_dir  # noqa: E402

TRASH = ".trash"  # in the work dir: earlier runs' files, deleted when the run ends (see set_aside)

# A build as maintainers run it: the command line, its outcome as JSON on stdout.
BUILD_COMMAND = [sys.executable, "-m", "site_builder.cli", "build", "--json"]

FLOOR_CHILD = """
import html, json, os, re, sys, tempfile, time
from pathlib import Path
from site_builder.content.decode import decode_bytes
from site_builder.text.words import _segmenter
content, output, passes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
texts = []
for path in sorted(content.rglob("*")):
    if path.is_file() and path.suffix in (".txt", ".html", ".htm", ".md"):
        text = decode_bytes(path.read_bytes())[0]
        if path.suffix in (".html", ".htm"):
            text = html.unescape(re.sub(r"<script.*?</script>|<[^>]+>", " ", text, flags=re.S))
        texts.append(text)
files = [(p.relative_to(output).as_posix(), p.read_bytes()) for p in sorted(output.rglob("*")) if p.is_file()]
segmenter = _segmenter()
segmenter.cut("法治政府建设")  # loaded
for _ in range(passes):
    start = time.perf_counter()
    tokens = sum(len(segmenter.cut(text)) for text in texts)
    segmented = time.perf_counter() - start
    with tempfile.TemporaryDirectory(dir=output.parent) as target:
        start = time.perf_counter()
        made = set()
        for rel, data in files:
            folder = os.path.dirname(rel)
            if folder not in made:
                os.makedirs(os.path.join(target, folder), exist_ok=True)
                made.add(folder)
            with open(os.path.join(target, rel), "wb") as handle:
                handle.write(data)
        written = time.perf_counter() - start
    print(json.dumps({"seconds": segmented + written, "segment": segmented, "write": written, "tokens": tokens,
                      "chars": sum(map(len, texts)), "bytes": sum(len(d) for _, d in files), "files": len(files)}))
"""

HUGO_CONFIG = """baseURL = "http://localhost/"
languageCode = "zh-cn"
defaultContentLanguage = "zh"
title = "bench"
hasCJKLanguage = true
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
"""
HUGO_SINGLE = """<!DOCTYPE html>
<html lang="zh-cn"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main data-pagefind-body><h1>{{ .Title }}</h1>{{ .Content }}</main></body></html>
"""
HUGO_LIST = """<!DOCTYPE html>
<html lang="zh-cn"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></body></html>
"""


def run_child(args: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:  # a file: a child's long stderr cannot block it
        proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=errors)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        err = errors.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed ({proc.returncode}):\n{err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, out.decode()


def size_of(path: Path) -> tuple[int, int]:
    """(bytes, files) below path."""
    if path.is_file():
        return path.stat().st_size, 1
    total = files = 0
    for p in path.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
            files += 1
    return total, files


def build_once(content: Path, output: Path, checkout: Path = ROOT) -> dict:
    """One build by the command line of a checkout (this one, or --baseline's)."""
    python = checkout / ".venv" / "bin" / "python" if checkout != ROOT else Path(sys.executable)
    command = [str(python), *BUILD_COMMAND[1:], "--content", str(content), "--output", str(output)]
    seconds, rss, out = run_child(command, cwd=checkout)
    return {**json.loads(out.strip().splitlines()[-1]), "seconds": seconds, "rss": rss}


def change_one(content: Path, truth_rows: list[dict], k: int = 0) -> str:
    """Append a sentence to the k-th UTF-8 .txt report; return its name."""
    row = [r for r in truth_rows if r["format"] == "txt" and r["encoding"] == "utf-8"][k]
    path = content / row["file"]
    path.write_bytes(path.read_bytes() + "\n补充说明：本报告发布后作了文字修订。\n".encode("utf-8"))
    return row["file"]


def hugo_site(content: Path, truth_rows: list[dict], site: Path) -> None:
    """A minimal Hugo site: one markdown page per report, plain text body."""
    from site_builder.content.decode import decode_bytes

    (site / "layouts" / "_default").mkdir(parents=True)
    (site / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    (site / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE, encoding="utf-8")
    (site / "layouts" / "_default" / "list.html").write_text(HUGO_LIST, encoding="utf-8")
    (site / "layouts" / "index.html").write_text(HUGO_LIST, encoding="utf-8")
    pages = site / "content" / "reports"
    pages.mkdir(parents=True)
    import html

    for k, row in enumerate(truth_rows):
        text = decode_bytes((content / row["file"]).read_bytes())[0]
        if row["format"] == "html":
            text = html.unescape(re.sub(r"<script.*?</script>|<[^>]+>", " ", text, flags=re.S))
        text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.S)
        body = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
        front = f"+++\ntitle = {json.dumps(row['title'], ensure_ascii=False)}\n+++\n\n"
        (pages / f"r{k:06d}.md").write_text(front + body + "\n", encoding="utf-8")


def set_aside(path: Path, work: Path) -> None:
    """Move an earlier run's files out of the way, to be deleted after the whole run
    (TRASH). Deleting them now would slow the builds measured next on a filesystem such
    as this machine's (ext4 without a journal): for the next one to five minutes, it
    passes over the inodes just freed each time it makes a file. A cold build at N=1000
    right after deleting the previous run's files took 12.2-14.1 s instead of 9.5 s."""
    if path.exists():
        trash = work / TRASH
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / f"{len(list(trash.iterdir()))}-{path.name}")


def median(items: list, key=None):
    """The middle item by `key` (the lower middle one of an even count: a value measured)."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def measure(n: int, seed: int, work: Path, skip_hugo: bool, cold_only: bool = False,
            reuse: bool = False, edits: int = 1, colds: int = 1, baseline: Path | None = None) -> dict[str, str]:
    col: dict[str, str] = {}
    base = work / str(n)
    content, output, truth = base / "content", base / "output", base / "truth.jsonl"
    extra = [base / f"output-cold-{k}" for k in range(1, colds)]  # the other cold builds' outputs
    if reuse and truth.exists():  # the same seed gives the same archive: keep it, drop the builds
        for made in (output, base / ".site-cache", base / "hugo", *extra):
            set_aside(made, work)
        col["generate archive (s)"] = "reused"
    else:
        set_aside(base, work)
        start = time.perf_counter()
        generate.generate(content, n, seed, truth)
        col["generate archive (s)"] = f"{time.perf_counter() - start:.1f}"
    rows = [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]
    col["input size (MB)"] = f"{size_of(content)[0] / 2**20:.1f}"

    # Each cold build into its own fresh folder (the last one's is rebuilt below); the
    # median one is shown: on this shared machine one build can run a fifth slower.
    runs = [build_once(content, o) for o in (*extra, output)]
    cold = median(runs, key=lambda b: b["seconds"])
    col["**cold build (s)**"] = f"**{cold['seconds']:.1f}**"
    if colds > 1:
        col["cold: median of (s)"] = " ".join(f"{b['seconds']:.1f}" for b in runs)
    for stage, seconds in cold["timings"].items():
        col[f"  cold: {stage} (s)"] = f"{seconds:.1f}"
    col["cold: peak RSS (MB)"] = f"{cold['rss']:.0f}"
    col["reports published / problems"] = f"{cold['reports']} / {cold['errors'] + cold['warnings']}"
    if cold_only:
        size, files = size_of(output)
        col["output size (MB) / files"] = f"{size / 2**20:.1f} / {files}"
        return col
    noop = build_once(content, output)
    col["**no-op rebuild (s)**"] = f"**{noop['seconds']:.2f}**"
    col["no-op: files rewritten"] = str(noop["written"])
    col["no-op: peak RSS (MB)"] = f"{noop['rss']:.0f}"
    # `edits` rebuilds, each after one more report changed; the median one is shown (a
    # single build can meet a passing slow moment of the machine, such as the writeback
    # of the cold build's output)
    ones = []
    for k in range(edits):
        change_one(content, rows, k)
        ones.append(build_once(content, output))
    one = median(ones, key=lambda b: b["seconds"])
    col["**one report changed (s)**"] = f"**{one['seconds']:.2f}**"
    if edits > 1:
        col["one changed: median of (s)"] = " ".join(f"{b['seconds']:.2f}" for b in ones)
    col["one changed: files rewritten"] = str(one["written"])
    col["one changed: peak RSS (MB)"] = f"{one['rss']:.0f}"
    for stage, seconds in one["timings"].items():
        col[f"  one changed: {stage} (s)"] = f"{seconds:.2f}"
    size, files = size_of(output)
    col["output size (MB) / files"] = f"{size / 2**20:.1f} / {files}"
    state = state_dir(output)
    if state.is_dir():
        for entry in sorted(state.iterdir()):
            col[f"state: {entry.name} (MB)"] = f"{size_of(entry)[0] / 2**20:.1f}"
    for entry in sorted(output.iterdir()):
        if re.search(r"search|index|pagefind", entry.name) and entry.is_dir():
            col[f"output: {entry.name}/ (MB)"] = f"{size_of(entry)[0] / 2**20:.1f}"

    _, _, out = run_child([sys.executable, "-c", FLOOR_CHILD, str(content), str(output), str(colds)], cwd=ROOT)
    passes = [json.loads(line) for line in out.strip().splitlines()]
    floor = median(passes, key=lambda p: p["seconds"])
    col["**floor: segment + write (s)**"] = f"**{floor['seconds']:.1f}**"
    if colds > 1:
        col["floor: median of (s)"] = " ".join(f"{p['seconds']:.1f}" for p in passes)
    col["  floor: segment, write (s)"] = f"{floor['segment']:.1f}, {floor['write']:.1f}"
    col["floor: characters segmented (M)"] = f"{passes[0]['chars'] / 1e6:.1f}"
    col["**cold build ÷ floor**"] = f"**{cold['seconds'] / floor['seconds']:.2f}×**"
    if baseline is not None:
        col.update(_baseline(baseline, content, base, colds, edits, rows, cold["seconds"]))

    if not skip_hugo:
        site = base / "hugo"
        hugo_site(content, rows, site)
        hugo, rss, _ = run_child(["/usr/bin/hugo", "--quiet", "-s", str(site), "-d", str(site / "public")])
        col["**Hugo render (s)**"] = f"**{hugo:.1f}**"
        col["Hugo: peak RSS (MB)"] = f"{rss:.0f}"
        col["Hugo: output (MB) / files"] = "{:.1f} / {}".format(*((lambda s: (s[0] / 2**20, s[1]))(size_of(site / "public"))))
        seconds, rss, _ = run_child([sys.executable, "-m", "pagefind", "--site", str(site / "public")])
        col["**Pagefind index (s)**"] = f"**{seconds:.1f}**"
        col["Pagefind: peak RSS (MB)"] = f"{rss:.0f}"
        col["Pagefind: index (MB) / files"] = "{:.1f} / {}".format(
            *((lambda s: (s[0] / 2**20, s[1]))(size_of(site / "public" / "pagefind"))))
        col["**cold build ÷ (Hugo + Pagefind)**"] = f"**{cold['seconds'] / (hugo + seconds):.1f}×**"
    return col


def _baseline(checkout: Path, content: Path, base: Path, colds: int, edits: int, rows: list[dict],
              cold: float) -> dict[str, str]:
    """The same builds by another checkout, on the same (already edited) archive."""
    col: dict[str, str] = {}
    outputs = [base / f"baseline-{k}" for k in range(colds)]
    runs = [build_once(content, o, checkout) for o in outputs]
    median_run = median(runs, key=lambda b: b["seconds"])
    col["**baseline: cold build (s)**"] = f"**{median_run['seconds']:.1f}**"
    col["baseline: cold: median of (s)"] = " ".join(f"{b['seconds']:.1f}" for b in runs)
    col["baseline: cold: peak RSS (MB)"] = f"{median_run['rss']:.0f}"
    noop = build_once(content, outputs[-1], checkout)
    col["**baseline: no-op rebuild (s)**"] = f"**{noop['seconds']:.2f}**"
    col["baseline: no-op: peak RSS (MB)"] = f"{noop['rss']:.0f}"
    ones = []
    for k in range(edits, 2 * edits):  # other reports than the ones edited before
        change_one(content, rows, k)
        ones.append(build_once(content, outputs[-1], checkout))
    one = median(ones, key=lambda b: b["seconds"])
    col["**baseline: one report changed (s)**"] = f"**{one['seconds']:.2f}**"
    col["baseline: one changed: median of (s)"] = " ".join(f"{b['seconds']:.2f}" for b in ones)
    col["baseline: one changed: peak RSS (MB)"] = f"{one['rss']:.0f}"
    col["**cold build ÷ baseline's**"] = f"**{cold / median_run['seconds']:.2f}×**"
    return col


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated report counts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="keep the archives and outputs here")
    ap.add_argument("--skip-hugo", action="store_true", help="leave out the Hugo/Pagefind reference")
    ap.add_argument("--cold-only", action="store_true",
                    help="only the cold build (for 100,000 reports: time and peak RSS)")
    ap.add_argument("--reuse", action="store_true",
                    help="keep an archive already generated in --workdir (same seed, same bytes)")
    ap.add_argument("--edits", type=int, default=5,
                    help="one-report rebuilds, each after one more edit; the table shows the median (default 5)")
    ap.add_argument("--baseline", type=Path, metavar="DIR",
                    help="also time the builds of another checkout of site_builder (with its own .venv)")
    ap.add_argument("--colds", type=int, default=3,
                    help="cold builds (each into a fresh folder) and floor passes; the table shows the median of each "
                         "(default 3)")
    args = ap.parse_args(argv)
    if not args.skip_hugo and importlib.util.find_spec("pagefind") is None:
        ap.error("the Hugo + Pagefind reference needs Pagefind: pip install -e '.[bench]' (or pass --skip-hugo)")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    # The package's bytecode is made before any build is timed, as installing a package
    # makes it (0.15 s, which a fresh checkout's first build would otherwise pay).
    compileall.compile_dir(str(ROOT / "site_builder"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        columns = {}
        for n in sizes:
            print(f"measuring N={n} ...", file=sys.stderr)
            try:
                columns[n] = measure(n, args.seed, work, args.skip_hugo, args.cold_only, args.reuse,
                                     max(1, args.edits), max(1, args.colds), args.baseline)
            except RuntimeError as exc:  # report what failed, keep the other sizes
                columns[n] = {"failed": str(exc).splitlines()[-1][:200]}
            print(markdown_table(columns), file=sys.stderr)  # partial results as they come
        shutil.rmtree(work / TRASH, ignore_errors=True)  # see set_aside
    print(markdown_table(columns))
    return 0


def markdown_table(columns: dict[int, dict[str, str]]) -> str:
    sizes = list(columns)
    metrics = list(dict.fromkeys(m for col in columns.values() for m in col))
    lines = ["| metric | " + " | ".join(f"N={n}" for n in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    lines += [f"| {m} | " + " | ".join(columns[n].get(m, "–") for n in sizes) + " |" for m in metrics]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
