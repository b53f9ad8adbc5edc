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
are throttled) into <out_dir>/pagefind/.
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
from contextlib import contextmanager
from html import escape
from pathlib import Path

from . import tokenizer
from .pagefind_canonical import canonicalize
from .search_index import ReportOf, fingerprint, full_report, searchable_text
from .model import Entry, Site

BUNDLE_DIR = "pagefind"  # <out_dir>/pagefind/: the Pagefind bundle
CHAR_MAP_PATH = "search/t2s.js"  # <out_dir>/search/t2s.js: the character map
FILLER = "_"  # the word written at a gap; never produced by a query
SUMMARY_CHARS = 120
_FP_PREFIX = '<meta name="sb-fingerprint" content="'
PAGE_FORMAT = "2"  # bump when token_page changes: every page is written again


def pagefind_executable() -> Path:
    import pagefind_bin

    return Path(pagefind_bin.get_executable())


def write_static_search(site: Site, config, out_dir: Path, report_of: ReportOf | None = None,
                        work_dir: Path | None = None) -> None:
    """Write <out_dir>/pagefind/ and <out_dir>/search/t2s.js for `site`.

    `work_dir` keeps the generated pages and the last bundle between builds (pass a
    folder under the build's state dir); without it a temporary folder is used."""
    out_dir = Path(out_dir)
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="site-builder-pagefind-") as tmp:
            _write(site, out_dir, Path(tmp), report_of)
    else:
        _write(site, out_dir, Path(work_dir), report_of)
    target = out_dir / CHAR_MAP_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(char_map_js(), encoding="utf-8")


def _write(site: Site, out_dir: Path, work: Path, report_of: ReportOf | None) -> None:
    bundle, _ = build_bundle(site, work, report_of)
    target = out_dir / BUNDLE_DIR
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(bundle, target)


def build_bundle(site: Site, work: Path, report_of: ReportOf | None = None) -> tuple[Path, str]:
    """Bring <work>/pages and <work>/bundle up to date; return the bundle and its digest.
    Pagefind runs only when a page changed. Holds the work folder's lock meanwhile."""
    work = Path(work)
    with _work_lock(work, wait=True):
        pages = work / "pages"
        digest = sync_pages(site, pages, report_of)
        bundle = work / "bundle"
        stamp = work / "bundle.digest"
        if not _stamp_is(stamp, digest) or not bundle.is_dir():
            if bundle.exists():
                shutil.rmtree(bundle)
            stamp.unlink(missing_ok=True)
            run_pagefind(pages, bundle)
            canonicalize(bundle)  # Pagefind's filter files come out in random order
            stamp.write_text(digest, encoding="utf-8")
        return bundle, digest


def static_search_pages(site: Site, work_dir: Path, report_of: ReportOf | None = None):
    """The static search files as write.Page objects, for write_site: the Pagefind bundle
    (built in `work_dir`, a folder of the build's state dir) and the character map. A
    file's fingerprint is the bundle digest, so an unchanged bundle is not read again."""
    bundle, digest = build_bundle(site, Path(work_dir), report_of)
    return _bundle_pages(bundle, digest)


@contextmanager
def ready_static_search_pages(site: Site, work_dir: Path) -> Iterator[list | None]:
    """The static search files if the bundle in `work_dir` was built for exactly this
    site and nobody is rebuilding it, else None; the bundle is locked until the `with`
    ends (write the site inside it). Never runs Pagefind: the preview server publishes an
    edit at once and refreshes the bundle in the background."""
    work = Path(work_dir)
    with _work_lock(work, wait=False) as held:
        digest = pages_digest(site)
        if not held or not _stamp_is(work / "bundle.digest", digest):
            yield None
        else:
            yield _bundle_pages(work / "bundle", digest)


def _bundle_pages(bundle: Path, digest: str) -> list:
    from .write import Page

    pages = [Page(f"{BUNDLE_DIR}/{path.relative_to(bundle).as_posix()}",
                  f"{digest}:{BUNDLE_DIR}/{path.relative_to(bundle).as_posix()}", path.read_bytes)
             for path in sorted(p for p in bundle.rglob("*") if p.is_file())]
    data = char_map_js().encode("utf-8")
    pages.append(Page(CHAR_MAP_PATH, hashlib.sha256(data).hexdigest(), lambda: data))
    return pages


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


def run_pagefind(site_dir: Path, output_path: Path) -> None:
    """Index the generated pages with the Pagefind CLI."""
    command = [str(pagefind_executable()), "--site", str(site_dir), "--output-path", str(output_path),
               "--force-language", "und", "--silent"]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0 or not (output_path / "pagefind.js").exists():
        raise RuntimeError(f"pagefind failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


def sync_pages(site: Site, pages: Path, report_of: ReportOf | None) -> str:
    """Make `pages` hold exactly one generated page per entry; rewrite only pages whose
    entry changed. Returns a digest of the whole set."""
    reports_dir = pages / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    wanted = {e.id for e in site.entries}
    for stale in sorted(p for p in reports_dir.iterdir() if p.name not in wanted):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for entry in site.entries:
        fp = _page_fingerprint(entry)
        path = reports_dir / entry.id / "index.html"
        if _stored_fingerprint(path) == fp:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(token_page(entry, full_report(entry, report_of), fp), encoding="utf-8")
    return pages_digest(site)


def pages_digest(site: Site) -> str:
    """A digest of the set of generated pages `site` gives (what the bundle is built from)."""
    whole = hashlib.sha256(f"pagefind-pages {tokenizer.TOKENIZER_VERSION}".encode())
    for entry in site.entries:
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
    words = []
    for token, gap in tokenizer.stream_with_gaps(tokenizer.normalize(text), text):
        if token is None:
            shown = "".join(gap.split())[:8]
            words.append(FILLER + shown)
        else:
            words.append(token)
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
