"""Load and parse every report, reusing earlier results for unchanged files.

A result is keyed by the file's bytes, its sidecar's bytes, its content path and the code
version (a digest of the parse stage's sources, PARSE_MODULES), so any change to either
invalidates it.
Each result is one file, <key>.pickle: the small (Summary, problems) that a build reads
when the memo does not know the file, then the full Report that only its pages and the
search indexes read (`load_report`). Cache misses are parsed, and their results stored,
in helper processes when there are enough of them: only summaries come back.
Keys and summaries are remembered per file with its stat (size, mtime, ctime, inode), as
git does, so an unchanged archive is not read again just to learn that it did not change.
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import multiprocessing
import os
import time
import traceback
import zlib
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache, partial
from pathlib import Path

from ..text.normalize import normalize
from ..text.words import top_words, words
from .read import MAX_BYTES, load_source, sidecar_path, sidecar_rel
from ..model import Problem, Report, Summary
from ..state import kept_to_the_end, load_pickle, store_pickle

PARALLEL_THRESHOLD = 64  # below this many misses a process pool costs more than it saves
# In the cache dir: content path -> (stat stamp, key, (summary, problems)), in MEMO_PARTS
# files memo-<xx>.pickle by a hash of the path: an unchanged archive costs one stat per
# file and one read of the memo, and a change stores its part of the memo only.
MEMO_PARTS = 64
RACY_SECONDS = 2.0  # a file changed this recently may change again within the same mtime


def parse_files(content_dir: Path, rels: tuple[str, ...], cache_dir: Path, warm: dict | None = None,
                meanwhile: Callable[[], object] | None = None, keep: bool = False,
                sidecars: Collection[str] | None = None, parser: "Parser | None" = None
                ) -> tuple[tuple[Summary, ...], tuple[Problem, ...]]:
    """Summaries of the reports at `rels` (content-relative paths) that can be published,
    and every problem found on the way. A process that builds again (the preview server)
    passes a `warm` dict: the memo is then kept there rather than read and written each
    time (the next build in another process re-checks what changed meanwhile). A caller
    with work of its own to do passes it as `meanwhile`: when there are reports to parse
    (and a second core), they are parsed in other processes, even one, while this
    process runs it: they go to a worker started first of all, which loads what parsing
    needs while this process reads its memo (see Parser). A caller that `keep`s
    the memo to its end has it read as state.kept_to_the_end says. `sidecars`: the reports
    with a sidecar, when the caller's listing of the folder knows (see find_report_paths);
    otherwise each report's sidecar is looked for. `parser`: one the caller started
    earlier still (see early_parser)."""
    if parser is not None:
        return _parse_files(content_dir, rels, cache_dir, warm, meanwhile, parser, keep, sidecars)
    with Parser.start(meanwhile is not None and cache_dir.is_dir()) as parser:  # a rebuild
        return _parse_files(content_dir, rels, cache_dir, warm, meanwhile, parser, keep, sidecars)


def early_parser(cache_dir: Path) -> "AbstractContextManager[Parser | None]":
    """A parser worker (see Parser), started before the caller lists the content folder
    and hashes its files: the reports to parse go to a process that has loaded the parser
    by the time they are known. On a first build (no cache) it loads pinyin too: every
    name will need a slug. For parse_files' `parser`; None with one core."""
    return Parser.start(True, slugs=not cache_dir.is_dir())


def _parse_files(content_dir: Path, rels: tuple[str, ...], cache_dir: Path, warm: dict | None,
                 meanwhile: Callable[[], object] | None, parser: "Parser | None", keep: bool,
                 sidecars: Collection[str] | None):
    if warm:
        parts, memo = [], warm
    else:
        with kept_to_the_end() if keep else nullcontext():
            parts = _load_memo(cache_dir)
        memo = {rel: value for part in parts for rel, value in part.items()}
    version, now, root = parse_version(), time.time(), os.fspath(content_dir) + "/"
    fresh: dict[str, tuple] = {}
    results: list = [None] * len(rels)
    keys: list[str] = []
    misses = []
    for i, rel in enumerate(rels):
        stamp = (version, _stamp(root + rel),
                 _stamp(root + sidecar_rel(rel)) if sidecars is None or rel in sidecars else None)
        old = memo.get(rel)
        old = old if _valid(old) else None
        if old is not None and old[0] == stamp and stamp[1] and now - stamp[1][1] / 1e9 > RACY_SECONDS:
            key, result = old[1], old[2]
        else:
            key = _key(content_dir / rel, rel, version)
            result = old[2] if old is not None and old[1] == key else load_pickle(_cache_path(cache_dir, key))
        keys.append(key)
        results[i] = result
        fresh[rel] = (stamp, key, result)
        if result is None:
            misses.append(i)
    jobs = [(content_dir / rels[i], rels[i], keys[i], cache_dir) for i in misses]
    for i, result in zip(misses, _parse_many(jobs, partial(_slugs_of, results), meanwhile, parser)):
        results[i] = result
        fresh[rels[i]] = (fresh[rels[i]][0], keys[i], result)
    if warm is not None:
        warm.clear()
        warm.update(fresh)
    elif _store_memo(cache_dir, parts, fresh):
        kept = set(keys)
        if all(rel in memo for rel in rels):  # the results replaced are those the memo knew
            _forget(cache_dir, {value[1] for value in memo.values() if _valid(value)} - kept)
        else:
            _prune(cache_dir, kept)
    summaries = tuple(s for s, _ in results if s is not None)
    problems = tuple(p for _, ps in results for p in ps)
    return summaries, problems


def _memo_part(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8")) % MEMO_PARTS


def _memo_path(cache_dir: Path, part: int) -> Path:
    return cache_dir / f"memo-{part:02x}.pickle"


def _load_memo(cache_dir: Path) -> list[dict]:
    parts = [load_pickle(_memo_path(cache_dir, n)) for n in range(MEMO_PARTS)]
    return [part if isinstance(part, dict) else {} for part in parts]


def _store_memo(cache_dir: Path, parts: list[dict], fresh: dict[str, tuple]) -> bool:
    """Store the parts of the memo that differ from what was read; whether any did."""
    new: list[dict] = [{} for _ in range(MEMO_PARTS)]
    for rel, value in fresh.items():
        new[_memo_part(rel)][rel] = value
    changed = False
    for n, (old, part) in enumerate(zip(parts, new)):
        if part.keys() != old.keys() or any(part[rel][:2] != old[rel][:2] for rel in part):
            store_pickle(_memo_path(cache_dir, n), part)
            changed = True
    return changed


def load_report(cache_dir: Path, key: str) -> Report:
    """The full Report behind a Summary, as the parse stage stored it."""
    report = load_pickle(_cache_path(cache_dir, key), skip=1)
    if report is None:
        raise FileNotFoundError(f"parse cache lost report {key}; rebuild")
    return report


def parse_file(path: Path, rel: str) -> tuple[Report | None, tuple[Problem, ...]]:
    from .parse import parse_source  # slow to load (the cleaner's patterns): only when parsing

    source, load_problems = load_source(path, rel)
    if source is None:
        return None, load_problems
    report, parse_problems = parse_source(source)
    return (None if report is None else analysed(report)), load_problems + parse_problems


def analysed(report: Report) -> Report:
    """The report with what is made of its normalised text once, in the parse worker: the
    segmenter's words of its title and text (the Whoosh index ranks by them as they are),
    the keywords of its text, and its sentence hashes (similar reports)."""
    from ..text.sentences import sentence_hashes

    normalized = normalize(report.text)
    body = words(normalized)
    title = words(normalize(report.title))
    return dataclasses.replace(report, keywords=top_words(body), words=" ".join(title + body),
                               sentences=sentence_hashes(normalized))


def _parse_many(jobs: list[tuple[Path, str, str, Path]], known_slugs: Callable[[], dict[str, str]],
                meanwhile: Callable[[], object] | None, parser: "Parser | None" = None):
    """(summary, problems) of every job, in order, as they come, each stored in the cache
    by whoever parsed it: memory does not grow with the archive, and full reports never
    travel between processes. They go to `parser` if there is one (it parses a few
    itself, many in helpers), else are parsed here, unless there is `meanwhile` work for
    this process; then, and when there are many, in helpers (see _helpers). When there are few,
    their summaries take the slugs of the names `known_slugs()` knows (those of the
    reports not parsed again)."""
    few = len(jobs) < PARALLEL_THRESHOLD
    if jobs and parser is not None and parser.send(jobs, known_slugs() if few else None):
        if meanwhile is not None:
            meanwhile()
        done = 0
        for result in parser.results():
            done += 1
            yield result
        # What the parser did not parse (it failed) is parsed here.
        jobs, meanwhile, few = jobs[done:], None, len(jobs) - done < PARALLEL_THRESHOLD
    workers = os.cpu_count() or 1
    if not jobs or workers < 2 or (few and meanwhile is None):
        if jobs:
            yield from map(partial(_parse_and_store, known_slugs=known_slugs()), jobs)
        return
    with _helpers(jobs, known_slugs() if few else None) as batches:
        if meanwhile is not None:
            meanwhile()
        for batch in batches:
            yield from batch


class Parser:
    """A worker process started before a build reads its parse memo: it loads what
    parsing needs (the parser's patterns, the segmenter, the IDF table, pinyin: half a
    second), then parses the reports it is given: a few itself (one edit then costs the
    build the parse, not the loading), many in helpers it forks once loaded, which need
    not load it again (see _helpers). Given none, it is stopped where it is, as
    it is if the build stops reading its results: it has stored nothing a build reads (a
    table it was making is made again; what a helper stores is complete or absent), and
    a build ends with no process of its own left behind (one holding the caller's output
    pipe open would keep `build-site | tee log` waiting): its helpers end with the chunk
    they are parsing."""

    def __init__(self, connection):
        self._connection = connection
        self._sent = False
        self._done = False

    @classmethod
    @contextmanager
    def start(cls, wanted: bool, slugs: bool = False) -> "Iterator[Parser | None]":
        if not wanted or (os.cpu_count() or 1) < 2:
            yield None
            return
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        # Not a daemon: daemons may not start processes, and this one starts helpers.
        process = context.Process(target=_parser_worker, args=(theirs, slugs), name="parser")
        process.start()
        theirs.close()
        parser = cls(ours)
        try:
            yield parser
        finally:
            if not parser._done:  # nothing to parse, or the build stopped reading
                process.terminate()
            ours.close()
            process.join()

    def send(self, jobs: list, known_slugs: dict[str, str] | None) -> bool:
        """Give it `jobs` (once); False if it cannot take them."""
        if self._sent:
            return False
        self._sent = True
        try:
            self._connection.send((jobs, known_slugs))
            return True
        except OSError:  # it died: the jobs are parsed elsewhere
            return False

    def results(self) -> Iterator:
        """What it parsed, in order, as it comes; it stops early if the parser fails. The
        end is read with the last results (a caller may stop asking once it has them all),
        when the parser has let its helpers go."""
        try:
            batch = self._connection.recv()
            while batch is not None:
                after = self._connection.recv()
                self._done = after is None
                yield from batch
                batch = after
        except (EOFError, OSError):
            return


def _parser_worker(connection, slugs: bool = False) -> None:
    from .parse import parse_source  # noqa: F401 - loaded now, used by parse_file
    from ..text.sentences import sentence_hashes  # noqa: F401 - numpy, for analysed
    from ..state import GC_THRESHOLDS
    from ..text.words import warm_up
    from ..site.urls import slugify

    gc.set_threshold(*GC_THRESHOLDS)  # as in the build, which may not have started yet
    warm_up()
    if slugs:
        slugify("演陂镇")  # loads pinyin
    try:
        jobs, known_slugs = connection.recv()
        if len(jobs) < PARALLEL_THRESHOLD or (os.cpu_count() or 1) < 2:
            connection.send([_parse_and_store(job, known_slugs) for job in jobs])
        else:
            with _helpers(jobs, known_slugs, keep_out=(connection,)) as batches:
                for batch in batches:
                    connection.send(batch)
        connection.send(None)
    except Exception:  # noqa: BLE001 - the caller parses what it did not get
        pass


@contextmanager
def _helpers(jobs: list, known_slugs: dict[str, str] | None, keep_out: tuple = ()) -> Iterator[Iterator[list]]:
    """The results of `jobs`, in order, a chunk (a list) at a time, parsed by one helper
    per core forked from this process (a parser has loaded what parsing needs: they need
    not). Helper k parses chunks k, k + n, k + 2n, ... and sends each down its own pipe.
    Nothing else is shared: no queue, no thread, no lock that a fork could copy held. A
    helper whose reader is gone (its parent stopped reading) fails at its next send and
    ends; one that fails ends the iteration with an error. `keep_out`: connections of this
    process the helpers close."""
    workers = min(os.cpu_count() or 1, len(jobs))
    size = _chunk_size(len(jobs), workers)
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    helpers: list[tuple[int, object]] = []
    try:
        for k in range(workers):
            reader, writer = multiprocessing.Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # a helper
                _helper(chunks[k::workers], known_slugs, writer, [reader, *keep_out, *(r for _, r in helpers)])
            writer.close()
            helpers.append((pid, reader))
        yield (_received(helpers[n % workers][1]) for n in range(len(chunks)))
    finally:
        for _, reader in helpers:
            reader.close()
        for pid, _ in helpers:
            os.waitpid(pid, 0)


def _received(reader) -> list:
    try:
        return reader.recv()
    except EOFError:
        raise RuntimeError("a parse helper process failed (its error is printed above)") from None


def _chunk_size(jobs: int, workers: int) -> int:
    """Jobs to give a helper at a time: a few dozen, or fewer so that they finish together."""
    return max(1, min(64, jobs // (workers * 8)))


def _helper(chunks: list[list], known_slugs: dict[str, str] | None, writer, others: list) -> None:
    code = 1
    try:
        for other in others:  # the pipes this helper has no business with
            other.close()
        for chunk in chunks:
            writer.send([_parse_and_store(job, known_slugs) for job in chunk])
        code = 0
    except BrokenPipeError:  # its parent stopped reading
        pass
    except BaseException:  # a bug: say where, as the process ends without unwinding
        traceback.print_exc()
    finally:
        os._exit(code)


def _slugs_of(results: list) -> dict[str, str]:
    """Name -> slug, of the summaries in `results` (results of the current code, or None)."""
    return {name: slug for result in results if result is not None and result[0] is not None
            for name, slug in result[0].slugs().items()}


def _parse_and_store(job: tuple[Path, str, str, Path], known_slugs: dict[str, str] | None = None
                     ) -> tuple[Summary | None, tuple[Problem, ...]]:
    path, rel, key, cache_dir = job
    report, problems = parse_file(path, rel)
    result = (Summary.of(report, key, known_slugs) if report is not None else None, problems)
    store_pickle(_cache_path(cache_dir, key), result, *(() if report is None else (report,)))
    return result


def _stamp(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _key(path: Path, rel: str, version: str) -> str:
    digest = hashlib.sha256(version.encode())
    digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
    for part in (path, sidecar_path(path)):
        try:
            size = part.stat().st_size
            # A file over the limit is refused by load_source: never read it whole here.
            digest.update(part.read_bytes() if size <= MAX_BYTES else b"\0too big %d" % size)
        except OSError:
            digest.update(b"\0missing")
        digest.update(b"\0")
    return digest.hexdigest()


@cache
def code_version() -> str:
    """Digest of the package's own sources (what a rendered page may depend on)."""
    package = Path(__file__).resolve().parent.parent
    return _digest(sorted(p.relative_to(package).with_suffix("").as_posix() for p in package.rglob("*.py")))


# The modules parse_file runs (a test checks the list against what it imports): a change
# to any of them invalidates every cached parse; a change elsewhere (templates, search,
# the server) does not make the whole archive be parsed again.
PARSE_MODULES = ("__init__", "config", "gazetteer", "model", "state", "content/__init__", "content/clean", "content/decode",
                 "content/htmlpage", "content/metadata", "content/parse", "content/read", "content/sections",
                 "content/stage", "site/__init__", "site/urls", "text/__init__", "text/chars", "text/normalize",
                 "text/sentences", "text/tables", "text/words")


def parse_version() -> str:
    """Digest of the sources of the parse stage: part of every cache key."""
    return _digest(sorted(PARSE_MODULES))


def _digest(names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        module = Path(__file__).resolve().parent.parent / f"{name}.py"
        digest.update(name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def _valid(value) -> bool:
    """Whether a memo value has the shape a build stores: (stamp, key, result)."""
    return isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], str)


def _forget(cache_dir: Path, keys: set[str]) -> None:
    """Remove the results of these keys (of files changed or gone)."""
    for key in keys:
        _cache_path(cache_dir, key).unlink(missing_ok=True)


def _prune(cache_dir: Path, keep: set[str]) -> None:
    """Forget results of files that are gone or changed, so the cache stays the archive's
    size: all but those of `keep`, found by listing the cache (a build that added files,
    or had no memo, cannot tell otherwise what an interrupted build left)."""
    try:
        with os.scandir(cache_dir) as listing:  # names, not Path objects: 10,000 of them
            shards = [entry.path for entry in listing if entry.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for shard in shards:
        for name in os.listdir(shard):
            if name.split(".", 1)[0] not in keep:
                try:
                    os.unlink(shard + "/" + name)
                except FileNotFoundError:
                    pass


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.pickle"
