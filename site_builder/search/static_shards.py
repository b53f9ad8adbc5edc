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
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
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
from .documents import WORKER_NICENESS, ReportOf, fingerprint, full_report
from ..model import Entry, Report, Site
from ..state import load_pickle, store_pickle

BUNDLE_DIR = "search/index"  # <out_dir>/search/index/<shard>/: each shard's files
META_PATH = "search/index/meta.json"  # the shards, report counts and filter values
CHAR_MAP_PATH = "search/t2s.js"  # <out_dir>/search/t2s.js: the character map
SEARCH_FILES = (BUNDLE_DIR + "/", CHAR_MAP_PATH)  # the prefixes of the index's output paths
BACKGROUND_NICENESS = 15  # for the shards built by the preview server's background refresh


def write_static_search(site: Site, config, out_dir: Path, report_of: ReportOf | None = None,
                        work_dir: Path | None = None) -> None:
    """Write <out_dir>/search/index/ and <out_dir>/search/t2s.js for `site`.

    `work_dir` keeps the built shards between builds (pass a folder under the build's
    state dir); without it a temporary folder is used."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="site-builder-search-") as tmp:
        from ..publish.write import expand

        pages = list(expand(static_search_pages(site, Path(work_dir or tmp), report_of)))
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
PARALLEL_THRESHOLD = 200  # reports in the shards to build: below this, they are built in this process


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


def build_bundle(site: Site, work: Path, report_of: ReportOf | None = None,
                 background: bool = False) -> tuple[Bundle, ...]:
    """Bring <work>/bundles/<shard> up to date for every shard (see building_bundle)."""
    with building_bundle(site, work, report_of, background) as wait:
        return wait()


@contextmanager
def building_bundle(site: Site, work: Path, report_of: ReportOf | None = None,
                    background: bool = False) -> Iterator[Callable[[], tuple[Bundle, ...]]]:
    """Start bringing <work>/bundles/<shard> up to date for every shard, and yield a
    function that waits until they are and returns them. Only shards whose reports changed
    are built: in worker processes while the body of the `with` runs (the caller renders
    meanwhile, on the other cores), unless there is little to build; at low priority when
    `background`, so that a build running meanwhile keeps the cores. Holds the work
    folder's lock throughout; leaving the `with` early cancels what has not started."""
    work = Path(work)
    with _work_lock(work, wait=True):
        groups = shards(site)
        _keep_only(work / "bundles", {f"{name}{suffix}" for name in groups for suffix in ("", ".digest", ".streams")})
        bundles = _bundles(work, groups)
        stale = [_job(b, report_of) for b in bundles if not _ready(b)]
        if not background and sum(len(docs) for _, docs, _ in stale) < PARALLEL_THRESHOLD:
            list(map(_build_shard, stale))
            yield lambda: bundles
            return
        nice = BACKGROUND_NICENESS if background else WORKER_NICENESS
        with ProcessPoolExecutor(max(1, min(len(stale), os.cpu_count() or 1)),
                                 initializer=os.nice, initargs=(nice,)) as pool:
            futures = [pool.submit(_build_shard, job) for job in stale]

            def wait() -> tuple[Bundle, ...]:
                for future in futures:
                    future.result()
                pool.shutdown(wait=False)  # the workers end while the caller goes on
                return bundles
            try:
                yield wait
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            wait()


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


_STREAMS_FORMAT = f"streams 2 {TOKENIZER_VERSION}"


def _read_streams(path: Path) -> tuple[dict[str, int], dict[str, tuple]]:
    """(vocabulary, id -> (fingerprint, title length, numbers)); empty when unreadable."""
    stored = load_pickle(path)
    if isinstance(stored, tuple) and len(stored) == 3 and stored[0] == _STREAMS_FORMAT:
        return stored[1], stored[2]
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
    store_pickle(path, (_STREAMS_FORMAT, vocabulary, docs))


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


def static_search_pages(site: Site, work_dir: Path, report_of: ReportOf | None = None) -> list:
    """The static search files as write.Page and write.Carried objects, for write_site:
    every shard's files (built in `work_dir`, a folder of the build's state dir), meta.json
    and the character map."""
    return _bundle_pages(build_bundle(site, Path(work_dir), report_of))


@contextmanager
def static_search_pages_later(site: Site, work_dir: Path, report_of: ReportOf | None = None
                              ) -> Iterator[Iterator]:
    """static_search_pages as an iterator that can be chained after the site's pages: the
    shards are built in worker processes while the site renders, and the iterator waits
    for them when it is reached."""
    with building_bundle(site, Path(work_dir), report_of) as wait:
        yield _later(lambda: _bundle_pages(wait()))


def _later(make: Callable[[], list]) -> Iterator:
    yield from make()


@contextmanager
def ready_static_search_pages(site: Site, work_dir: Path) -> Iterator[list | None]:
    """The static search files if the bundles in `work_dir` were built for exactly this
    site and nobody is rebuilding them, else None; they stay locked until the `with`
    ends (write the site inside it). Never builds a shard: the preview server publishes
    an edit at once and refreshes the bundles in the background."""
    work = Path(work_dir)
    with _work_lock(work, wait=False) as held:
        if not held:
            yield None
            return
        bundles = _bundles(work, shards(site))
        ready = all(map(_ready, bundles))
        yield _bundle_pages(bundles) if ready else None


def _bundle_pages(bundles: tuple[Bundle, ...]) -> list:
    """Each shard's files as one write.Carried, then meta.json and the character map. A
    file's fingerprint is its digest (from the shard's stamp): an unchanged shard is
    neither read nor looked at, and of a changed one only the changed files are read."""
    from ..publish.write import Carried, Page

    pages: list = []
    for bundle in bundles:
        digests = _read_stamp(bundle)["files"]
        files = tuple((f"{BUNDLE_DIR}/{bundle.shard}/{name}", digests[name])
                      for name in static_index.file_names(len(bundle.entries)))
        pages.append(Carried(files, partial(_shard_pages, bundle, files)))
    meta = static_index.meta_json([(b.shard, [_filter_values(e) for e in b.entries]) for b in bundles])
    for rel, data in ((META_PATH, meta), (CHAR_MAP_PATH, char_map_js().encode("utf-8"))):
        pages.append(Page(rel, hashlib.sha256(data).hexdigest(), lambda data=data: data))
    return pages


def _shard_pages(bundle: Bundle, files: tuple[tuple[str, str], ...]) -> list:
    from ..publish.write import Page

    return [Page(rel, digest, (bundle.path / rel.rsplit("/", 1)[1]).read_bytes) for rel, digest in files]


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
