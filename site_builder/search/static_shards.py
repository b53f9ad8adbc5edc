"""Static search for the published site: the index files of static_index.py, in shards,
and the traditional -> simplified character map the browser applies to queries.

static/search.js streams a query the way tokenizer.py does and matches it against the
postings of the stream, so the static search finds what the Whoosh index finds.

Each shard's files are built in a work folder outside the output (kept between builds
when the caller gives one, so an unchanged shard is not built again) and published from
there (see "shards" below).
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import static_format as static_index
from .query import MAX_QUERY_CHARS, MAX_QUERY_TERMS
from ..text.chars import HAN_JS
from ..text.normalize import char_map
from ..text.stream import TOKENIZER_VERSION
from .documents import ReportOf, fingerprint, full_report
from ..model import Entry, Page, Report, Site

BUNDLE_DIR = "search/index"  # <out_dir>/search/index/<shard>/: each shard's files
META_PATH = "search/index/meta.json"  # the shards, report counts and filter values
CHAR_MAP_PATH = "search/t2s.js"  # <out_dir>/search/t2s.js: the character map
SEARCH_FILES = (BUNDLE_DIR + "/", CHAR_MAP_PATH)  # the prefixes of the index's output paths


def write_static_search(site: Site, out_dir: Path, report_of: ReportOf | None = None,
                        work_dir: Path | None = None) -> None:
    """Write <out_dir>/search/index/ and <out_dir>/search/t2s.js for `site` (for tests and
    benchmarks: a build publishes them with the site). `work_dir` keeps the built shards
    between calls; without it a temporary folder is used."""
    from ..workers import Pool

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="site-builder-search-") as tmp, Pool() as pool:
        with static_search_later(site, Path(work_dir or tmp), pool, report_of=report_of) as pages:
            if (out_dir / BUNDLE_DIR).exists():
                shutil.rmtree(out_dir / BUNDLE_DIR)
            for page in pages:
                target = out_dir / page.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(page.produce())


# --- shards ------------------------------------------------------------------------------
#
# The reports are split into shards by a hash of their id, each with its own folder of
# index files; search.js reads the buckets a query needs from every shard. A change
# rebuilds its shard only (in a few hundred milliseconds: the files are a function of the
# shard's reports). The shard count is a power of two chosen from the number of reports
# alone, so the same archive always gives the same shards.

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
    path: Path  # the shard's built files
    digest: str  # of the entries they were built from
    entries: tuple[Entry, ...]


@contextmanager
def static_search_later(site: Site, work: Path, pool, store_path: Path | None = None,
                        report_of: ReportOf | None = None) -> Iterator[Iterator]:
    """The static search files of `site` as Pages, an iterator to chain after the site's
    pages: the shards whose reports changed are built in the pool's workers (from the
    reports stored at `store_path`, or `report_of`) while the site renders, and the
    iterator waits for them when it is reached. Holds the work folder's lock throughout."""
    work = Path(work)
    if report_of is None and store_path is not None:
        from ..content.stage import report_at

        report_of = partial(report_at, store_path)
    with _work_lock(work, wait=True):
        groups = shards(site)
        _keep_only(work / "bundles", {f"{name}{suffix}" for name in groups for suffix in ("", ".digest", ".streams")})
        bundles = _bundles(work, groups)
        futures = [pool.submit(_build_shard, _job(b, report_of)) for b in bundles if not _ready(b)]

        def pages() -> Iterator:
            for future in futures:
                future.result()
            yield from _bundle_pages(bundles)
        try:
            yield pages()
        finally:
            for future in futures:
                future.cancel()
            for future in futures:
                if not future.cancelled():
                    future.exception()  # waited for: the folder is not left half written


def _bundles(work: Path, groups: dict[str, tuple[Entry, ...]]) -> tuple[Bundle, ...]:
    return tuple(Bundle(name, work / "bundles" / name, entries_digest(entries), entries)
                 for name, entries in groups.items())


class Doc(NamedTuple):
    """What a shard's files take of one entry: a worker process is sent these, not the
    entries (the pool's feeder thread pickled a shard's 600 summaries while the build's
    main thread wanted the interpreter)."""

    id: str
    fingerprint: str  # indexing.fingerprint
    filters: tuple[str, str, str]  # see _filter_values
    report: Report | str  # the parse-cache key of its full report (or, in tests, the Report)


def _job(bundle: Bundle, report_of: ReportOf | None) -> tuple[Bundle, tuple[Doc, ...], ReportOf | None]:
    """A job for _build_shard: the bundle without its entries, and their Docs."""
    docs = tuple(Doc(e.id, fingerprint(e), _filter_values(e),
                     e.report if isinstance(e.report, Report) else e.report.key) for e in bundle.entries)
    return dataclasses.replace(bundle, entries=()), docs, report_of


def _build_shard(job: tuple[Bundle, tuple[Doc, ...], ReportOf | None]) -> None:
    """Build a shard's files; reports streamed by an earlier build of the shard are taken
    from its stream cache (<work>/bundles/<shard>.streams), so an edit streams one report,
    and only the files whose bytes changed are written again (an edit changes a few of
    the shard's buckets). The stamp, which lists the files' digests, is removed first and
    written last: a shard without one is rebuilt from scratch."""
    bundle, docs, report_of = job
    before = _read_stamp(bundle)
    _stamp(bundle).unlink(missing_ok=True)
    streams = bundle.path.with_name(bundle.shard + ".streams")
    vocabulary, cached = _read_streams(streams)
    numbered: dict[int, int] = {}  # code -> number, see static_index.document
    documents, kept = [], {}
    for doc in docs:
        known = cached.get(doc.id)
        if known is not None and known[0] == doc.fingerprint:
            document = static_index.Document(doc.id, *doc.filters, *known[1:])
        else:
            r = full_report(doc.report, report_of)
            document = static_index.document(doc.id, r.title, r.text, doc.filters, vocabulary, numbered)
        documents.append(document)
        kept[doc.id] = (doc.fingerprint, document.title_length, document.numbers)
    files = static_index.shard_files(documents, vocabulary)
    _write_streams(streams, vocabulary, kept)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    held = before["files"] if before is not None and bundle.path.is_dir() else {}
    if not held:
        shutil.rmtree(bundle.path, ignore_errors=True)
        bundle.path.mkdir(parents=True)
    for name in sorted(held.keys() - files.keys()):
        (bundle.path / name).unlink(missing_ok=True)
    for name, data in files.items():
        if held.get(name) != digests[name]:
            (bundle.path / name).write_bytes(data)
    _stamp(bundle).write_text(json.dumps({"digest": bundle.digest, "files": digests}, sort_keys=True),
                              encoding="utf-8")


_STREAMS_FORMAT = f"streams 3 {TOKENIZER_VERSION}"


def _read_streams(path: Path) -> tuple[dict[str, int], dict[str, tuple]]:
    """(vocabulary, id -> (fingerprint, title length, numbers)); empty when unreadable.
    The file is a numpy archive read without pickle: one array of every document's numbers
    end to end, and a JSON header with the vocabulary and each document's slice."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            head = json.loads(bytes(stored["head"]).decode("utf-8"))
            numbers = stored["numbers"]
        if head["format"] != _STREAMS_FORMAT:
            return {}, {}
        docs, at = {}, 0
        for doc_id, fp, title, length in head["docs"]:
            docs[doc_id] = (fp, title, numbers[at:at + length])
            at += length
        return head["vocabulary"], docs
    except (OSError, ValueError, KeyError, TypeError):
        return {}, {}


def _write_streams(path: Path, vocabulary: dict[str, int], docs: dict[str, tuple]) -> None:
    """Store the shard's streams; a vocabulary grown to twice the tokens in use is
    renumbered first."""
    numbers = np.concatenate([np.zeros(0, dtype=np.int32)] + [d[2] for d in docs.values()])
    used = np.flatnonzero(np.bincount(numbers + 1, minlength=len(vocabulary) + 1)[1:])  # + 1: gaps are -1
    if len(vocabulary) > 2 * len(used):
        renumber = np.full(len(vocabulary) + 1, -1, dtype=np.int32)  # the last slot: gaps (-1)
        renumber[used] = np.arange(len(used), dtype=np.int32)
        token_of = {n: t for t, n in vocabulary.items()}
        vocabulary = {token_of[n]: i for i, n in enumerate(used.tolist())}
        docs = {k: (fp, title, renumber[numbers]) for k, (fp, title, numbers) in docs.items()}
    head = {"format": _STREAMS_FORMAT, "vocabulary": vocabulary,
            "docs": [[doc_id, fp, title, len(numbers)] for doc_id, (fp, title, numbers) in docs.items()]}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, head=np.frombuffer(json.dumps(head, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
             numbers=np.concatenate([np.zeros(0, dtype=np.int32)] + [d[2].astype(np.int32) for d in docs.values()]))
    os.replace(tmp, path)


def _filter_values(entry: Entry) -> tuple[str, str, str]:
    """The values of static_index.FILTERS (year, place, level), "" when unknown."""
    r = entry.report
    return (str(r.year) if r.year is not None else "", r.place or "", r.level or "")


def _ready(bundle: Bundle) -> bool:
    """The bundle was built from the entries its digest describes."""
    stamp = _read_stamp(bundle)
    return stamp is not None and stamp["digest"] == bundle.digest and bundle.path.is_dir()


def _stamp(bundle: Bundle) -> Path:
    return bundle.path.with_name(bundle.shard + ".digest")


def _read_stamp(bundle: Bundle) -> dict | None:
    """{"digest": of the entries the shard was built from, "files": name -> sha256}."""
    try:
        stamp = json.loads(_stamp(bundle).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and isinstance(stamp.get("files"), dict) else None


def _keep_only(folder: Path, names: set[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p for p in folder.iterdir() if p.name not in names):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def _bundle_pages(bundles: tuple[Bundle, ...]) -> list[Page]:
    """Each shard's files, then meta.json and the character map. A file's fingerprint is
    its digest (from the shard's stamp): only the files that changed are read."""
    pages: list[Page] = []
    for bundle in bundles:
        digests = _read_stamp(bundle)["files"]
        for name in static_index.file_names(len(bundle.entries)):
            pages.append(Page(f"{BUNDLE_DIR}/{bundle.shard}/{name}", digests[name], (bundle.path / name).read_bytes))
    meta = static_index.meta_json([(b.shard, [_filter_values(e) for e in b.entries]) for b in bundles])
    for rel, data in ((META_PATH, meta), (CHAR_MAP_PATH, char_map_js().encode("utf-8"))):
        pages.append(Page(rel, hashlib.sha256(data).hexdigest(), lambda data=data: data))
    return pages


def entries_digest(entries: tuple[Entry, ...]) -> str:
    """A digest of what a shard's files are built from: each entry's id and parse-cache
    key, which stands for all of its report (see indexing.fingerprint: the same, without a
    hash per entry, computed for every report on every build)."""
    whole = hashlib.sha256(f"static-index {static_index.FORMAT} {TOKENIZER_VERSION}".encode())
    for entry in entries:
        key = getattr(entry.report, "key", None)
        whole.update(f"{entry.id} {fingerprint(entry) if key is None else key}\n".encode())
    return whole.hexdigest()


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


def char_map_js() -> str:
    """The traditional -> simplified map as two strings of equal length (in code points)."""
    pairs = sorted(char_map().items())
    source = "".join(k for k, _ in pairs)
    target = "".join(v for _, v in pairs)
    return ("/* Traditional -> simplified characters, from OpenCC's TSCharacters table "
            "(first candidate). Generated by site-builder. */\n"
            f"window.siteT2S={{from:{json.dumps(source, ensure_ascii=False)},"
            f"to:{json.dumps(target, ensure_ascii=False)},"
            f"han:{json.dumps(HAN_JS)},maxChars:{MAX_QUERY_CHARS},"
            f"maxTerms:{MAX_QUERY_TERMS}}};\n")
