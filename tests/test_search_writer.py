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


def test_a_bulk_segment_holds_the_keys_and_fields_of_its_reports(tmp_path):
    """A segment written in bulk holds every key of search/analysis.py with its postings,
    and Whoosh's own reader reads it: the same documents, terms and stored fields."""
    from site_builder.search.analysis import analyse
    from site_builder.search.whoosh_segments import KeySource

    site = make_site()
    reports = [e.report for e in site.entries]
    keys = analyse(reports)
    documents = [si.document(e, e.report, n) for n, e in enumerate(site.entries)]
    (tmp_path / "bulk").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "bulk"), si.make_schema())
    search_writer.commit(ix, (), set(), [search_writer.write_segment(ix, documents, keys)])
    with ix.reader() as reader:
        assert reader.doc_count() == len(documents)
        assert [reader.stored_fields(d)["id"] for d in range(len(documents))] == [e.id for e in site.entries]
        assert list(reader.column_reader("id")) == [e.id for e in site.entries]
        terms = {t.decode("utf-8") for t in reader.lexicon(si.DOC_FIELD)}
        assert terms == set(keys.doc_keys) and {t.decode("utf-8") for t in reader.lexicon(si.POS_FIELD)} == \
            set(keys.pos_keys)
        source = KeySource(reader)
        codes = keys.codes()
        for k, key in enumerate(keys.doc_keys):
            at = keys.post_key == k
            found = source.doc_record(key)
            assert found.numbers.tolist() == keys.post_doc[at].tolist(), key
            assert found.codes.tolist() == codes[at].tolist() and found.parts.tolist() == keys.post_parts[at].tolist()
            assert found.title.tolist() == keys.post_title[at].tolist()
        for k, key in enumerate(keys.pos_keys[:300]):
            at = keys.occ_key == k
            found = source.pos_record(key)
            assert found.numbers.tolist() == sorted(set(keys.occ_doc[at].tolist())), key
            assert found.offsets.tolist() == keys.occ_offset[at].tolist()
            assert (found.lines >> 3).tolist() == keys.occ_line[at].tolist()
            assert found.regions.tolist() == keys.occ_region[at].tolist()


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
