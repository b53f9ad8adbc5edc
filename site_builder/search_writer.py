"""Writing the Whoosh index in bulk: whole segments at a time, several in parallel.

Whoosh's own writer sends every posting through a sorting pool and reads each
document's field length back from disk for it; on this archive (about 2,000 postings
per report) that cost about 30 ms per report. Here a segment is written straight
through Whoosh's codec: each document's postings are computed once (from token lists,
without Whoosh's token objects), grouped by term in memory and handed to the codec's
field writer in term order. The files are the ones Whoosh writes; a test checks that
both writers give the same postings.

An update is: write new segments (one per chunk of documents, each in its own process
when there are many), mark replaced and removed documents deleted in the old segments,
then commit a new table of contents under the index's write lock. Segments that became
small and numerous, or mostly deleted, are rewritten into the new ones, so an index that
sees one edit at a time keeps a handful of segments.

This module knows Whoosh, not reports: documents are dicts of field values.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from whoosh.codec import default_codec
from whoosh.formats import Frequency, Positions
from whoosh.index import TOC, LockError, clean_files
from whoosh.reading import SegmentReader
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

SMALL_SEGMENT = 256  # documents: a segment below this is "small"
MAX_SMALL_SEGMENTS = 8  # more small segments than this: rewrite them into one
MAX_DELETED_SHARE = 0.5  # a segment with more deleted documents than this is rewritten
LOCK_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Located:
    segment: int  # position in the table of contents
    docnum: int  # inside that segment
    fingerprint: str


# --- reading what is there ---------------------------------------------------------------

def live_documents(ix, key: str = "id", stamp: str = "fingerprint", columns: dict | None = None
                   ) -> dict[str, Located]:
    """Every live document by its `key` column, with its `stamp` column (both sortable
    ID fields): read from columns, never from stored fields. A segment's columns never
    change (only which of its documents are deleted), so a process that updates again
    and again passes a `columns` dict where they are kept by segment id."""
    toc = TOC.read(ix.storage, ix.indexname)
    found: dict[str, Located] = {}
    for number, segment in enumerate(toc.segments):
        known = (segment.segment_id(), key, stamp)
        values = columns.get(known) if columns is not None else None
        if values is None:
            values = _columns(ix, toc.schema, segment, key, stamp)
            if columns is not None:
                columns[known] = values
        for docnum, (value, stamped) in enumerate(values):
            if not segment.is_deleted(docnum):
                found[value] = Located(number, docnum, stamped)
    return found


def _columns(ix, schema, segment, key: str, stamp: str) -> list[tuple[str, str]]:
    reader = SegmentReader(ix.storage, schema, segment)
    try:
        keys, stamps = reader.column_reader(key), reader.column_reader(stamp)
        return [(keys[docnum], stamps[docnum]) for docnum in range(segment.doc_count_all())]
    finally:
        reader.close()


def segments_to_rewrite(ix, deleting: Iterable[Located]) -> set[int]:
    """The segments whose live documents should be written again in this update: mostly
    deleted ones (counting `deleting`), and all small ones once there are too many."""
    segments = TOC.read(ix.storage, ix.indexname).segments
    deleted = [s.deleted_count() for s in segments]
    for located in deleting:
        deleted[located.segment] += 1
    rewrite = {i for i, s in enumerate(segments)
               if deleted[i] > MAX_DELETED_SHARE * s.doc_count_all()}
    small = [i for i, s in enumerate(segments) if s.doc_count_all() - deleted[i] < SMALL_SEGMENT]
    if len(small) > MAX_SMALL_SEGMENTS:
        rewrite.update(small)
    return rewrite


# --- writing -----------------------------------------------------------------------------

def field_postings(field, value, single: dict | None = None) -> list[tuple[bytes, int, float, bytes]]:
    """(term bytes, frequency, weight, encoded value) of every term of one field value,
    exactly as `field.index(value)` gives them. An analyzer with a `words(value)` method
    (a list of tokens, None for a gap that takes a position) is read directly. `single`
    memoises the encoding of a lone position (most terms occur once in a report)."""
    words = getattr(field.analyzer, "words", None) if field.analyzer is not None else None
    fmt = field.format
    if words is None or type(fmt) not in (Positions, Frequency):
        return list(field.index(value))
    positions: dict[str, list[int]] = {}
    for pos, word in enumerate(words(value)):
        if word is not None:
            positions.setdefault(word, []).append(pos)
    boost = fmt.field_boost
    if type(fmt) is Positions:
        encode, single = fmt.encode, {} if single is None else single
        out = []
        for w, p in positions.items():
            if len(p) == 1:
                vbytes = single.get(p[0])
                if vbytes is None:
                    vbytes = single[p[0]] = encode(p)
            else:
                vbytes = encode(p)
            out.append((w.encode("utf-8"), len(p), len(p) * boost, vbytes))
        return out
    return [(w.encode("utf-8"), len(p), len(p) * boost, pack_uint(len(p))) for w, p in positions.items()]


def write_segment(ix, documents: Iterable[dict]):
    """Write `documents` (dicts of field name -> value) as one new segment of `ix`, which
    is not yet part of the index; return it (picklable) for `commit`."""
    schema = TOC.read(ix.storage, ix.indexname).schema
    codec = default_codec()
    segment = codec.new_segment(ix.storage, ix.indexname)
    perdoc = codec.per_document_writer(ix.storage, segment)
    postings: dict[str, dict[bytes, list]] = {}
    single: dict[int, bytes] = {}  # Positions.encode([n]) by n
    count = 0
    for docnum, document in enumerate(documents):
        perdoc.start_doc(docnum)
        for name in sorted(document):
            value = document[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if field.indexed:
                terms = postings.setdefault(name, {})
                items = field_postings(field, value, single)
                if field.scorable:
                    length = sum(freq for _, freq, _, _ in items)
                stored_length = byte_to_length(length_to_byte(length)) if length else 0
                for btext, _, weight, vbytes in items:
                    terms.setdefault(btext, []).append((docnum, weight, vbytes, stored_length))
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type is not None:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        count = docnum + 1
    perdoc.close()
    fields = codec.field_writer(ix.storage, segment)
    for name in sorted(postings):
        fields.start_field(name, schema[name])
        terms = postings[name]
        for btext in sorted(terms):
            fields.start_term(btext)
            for docnum, weight, vbytes, length in terms[btext]:
                fields.add(docnum, weight, vbytes, length)
            fields.finish_term()
        fields.finish_field()
        del postings[name]  # free the field's postings as soon as they are written
    fields.close()
    segment.set_doc_count(count)
    return segment


@contextmanager
def write_lock(ix):
    """Hold the index's write lock (an flock: a killed holder releases it)."""
    lock = ix.lock("WRITELOCK")
    deadline = time.monotonic() + LOCK_TIMEOUT
    while not lock.acquire():
        if time.monotonic() > deadline:
            raise LockError(f"the search index in {ix.storage.folder} is locked by another build")
        time.sleep(0.1)
    try:
        yield
    finally:
        lock.release()


def commit(ix, delete: Iterable[Located], drop: set[int], add: list) -> None:
    """Make the index: the old segments minus `drop` (by position) with the `delete`d
    documents marked, then the new segments `add`; remove the files no segment uses any
    more. Call it holding `write_lock`, after reading the positions under the same lock."""
    toc = TOC.read(ix.storage, ix.indexname)
    segments = toc.segments
    for located in delete:
        if located.segment not in drop:
            segments[located.segment].delete_document(located.docnum)
    kept = [s for i, s in enumerate(segments)
            if i not in drop and s.deleted_count() < s.doc_count_all()]
    final = kept + [s for s in add if s.doc_count_all()]
    generation = toc.generation + 1
    TOC(toc.schema, final, generation).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, generation, final)
