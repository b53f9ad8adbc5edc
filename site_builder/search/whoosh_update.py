"""Bringing the Whoosh index in line with a site: index the new and changed reports,
delete the removed ones, leave the rest alone.

The index lives in the build's state folder (never in the published output). A report
is re-indexed when its fingerprint (indexing.fingerprint) changed; new documents
go into new segments written by search_writer, in parallel chunks on a cold build.

`updating_index` does this in the background while the caller publishes the site, and
commits only if publishing succeeded: a failed build leaves the index as it was. A
command-line build hands all of it to one worker process (opening the index, planning,
indexing, committing), so that its own process neither loads Whoosh nor reads the index.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .documents import SCHEMA_VERSION, WORKER_NICENESS, ReportOf, fingerprint, full_report
from ..model import Entry, Site

if TYPE_CHECKING:
    from . import whoosh_segments as search_writer
PARALLEL_THRESHOLD = 64  # below this many reports to index, index in this process
# The worker that updates the index for a command-line build, when it has a few reports
# to index, yields to the static search shards as well, whose files the write stage waits
# for; the index is committed after. (With many, as in a first build, its pool of workers
# keeps WORKER_NICENESS: at lower priority they finished after the pages, which the build
# then waited for.)
FEW_NICENESS = WORKER_NICENESS + 5
CHUNK_DOCUMENTS = 2000  # reports per new segment (bounds each writer's memory)


@dataclass(frozen=True, slots=True)
class IndexStats:
    added: int
    updated: int
    deleted: int
    unchanged: int
    documents: int
    bytes: int  # size of the index folder


def update_index(site: Site, index_dir: Path, report_of: ReportOf | None = None) -> IndexStats:
    """Bring the index in `index_dir` in line with `site`: add new reports, replace changed
    ones, delete removed ones. A build with nothing changed writes nothing. Only the
    changed entries' full reports are read (through `report_of`; when it pickles and
    there are many, in worker processes)."""
    with _updating_here(site, Path(index_dir), report_of) as plan:
        pass
    size = sum(p.stat().st_size for p in Path(index_dir).iterdir() if p.is_file())
    return IndexStats(plan.added, plan.updated, len(plan.removed), plan.unchanged, plan.documents, size)


@dataclass(frozen=True, slots=True)
class Plan:
    index: tuple[Entry, ...]  # entries to write into new segments, by id
    delete: tuple[search_writer.Located, ...]  # documents to mark deleted
    drop: frozenset[int]  # segments to leave out (their live documents are in `index`)
    removed: tuple[str, ...]  # ids no longer in the site
    added: int
    updated: int
    documents: int

    @property
    def unchanged(self) -> int:
        return self.documents - self.added - self.updated


@contextmanager
def updating_index(site: Site, index_dir: Path, report_of: ReportOf | None = None,
                   columns: dict | None = None) -> Iterator[Callable[[], None]]:
    """Index what changed while the body of the `with` runs; commit when the body
    returns (or as soon as it calls the function yielded: the site it indexes is
    written), discard the new segments when it raises first. A process that builds again keeps
    `columns` (see search_writer.live_documents) and updates from here;
    any other hands the whole update to one worker process (given a second core, and a
    `report_of` it can inherit): loading Whoosh and reading the index took a command-line
    rebuild 0.2 s at 10,000 reports."""
    index_dir = Path(index_dir)
    if columns is not None or (os.cpu_count() or 1) < 2 or not _pickles(report_of):
        with _updating_here(site, index_dir, report_of, columns):
            yield lambda: None  # committed when the body returns
        return
    context = multiprocessing.get_context("fork")  # the worker inherits the site as it is
    ours, theirs = context.Pipe()
    worker = context.Process(target=_update_in_worker, args=(site, index_dir, report_of, theirs),
                             name="search-index")
    worker.start()
    theirs.close()
    told = []

    def commit() -> None:
        if not told:
            told.append(True)
            _tell(ours, True)
    try:
        try:
            yield commit
        except BaseException:
            if not told:
                _tell(ours, False)
            raise
        commit()
        failure = ours.recv()
    except EOFError:  # the worker died without a word
        failure = f"the search index worker ended with exit code {worker.exitcode}"
    finally:
        worker.join()
        ours.close()
    if failure:
        raise RuntimeError(f"updating the search index failed:\n{failure}")


def _tell(connection, message) -> None:
    """Send `message` to the other end, if it is still there (the worker tells why it is
    gone, or the caller's EOFError does; a caller that is gone needs no answer)."""
    try:
        connection.send(message)
    except OSError:
        pass


def _update_in_worker(site: Site, index_dir: Path, report_of: ReportOf | None, connection) -> None:
    """The worker of updating_index: the update, committed when the caller says so (False,
    or the caller's end closed by its death: discarded); then None, or what went wrong."""
    from . import whoosh_segments as search_writer

    os.nice(WORKER_NICENESS)
    try:
        columns = search_writer.load_columns(index_dir)
        known = set(columns)
        with _updating_here(site, index_dir, report_of, columns, alone=True):
            if set(columns) != known:  # segments read or gone since they were stored: for the next build
                search_writer.store_columns(index_dir, columns)
            if not connection.recv():
                raise _Discarded
    except (_Discarded, EOFError):
        return
    except BaseException:  # noqa: BLE001 - told to the caller, which raises it
        _tell(connection, traceback.format_exc())
        return
    _tell(connection, None)


class _Discarded(Exception):
    pass


@contextmanager
def _updating_here(site: Site, index_dir: Path, report_of: ReportOf | None = None,
                   columns: dict | None = None, alone: bool = False) -> Iterator[Plan]:
    """updating_index in this process: the new segments written in worker processes (or
    a thread: see below) while the body runs. Holds the index's write lock throughout.
    `alone`: this process has nothing else to do meanwhile."""
    from . import whoosh_segments as search_writer

    ix = _open_or_create(index_dir)
    with search_writer.write_lock(ix):
        plan = _plan(ix, site, columns)
        if not plan.index and not plan.delete:
            yield plan
            return
        workers = os.cpu_count() or 1
        jobs = _chunks(str(index_dir), list(plan.index), report_of, workers)
        # Worker processes, even for one job, in a process that renders meanwhile: streaming
        # reports is Python work that would hold its interpreter. A thread for one job in a
        # process that waits (`alone`) or builds again (`columns` kept), or when there is one
        # core or the reports cannot be sent.
        threaded = (workers < 2 or not _pickles(report_of)
                    or (len(jobs) == 1 and (alone or columns is not None)))
        if threaded and alone:
            os.nice(FEW_NICENESS - WORKER_NICENESS)
        with (ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-index") if threaded
              else ProcessPoolExecutor(min(workers, len(jobs)), initializer=os.nice,
                                       initargs=(0 if alone else WORKER_NICENESS,))) as pool:
            futures = [pool.submit(_index_chunk, job) for job in jobs]
            try:
                yield plan
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            segments = [future.result() for future in futures]
        search_writer.commit(ix, plan.delete, plan.drop, segments)


def _plan(ix, site: Site, columns: dict | None = None) -> Plan:
    from . import whoosh_segments as search_writer

    live = search_writer.live_documents(ix, columns=columns)
    wanted = {e.id: e for e in site.entries}
    changed = [e for e in site.entries if e.id not in live or live[e.id].fingerprint != fingerprint(e)]
    removed = tuple(sorted(set(live) - set(wanted)))
    added = sum(1 for e in changed if e.id not in live)
    delete = [live[i] for i in removed] + [live[e.id] for e in changed if e.id in live]
    drop = search_writer.segments_to_rewrite(ix, delete) if changed or removed else set()
    ids = {e.id for e in changed}
    # the live documents of dropped segments go into the new segments too
    changed += [wanted[i] for i, loc in live.items() if loc.segment in drop and i in wanted and i not in ids]
    return Plan(tuple(sorted(changed, key=lambda e: e.id)), tuple(delete), frozenset(drop), removed,
                added, len(ids) - added, len(wanted))


def _chunks(index_dir: str, entries: list[Entry], report_of: ReportOf | None, workers: int
            ) -> list[tuple]:
    """One job per new segment: a single one unless there are enough entries to pay for
    worker processes (and `report_of` can be sent to them)."""
    if len(entries) < PARALLEL_THRESHOLD or workers < 2 or not _pickles(report_of):
        return [(index_dir, entries, report_of)]
    rounds = -(-len(entries) // (CHUNK_DOCUMENTS * workers))  # every worker writes one segment a round
    count = rounds * workers  # so that no worker is left alone with the last one
    size = -(-len(entries) // count)
    return [(index_dir, entries[i:i + size], report_of) for i in range(0, len(entries), size)]


def _pickles(value) -> bool:
    try:
        pickle.dumps(value)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _index_chunk(job):
    from whoosh import index as whoosh_index

    from . import whoosh_segments as search_writer
    from .whoosh_index import document

    index_dir, entries, report_of = job
    documents = (document(e, full_report(e.report, report_of)) for e in entries)
    return search_writer.write_segment(whoosh_index.open_dir(index_dir), documents)


def _open_or_create(index_dir: Path):
    """Open the index, or start a new one when it is missing, from another schema version
    or unreadable (a build killed at the wrong moment). A lock left by a killed build is
    an flock on a file, released by the kernel when that process died."""
    from whoosh import index as whoosh_index

    from .whoosh_index import make_schema

    marker = index_dir / "site-builder-schema"
    if index_dir.exists():
        try:
            if marker.read_text(encoding="utf-8") == SCHEMA_VERSION:
                ix = whoosh_index.open_dir(str(index_dir))
                with ix.searcher() as searcher:
                    searcher.doc_count()
                return ix
        except Exception:  # noqa: BLE001 - any damage means: rebuild from the model
            pass
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    ix = whoosh_index.create_in(str(index_dir), make_schema())
    marker.write_text(SCHEMA_VERSION, encoding="utf-8")
    return ix
