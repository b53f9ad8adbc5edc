"""Static search for the published site: a Pagefind index fed with our own tokens, and the
traditional -> simplified character map the browser applies to queries.

Pagefind's own Chinese handling loses results (pages and queries split by different
segmenters), so it never sees Chinese text: each report becomes a generated page whose
body is the tokenizer stream (bigrams, numbers, Latin words, "_" for gaps), indexed as
language "und". static/search.js streams the query the same way and searches it as an
exact phrase, so the static search finds what the Whoosh index finds.

The generated pages live in a work folder outside the output (kept between builds when
the caller gives one, so unchanged reports are not read again); the Pagefind binary from
the `pagefind[bin]` wheel indexes them through its CLI (the Python API's per-page calls
are throttled) into <out_dir>/pagefind/<shard>/ (see "shards" below).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path

from . import tokenizer
from .pagefind_canonical import canonicalize
from .search_index import ReportOf, fingerprint, full_report, searchable_text
from .model import Entry, Site

BUNDLE_DIR = "pagefind"  # <out_dir>/pagefind/<shard>/: the Pagefind bundles
SHARDS_PATH = "pagefind/shards.json"  # their list
CHAR_MAP_PATH = "search/t2s.js"  # <out_dir>/search/t2s.js: the character map
FILLER = "_"  # the word written at a gap; never produced by a query
SUMMARY_CHARS = 120
_FP_PREFIX = '<meta name="sb-fingerprint" content="'
PAGE_FORMAT = "2"  # bump when token_page changes: every page is written again
BACKGROUND_NICENESS = 15  # for Pagefind run by the preview server's background refresh


def pagefind_executable() -> Path:
    import pagefind_bin

    return Path(pagefind_bin.get_executable())


def write_static_search(site: Site, config, out_dir: Path, report_of: ReportOf | None = None,
                        work_dir: Path | None = None) -> None:
    """Write <out_dir>/pagefind/ and <out_dir>/search/t2s.js for `site`.

    `work_dir` keeps the generated pages and the last bundles between builds (pass a
    folder under the build's state dir); without it a temporary folder is used."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="site-builder-pagefind-") as tmp:
        pages = static_search_pages(site, Path(work_dir or tmp), report_of)
        if (out_dir / BUNDLE_DIR).exists():
            shutil.rmtree(out_dir / BUNDLE_DIR)
        for page in pages:
            target = out_dir / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.produce())


# --- shards ------------------------------------------------------------------------------
#
# Pagefind holds a whole index in memory while it builds (about 0.75 MB per report page
# here) and has no incremental mode. So the reports are split into shards by a hash of
# their id, each its own Pagefind bundle in <out_dir>/pagefind/<shard>/, listed in
# pagefind/shards.json; search.js merges them (Pagefind's mergeIndex). A change re-runs
# Pagefind for its shard only. The shard count is a power of two chosen from the number
# of reports alone, so the same archive always gives the same shards.

SHARD_SIZE = 1000  # reports per shard, at most about (a shard count doubles past it)


def shard_count(reports: int) -> int:
    count = 1
    while count * SHARD_SIZE < reports:
        count *= 2
    return count


def shards(site: Site) -> dict[str, tuple[Entry, ...]]:
    """Shard name -> its entries (in site order), for every shard that has any."""
    count = shard_count(len(site.entries))
    width = len(f"{count - 1:x}")
    groups: dict[str, list[Entry]] = {f"{i:0{width}x}": [] for i in range(count)}
    for entry in site.entries:
        number = int(hashlib.sha256(entry.id.encode("utf-8")).hexdigest()[:8], 16) % count
        groups[f"{number:0{width}x}"].append(entry)
    return {name: tuple(entries) for name, entries in groups.items() if entries}


@dataclass(frozen=True, slots=True)
class Bundle:
    shard: str
    path: Path  # the Pagefind output folder
    digest: str  # of the generated pages it was built from


def build_bundle(site: Site, work: Path, report_of: ReportOf | None = None,
                 background: bool = False) -> tuple[Bundle, ...]:
    """Bring <work>/pages/<shard> and <work>/bundles/<shard> up to date for every shard;
    Pagefind runs only for shards whose pages changed (several at once; at low priority
    when `background`, so that a build running meanwhile keeps the cores). Holds the work
    folder's lock meanwhile."""
    work = Path(work)
    with _work_lock(work, wait=True):
        groups = shards(site)
        _keep_only(work / "pages", set(groups))
        _keep_only(work / "bundles", set(groups) | {f"{name}.digest" for name in groups})
        for old in ("bundle", "bundle.digest"):  # the layout before shards
            shutil.rmtree(work / old) if (work / old).is_dir() else (work / old).unlink(missing_ok=True)
        bundles = tuple(Bundle(name, work / "bundles" / name, pages_digest(entries))
                        for name, entries in groups.items())
        stale = [b for b in bundles if not _ready(b)]
        for bundle in stale:  # a ready bundle was built from exactly its pages: leave them
            sync_pages(groups[bundle.shard], work / "pages" / bundle.shard, report_of)
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(lambda b: _run_shard(b, work / "pages" / b.shard, background), stale))
        return bundles


def _run_shard(bundle: Bundle, pages: Path, background: bool) -> None:
    if bundle.path.exists():
        shutil.rmtree(bundle.path)
    _stamp(bundle).unlink(missing_ok=True)
    run_pagefind(pages, bundle.path, background)
    canonicalize(bundle.path)  # Pagefind's filter files come out in random order
    _stamp(bundle).write_text(bundle.digest, encoding="utf-8")


def _ready(bundle: Bundle) -> bool:
    """The bundle was built from the pages its digest describes."""
    return bundle.path.is_dir() and _stamp_is(_stamp(bundle), bundle.digest)


def _stamp(bundle: Bundle) -> Path:
    return bundle.path.with_name(bundle.shard + ".digest")


def _keep_only(folder: Path, names: set[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p for p in folder.iterdir() if p.name not in names):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def static_search_pages(site: Site, work_dir: Path, report_of: ReportOf | None = None) -> list:
    """The static search files as write.Page objects, for write_site: the Pagefind bundles
    (built in `work_dir`, a folder of the build's state dir), their list and the
    character map. A file's fingerprint is its bundle's digest, so an unchanged bundle is
    not read again."""
    return _bundle_pages(build_bundle(site, Path(work_dir), report_of))


@contextmanager
def ready_static_search_pages(site: Site, work_dir: Path) -> Iterator[list | None]:
    """The static search files if the bundles in `work_dir` were built for exactly this
    site and nobody is rebuilding them, else None; they stay locked until the `with`
    ends (write the site inside it). Never runs Pagefind: the preview server publishes an
    edit at once and refreshes the bundles in the background."""
    work = Path(work_dir)
    with _work_lock(work, wait=False) as held:
        if not held:
            yield None
            return
        bundles = tuple(Bundle(name, work / "bundles" / name, pages_digest(entries))
                        for name, entries in shards(site).items())
        ready = all(map(_ready, bundles))
        yield _bundle_pages(bundles) if ready else None


def _bundle_pages(bundles: tuple[Bundle, ...]) -> list:
    from .write import Page

    pages = []
    for bundle in bundles:
        for path in sorted(p for p in bundle.path.rglob("*") if p.is_file()):
            rel = f"{BUNDLE_DIR}/{bundle.shard}/{path.relative_to(bundle.path).as_posix()}"
            pages.append(Page(rel, f"{bundle.digest}:{rel}", path.read_bytes))
    for rel, data in ((SHARDS_PATH, shards_json(bundles)), (CHAR_MAP_PATH, char_map_js().encode("utf-8"))):
        pages.append(Page(rel, hashlib.sha256(data).hexdigest(), lambda data=data: data))
    return pages


def shards_json(bundles: tuple[Bundle, ...]) -> bytes:
    """pagefind/shards.json: the shard folders search.js loads, the first one primary."""
    return json.dumps({"shards": [b.shard for b in bundles]}, sort_keys=True).encode("utf-8")


def _stamp_is(stamp: Path, digest: str) -> bool:
    try:
        return stamp.read_text(encoding="utf-8") == digest
    except OSError:
        return False


@contextmanager
def _work_lock(work: Path, wait: bool) -> Iterator[bool]:
    """An flock on the work folder: one bundle build at a time, across processes too."""
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_pagefind(site_dir: Path, output_path: Path, background: bool = False) -> None:
    """Index the generated pages with the Pagefind CLI (under `nice` when `background`:
    its threads then yield the cores to a build)."""
    command = [str(pagefind_executable()), "--site", str(site_dir), "--output-path", str(output_path),
               "--force-language", "und", "--silent"]
    nice = shutil.which("nice") if background else None
    if nice:
        command = [nice, "-n", str(BACKGROUND_NICENESS)] + command
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0 or not (output_path / "pagefind.js").exists():
        raise RuntimeError(f"pagefind failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


def sync_pages(entries: tuple[Entry, ...], pages: Path, report_of: ReportOf | None) -> None:
    """Make `pages` hold exactly one generated page per entry; rewrite only pages whose
    entry changed."""
    reports_dir = pages / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    _keep_only(reports_dir, {e.id for e in entries})
    for entry in entries:
        fp = _page_fingerprint(entry)
        path = reports_dir / entry.id / "index.html"
        if _stored_fingerprint(path) == fp:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token_page(entry, full_report(entry, report_of), fp), encoding="utf-8")


def pages_digest(entries: tuple[Entry, ...]) -> str:
    """A digest of the generated pages of `entries` (what a bundle is built from)."""
    whole = hashlib.sha256(f"pagefind-pages {tokenizer.TOKENIZER_VERSION}".encode())
    for entry in entries:
        whole.update(f"{entry.id} {_page_fingerprint(entry)}\n".encode())
    return whole.hexdigest()


def _page_fingerprint(entry: Entry) -> str:
    return f"{PAGE_FORMAT}-{fingerprint(entry)}"


def _stored_fingerprint(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as f:
            for _ in range(3):
                line = f.readline()
                if line.startswith(_FP_PREFIX):
                    return line[len(_FP_PREFIX):].split('"', 1)[0]
    except OSError:
        return None
    return None


def stream_words(text: str) -> str:
    """The stream of a text as Pagefind words: tokens, and "_" + the gap's punctuation
    (shown when search.js stitches an excerpt back together)."""
    words, gaps = tokenizer.stream_with_gaps(tokenizer.normalize(text), text)
    for index, gap in gaps:
        words[index] = FILLER + "".join(gap.split())[:8]
    return " ".join(words)


def token_page(entry: Entry, report, fp: str) -> str:
    """The page Pagefind indexes for one report."""
    r = report
    title_words = stream_words(r.title)
    body_words = stream_words(searchable_text(r)[len(r.title):])
    if not body_words.startswith(FILLER):
        body_words = FILLER + " " + body_words  # the gap between title and body
    meta = {
        "id": entry.id,
        "title": r.title,
        "place": r.place or "",
        "year": str(r.year) if r.year is not None else "",
        "level": r.level or "",
        "summary": tokenizer.summary(r.preamble or r.text, SUMMARY_CHARS),
    }
    filters = [(k, meta[k]) for k in ("year", "place", "level") if meta[k]]
    lines = [
        "<!DOCTYPE html>",
        '<html lang="und"><head><meta charset="utf-8">',
        f'{_FP_PREFIX}{fp}">',
        f"<title>{escape(entry.id)}</title></head><body>",
        f"<main data-pagefind-body><h1>{escape(title_words)}</h1>",
        f"<p>{escape(body_words)}</p></main>",
        # Outside the indexed body: shown and filtered on, never matched.
        *(f'<span data-pagefind-meta="{k}">{escape(v)}</span>' for k, v in meta.items() if v),
        *(f'<span data-pagefind-filter="{k}">{escape(v)}</span>' for k, v in filters),
        "</body></html>",
        "",
    ]
    return "\n".join(lines)


def char_map_js() -> str:
    """The traditional -> simplified map as two strings of equal length (in code points)."""
    pairs = sorted(tokenizer.char_map().items())
    source = "".join(k for k, _ in pairs)
    target = "".join(v for _, v in pairs)
    return ("/* Traditional -> simplified characters, from OpenCC's TSCharacters table "
            "(first candidate). Generated by site-builder. */\n"
            f"window.siteT2S={{from:{json.dumps(source, ensure_ascii=False)},"
            f"to:{json.dumps(target, ensure_ascii=False)},"
            f"han:{json.dumps(tokenizer.HAN_JS)},maxChars:{tokenizer.MAX_QUERY_CHARS},"
            f"maxTerms:{tokenizer.MAX_QUERY_TERMS}}};\n")
