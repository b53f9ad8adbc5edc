"""Bulk segment writing: the same index as Whoosh's own writer, parallel chunks that
search like one segment, a bounded number of segments under one-at-a-time edits, and
no commit when publishing fails."""
from __future__ import annotations

import time

import pytest
from whoosh import index as whoosh_index
from whoosh.index import TOC

from site_builder.search import whoosh_index as si
from site_builder.search import whoosh_update as search_update
from site_builder.search import whoosh_segments as search_writer
from site_builder.search.whoosh_update import update_index, updating_index

from search_fixtures import JUDGED, SPECS, make_site
from site_builder.build import state_dir


def _postings(reader, fieldname, text):
    matcher = reader.postings(fieldname, text)
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value()))
        matcher.next()
    return out


def _term_stats(reader, fieldname, text):
    info = reader.term_info(fieldname, text)
    return (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight(),
            info.min_id(), info.max_id())


def _documents():
    return [si.document(e, e.report) for e in make_site().entries]


def test_bulk_segment_holds_what_whooshs_own_writer_writes(tmp_path):
    documents = _documents()
    (tmp_path / "own").mkdir()
    (tmp_path / "bulk").mkdir()
    own = whoosh_index.create_in(str(tmp_path / "own"), si.make_schema())
    writer = own.writer()
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    bulk = whoosh_index.create_in(str(tmp_path / "bulk"), si.make_schema())
    search_writer.commit(bulk, (), set(), [search_writer.write_segment(bulk, documents)])

    with own.reader() as a, bulk.reader() as b:
        terms = list(a.all_terms())
        assert terms == list(b.all_terms()) and len(terms) > 500
        for fieldname, text in terms:
            assert _postings(a, fieldname, text) == _postings(b, fieldname, text), (fieldname, text)
            assert _term_stats(a, fieldname, text) == _term_stats(b, fieldname, text), (fieldname, text)
        assert a.doc_count() == b.doc_count() == len(documents)
        for docnum in range(len(documents)):
            assert a.stored_fields(docnum) == b.stored_fields(docnum)
            for name in ("title", "content", "words"):
                assert a.doc_field_length(docnum, name) == b.doc_field_length(docnum, name) > 0
        for name in ("title", "content", "words"):
            assert a.field_length(name) == b.field_length(name)
            assert a.max_field_length(name) == b.max_field_length(name)
        assert list(a.column_reader("id")) == list(b.column_reader("id"))


def _segments(path) -> int:
    return len(TOC.read(whoosh_index.open_dir(str(path)).storage, "MAIN").segments)


def _ranked(path, query):
    res = si.search(path, query, limit=None)
    return res.total, [(h.id, h.score) for h in res.hits]


def test_parallel_chunks_search_like_one_segment(tmp_path, monkeypatch):
    site = make_site()
    update_index(site, tmp_path / "serial")
    assert _segments(tmp_path / "serial") == 1
    monkeypatch.setattr(search_update, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(search_update, "CHUNK_DOCUMENTS", 3)
    update_index(site, tmp_path / "parallel")
    assert _segments(tmp_path / "parallel") == -(-len(SPECS) // 3)
    for query, _, _ in JUDGED:
        assert _ranked(tmp_path / "parallel", query) == _ranked(tmp_path / "serial", query), query


def test_one_edit_at_a_time_keeps_few_segments(tmp_path):
    path = tmp_path / "whoosh"
    update_index(make_site(), path)
    target = SPECS[0][0]
    for n in range(search_writer.MAX_SMALL_SEGMENTS * 2 + 3):
        stats = update_index(make_site(edit={target: f"第{n}次修改记录。"}), path)
        assert (stats.added, stats.updated, stats.deleted) == (0, 1, 0)
        assert _segments(path) <= search_writer.MAX_SMALL_SEGMENTS + 1
        assert [h.id for h in si.search(path, f"第{n}次修改", limit=None).hits] == [target]
        if n:
            assert si.search(path, f"第{n - 1}次修改", limit=None).total == 0
    update_index(make_site(edit={target: f"第{n}次修改记录。"}), tmp_path / "fresh")
    for query, _, _ in JUDGED:
        assert _ranked(path, query)[0] == _ranked(tmp_path / "fresh", query)[0], query


def _orphans(path) -> list[str]:
    """Files of segments the index does not use."""
    ix = whoosh_index.open_dir(str(path))
    used = {s.segment_id() for s in TOC.read(ix.storage, "MAIN").segments}
    return sorted(p.name for p in path.iterdir()
                  if p.is_file() and p.name.startswith("MAIN_") and p.name.split(".")[0] not in used
                  and not p.name.endswith((".toc", "WRITELOCK")))


def test_failed_publish_commits_nothing(tmp_path):
    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    with pytest.raises(RuntimeError):
        with updating_index(make_site(SPECS[:4]), path):
            raise RuntimeError("the site could not be written")
    assert whoosh_index.open_dir(str(path)).doc_count() == 3
    assert si.search(path, SPECS[3][1], limit=None).total == 0
    # the next good build indexes the fourth report and sweeps the abandoned segment
    assert update_index(make_site(SPECS[:4]), path).added == 1
    assert whoosh_index.open_dir(str(path)).doc_count() == 4
    assert si.search(path, SPECS[3][1], limit=None).total >= 1
    assert _orphans(path) == []


@pytest.fixture
def two_cores(monkeypatch):
    """updating_index hands the update to a worker process given a second core."""
    monkeypatch.setattr(search_update.os, "cpu_count", lambda: 2)


def test_an_update_in_a_worker_process_commits_only_when_told(tmp_path, two_cores):
    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    with pytest.raises(RuntimeError, match="could not be written"):
        with updating_index(make_site(SPECS[:4]), path):
            raise RuntimeError("the site could not be written")
    assert whoosh_index.open_dir(str(path)).doc_count() == 3
    with updating_index(make_site(SPECS[:4], edit={SPECS[0][0]: "新增踏勘规程。"}), path):
        assert whoosh_index.open_dir(str(path)).doc_count() == 3  # not before the body returns
    assert whoosh_index.open_dir(str(path)).doc_count() == 4
    assert [h.id for h in si.search(path, "踏勘规程", limit=None).hits] == [SPECS[0][0]]
    assert _orphans(path) == []


def test_a_worker_told_to_commit_early_commits_while_the_body_goes_on(tmp_path, two_cores):
    """The caller says so once the site is written, and stores its memo meanwhile; what
    fails after that does not take back an index of the site that is published."""
    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    with pytest.raises(RuntimeError, match="the memo could not be stored"):
        with updating_index(make_site(SPECS[:4]), path) as commit:
            commit()
            deadline = time.monotonic() + 30
            while whoosh_index.open_dir(str(path)).doc_count() != 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert whoosh_index.open_dir(str(path)).doc_count() == 4  # before the body ends
            raise RuntimeError("the memo could not be stored")
    assert whoosh_index.open_dir(str(path)).doc_count() == 4
    assert si.search(path, SPECS[3][1], limit=None).total >= 1 and _orphans(path) == []


def test_a_worker_process_reads_the_id_columns_its_predecessor_stored(tmp_path, two_cores):
    """What the worker keeps in the index folder: the id and fingerprint columns of the
    segments it read, which the next build's worker takes instead of reading them again."""
    path = tmp_path / "whoosh"
    site = make_site(SPECS[:4])
    update_index(site, path)
    with updating_index(site, path):
        pass
    stored = search_writer.load_columns(path)
    segments = [seg.segment_id() for seg in TOC.read(whoosh_index.open_dir(str(path)).storage, "MAIN").segments]
    assert {known[0] for known in stored} == set(segments) and segments
    # taken at its word: a fingerprint changed there makes that report look edited
    known = next(iter(stored))
    stored[known] = [(doc_id, "stale" if n == 0 else stamp) for n, (doc_id, stamp) in enumerate(stored[known])]
    search_writer.store_columns(path, stored)
    with updating_index(site, path):
        pass
    after = TOC.read(whoosh_index.open_dir(str(path)).storage, "MAIN").segments
    assert len(after) == len(segments) + 1 and sum(seg.doc_count() for seg in after) == 4
    # a damaged file is as none: the columns are read from the segments
    (path / search_writer.COLUMNS_FILE).write_bytes(b"not a pickle")
    with updating_index(site, path):
        pass
    assert len(TOC.read(whoosh_index.open_dir(str(path)).storage, "MAIN").segments) == len(after)
    assert whoosh_index.open_dir(str(path)).doc_count() == 4 and _orphans(path) == []


def test_a_failing_worker_process_fails_the_update_and_commits_nothing(tmp_path, two_cores):
    from dataclasses import replace

    from site_builder.model import Summary

    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    site = make_site(SPECS[:4])
    entries = tuple(replace(e, report=Summary.of(e.report, f"key-{e.id}")) for e in site.entries)
    with pytest.raises(RuntimeError, match="(?s)updating the search index failed.*FileNotFoundError"):
        with updating_index(replace(site, entries=entries), path, _lost_report):
            pass
    assert whoosh_index.open_dir(str(path)).doc_count() == 3


def _lost_report(key: str):
    raise FileNotFoundError(f"parse cache lost report {key}; rebuild")


def test_a_command_line_build_never_loads_whoosh(tmp_path, small_archive):
    import subprocess
    import sys

    from conftest import REPO

    out = tmp_path / "output"
    child = ("import os, sys; os.cpu_count = lambda: 2; from site_builder.cli import main; "
             f"code = main(['build', '--content', {str(small_archive)!r}, '--output', {str(out)!r}]); "
             "print(code, [m for m in sys.modules if m.split('.')[0] == 'whoosh'])")
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, cwd=REPO)
    assert run.stdout.split("\n")[-2] == "0 []"  # its worker process opened, wrote and committed the index
    assert [h.id for h in si.search(state_dir(out) / "whoosh", "演陂镇", limit=None).hits]


def test_many_reports_with_a_report_of_that_cannot_be_pickled(tmp_path, monkeypatch):
    """Worker processes need report_of pickled; a closure is indexed in this process."""
    from dataclasses import replace

    from site_builder.model import Summary

    monkeypatch.setattr(search_update, "PARALLEL_THRESHOLD", 2)
    site = make_site()
    reports = {f"key-{e.id}": e.report for e in site.entries}
    entries = tuple(replace(e, report=Summary.of(e.report, f"key-{e.id}")) for e in site.entries)
    stats = update_index(replace(site, entries=entries), tmp_path / "whoosh", lambda key: reports[key])
    assert stats.added == len(SPECS) and _segments(tmp_path / "whoosh") == 1


def test_kept_columns_give_the_same_plans_as_reading_the_index(tmp_path):
    """A process that updates again and again keeps the segments' id columns: after edits,
    additions and removals (new segments, deletions, rewritten ones) its plans are the
    ones read from the index, and the index finds what the last site holds."""
    path, columns = tmp_path / "whoosh", {}
    steps = [make_site(SPECS[:5]), make_site(SPECS[:5], edit={SPECS[0][0]: "新增踏勘规程。"}),
             make_site(SPECS), make_site(SPECS[1:]), make_site(SPECS[1:], edit={SPECS[2][0]: "又增一句。"})]
    for site in steps:
        ix = search_update._open_or_create(path)
        assert search_update._plan(ix, site, columns) == search_update._plan(ix, site)
        with updating_index(site, path, columns=columns):
            pass
        assert search_writer.live_documents(whoosh_index.open_dir(str(path)), columns=columns) == \
            search_writer.live_documents(whoosh_index.open_dir(str(path)))
    assert columns  # and they were used
    assert {h.id for h in si.search(path, "又增一句", limit=None).hits} == {SPECS[2][0]}
    assert si.search(path, "踏勘规程", limit=None).total == 0  # that report is gone
