"""Bringing the Whoosh index in line with a site: index the new and changed reports,
delete the removed ones, leave the rest alone.

The index lives in the build's state folder (never in the published output). A report
is re-indexed when its stamp (whoosh_index.stamp: its fingerprint and its number in the
static index) changed; new documents go into new segments written by whoosh_segments, in
chunks, in the build's worker pool.

`updating_index` writes the segments while the caller publishes the site, and commits only
if publishing succeeded: a failed build leaves the index as it was.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .documents import SCHEMA_VERSION, ReportOf, full_report
from ..model import Entry, Site

if TYPE_CHECKING:
    from . import whoosh_segments as search_writer
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
    """Bring the index in `index_dir` in line with `site`, all in this process (for tests
    and tools: a build does it in its pool with updating_index). `report_of` reads the
    full report of an entry that holds a Summary."""
    from . import whoosh_segments as search_writer

    index_dir = Path(index_dir)
    ix = _open_or_create(index_dir)
    with search_writer.write_lock(ix):
        plan = _plan(ix, site)
        if plan.index or plan.delete:
            segments = [_index_chunk(job) for job in _chunks(str(index_dir), plan, report_of, 1)]
            search_writer.commit(ix, plan.delete, plan.drop, segments)
    size = sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())
    return IndexStats(plan.added, plan.updated, len(plan.removed), plan.unchanged, plan.documents, size)


@dataclass(frozen=True, slots=True)
class Plan:
    index: tuple[Entry, ...]  # entries to write into new segments, by id
    numbers: dict[str, int]  # every entry's number in the static index
    delete: tuple[search_writer.Located, ...]  # documents to mark deleted
    drop: frozenset[int]  # segments to leave out (their live documents are in `index`)
    removed: tuple[str, ...]  # ids no longer in the site
    added: int
    updated: int
    documents: int

    @property
    def unchanged(self) -> int:
        return self.documents - self.added - self.updated


class _Commit:
    """Called once the site is published: commits the new segments (waiting for them)."""

    def __init__(self, ix, plan: "Plan", futures: list):
        self.ix, self.plan, self.futures, self.done = ix, plan, futures, False

    def __call__(self) -> None:
        from . import whoosh_segments as search_writer

        if self.done:
            return
        self.done = True
        if self.plan.index or self.plan.delete:
            segments = [future.result() for future in self.futures]
            search_writer.commit(self.ix, self.plan.delete, self.plan.drop, segments)


@contextmanager
def updating_index(site: Site, index_dir: Path, pool, store_path: Path | None = None,
                   report_of: ReportOf | None = None) -> Iterator[Callable[[], None]]:
    """Write the segments of what changed in the pool's workers while the body of the
    `with` runs (from the reports stored at `store_path`, or `report_of`); the body calls
    the function yielded once the site is published, which commits them. Leaving the body
    without calling it discards them. Holds the index's write lock throughout."""
    from . import whoosh_segments as search_writer

    if report_of is None and store_path is not None:
        from ..content.stage import report_at

        report_of = partial(report_at, store_path)
    index_dir = Path(index_dir)
    ix = _open_or_create(index_dir)
    with search_writer.write_lock(ix):
        plan = _plan(ix, site)
        futures = [pool.submit(_index_chunk, job) for job in _chunks(str(index_dir), plan, report_of, pool.workers)]
        commit = _Commit(ix, plan, futures)
        try:
            yield commit
        finally:
            for future in futures:
                future.cancel()
            for future in futures:
                if not future.cancelled():
                    future.exception()  # a segment being written is waited for


def _plan(ix, site: Site) -> Plan:
    from . import whoosh_segments as search_writer
    from .static_format import numbering
    from .whoosh_index import stamp

    live = search_writer.live_documents(ix)
    wanted = {e.id: e for e in site.entries}
    numbers = numbering((e.id, e.report.year, e.report.level) for e in site.entries).numbers
    changed = [e for e in site.entries if e.id not in live or live[e.id].fingerprint != stamp(e, numbers[e.id])]
    removed = tuple(sorted(set(live) - set(wanted)))
    added = sum(1 for e in changed if e.id not in live)
    delete = [live[i] for i in removed] + [live[e.id] for e in changed if e.id in live]
    drop = search_writer.segments_to_rewrite(ix, delete) if changed or removed else set()
    ids = {e.id for e in changed}
    # the live documents of dropped segments go into the new segments too
    changed += [wanted[i] for i, loc in live.items() if loc.segment in drop and i in wanted and i not in ids]
    return Plan(tuple(sorted(changed, key=lambda e: e.id)), numbers, tuple(delete), frozenset(drop), removed,
                added, len(ids) - added, len(wanted))


def _chunks(index_dir: str, plan: Plan, report_of: ReportOf, workers: int) -> list[tuple]:
    """One job per new segment: at least one per worker when there are many entries."""
    entries = list(plan.index)
    if not entries:
        return []
    rounds = -(-len(entries) // (CHUNK_DOCUMENTS * workers))  # every worker writes one segment a round
    count = min(len(entries), rounds * workers)
    size = -(-len(entries) // count)
    return [(index_dir, [(e, plan.numbers[e.id]) for e in entries[i:i + size]], report_of)
            for i in range(0, len(entries), size)]


def _index_chunk(job):
    from whoosh import index as whoosh_index

    from . import analysis
    from . import whoosh_segments as search_writer
    from .whoosh_index import document

    index_dir, entries, report_of = job
    reports = [full_report(e.report, report_of) for e, _ in entries]
    documents = [document(e, r, number) for (e, number), r in zip(entries, reports)]
    return search_writer.write_segment(whoosh_index.open_dir(index_dir), documents, analysis.analyse(reports))


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
