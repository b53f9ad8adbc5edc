"""Bulk segment writing: the same index as Whoosh's own writer, parallel chunks that
search like one segment, a bounded number of segments under one-at-a-time edits, and
no commit when publishing fails."""
from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh.index import TOC

from site_builder.search import whoosh_index as si
from site_builder.search import whoosh_update as search_update
from site_builder.search import whoosh_segments as search_writer
from site_builder.search.whoosh_update import update_index, updating_index

from search_fixtures import JUDGED, SPECS, make_site
from site_builder.workers import Pool


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
    monkeypatch.setattr(search_update, "CHUNK_DOCUMENTS", 3)
    with Pool(2) as pool, updating_index(site, tmp_path / "parallel", pool) as commit:
        commit()
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
    with Pool(2) as pool:
        with pytest.raises(RuntimeError):
            with updating_index(make_site(SPECS[:4]), path, pool):
                raise RuntimeError("the site could not be written")
        assert whoosh_index.open_dir(str(path)).doc_count() == 3
        assert si.search(path, SPECS[3][1], limit=None).total == 0
        with updating_index(make_site(SPECS[:4]), path, pool) as commit:
            assert whoosh_index.open_dir(str(path)).doc_count() == 3  # not before the site is published
            commit()
    # the fourth report is indexed and the abandoned segment swept
    assert whoosh_index.open_dir(str(path)).doc_count() == 4
    assert si.search(path, SPECS[3][1], limit=None).total >= 1
    assert _orphans(path) == []


def test_a_failing_chunk_fails_the_commit_and_commits_nothing(tmp_path):
    from dataclasses import replace

    from site_builder.model import Summary

    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    site = make_site(SPECS[:4])
    entries = tuple(replace(e, report=Summary.of(e.report, f"key-{e.id}")) for e in site.entries)
    with Pool(2) as pool:
        with pytest.raises(LookupError, match="lost report"):
            with updating_index(replace(site, entries=entries), path, pool, report_of=_lost_report) as commit:
                commit()
    assert whoosh_index.open_dir(str(path)).doc_count() == 3


def _lost_report(key: str):
    raise LookupError(f"the state lost report {key}")
