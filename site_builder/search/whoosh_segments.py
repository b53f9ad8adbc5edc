"""Writing the Whoosh index in bulk: whole segments at a time, several in parallel.

Whoosh's own writer sends every posting through a sorting pool and reads each
document's field length back from disk for it; on this archive (about 2,000 postings
per report) that cost about 30 ms per report. Here a segment is written in Whoosh's
own format (codec W3) without its writer: the token lists of the word-analysed fields
are gathered as arrays, sorted by term once with numpy, and cut into the codec's
posting blocks (about 3.5 ms per report); ids and keywords go through the codec's
field writer. The files are the ones Whoosh reads, the posting blocks pickled with a
newer protocol (see BLOCK_PICKLE); a test checks that both writers give the same
postings and term statistics.

An update is: write new segments (one per chunk of documents, each in its own process
when there are many), mark replaced and removed documents deleted in the old segments,
then commit a new table of contents under the index's write lock. Segments that became
small and numerous, or mostly deleted, are rewritten into the new ones, so an index that
sees one edit at a time keeps a handful of segments.

This module knows Whoosh, not reports: documents are dicts of field values.
"""
from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from pickle import dumps

import numpy as np
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.formats import Frequency, Positions
from whoosh.index import TOC, LockError, clean_files
from whoosh.reading import SegmentReader
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from .static_format import stable_order
from ..text.stream import code_numbers

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

def live_documents(ix, key: str = "id", stamp: str = "fingerprint") -> dict[str, Located]:
    """Every live document by its `key` column, with its `stamp` column (both sortable
    ID fields): read from columns, never from stored fields."""
    toc = TOC.read(ix.storage, ix.indexname)
    found: dict[str, Located] = {}
    for number, segment in enumerate(toc.segments):
        values = _columns(ix, toc.schema, segment, key, stamp)
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

def _words(field):
    """How the field's postings can be written in bulk: its analyser's `codes(value)`
    (tokenizer.stream_codes, or a list of tokens) or else `words(value)` (a list of
    tokens, None for a gap that takes a position), when its format's values are
    positions or a frequency; else None."""
    if field.analyzer is None or type(field.format) not in (Positions, Frequency):
        return None
    return getattr(field.analyzer, "codes", None) or getattr(field.analyzer, "words", None)


def write_segment(ix, documents: Iterable[dict]):
    """Write `documents` (dicts of field name -> value) as one new segment of `ix`, which
    is not yet part of the index; return it (picklable) for `commit`."""
    schema = TOC.read(ix.storage, ix.indexname).schema
    codec = default_codec()
    segment = codec.new_segment(ix.storage, ix.indexname)
    perdoc = codec.per_document_writer(ix.storage, segment)
    bulk: dict[str, _Occurrences] = {}
    postings: dict[str, dict[bytes, list]] = {}
    count = 0
    for docnum, document in enumerate(documents):
        perdoc.start_doc(docnum)
        for name in sorted(document):
            value = document[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            words = _words(field) if field.indexed else None
            if words is not None:
                length = bulk.setdefault(name, _Occurrences()).add(docnum, words(value), field.scorable)
            elif field.indexed:
                terms = postings.setdefault(name, {})
                items = list(field.index(value))  # ids and keywords: a few terms
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
    for name in sorted(postings.keys() | bulk.keys()):
        fields.start_field(name, schema[name])
        if name in bulk:
            _write_bulk(fields, schema[name].format, bulk.pop(name), codec)
        else:
            terms = postings.pop(name)  # freed as soon as they are written
            for btext in sorted(terms):
                fields.start_term(btext)
                for docnum, weight, vbytes, length in terms[btext]:
                    fields.add(docnum, weight, vbytes, length)
                fields.finish_term()
        fields.finish_field()
    fields.close()
    segment.set_doc_count(count)
    return segment


# --- postings in bulk ----------------------------------------------------------------------
# Whoosh's W3 codec writes a term's postings in blocks of `blocklimit`: a block is a
# pickled (document id deltas, weights, values) tuple, compressed, after a pickled tuple
# of the block's statistics; the term's TermInfo row points at its first block. Here the
# occurrences of a whole segment are sorted once with numpy, and each block's pieces are
# cut from arrays, with no Python call per posting but the positions' encoding.
# Whoosh pickles a block with protocol 2, where every bytes value is a call to
# _codecs.encode; its reader takes any protocol, and protocol 4 stores bytes as bytes:
# blocks half the size, pickled six times and compressed twice as fast, read 2.5x faster.
BLOCK_PICKLE = 4


class _Vocabulary(dict):
    """Term -> number, in order of first appearance; a gap (None) is 0."""

    def __init__(self):
        super().__init__({None: 0})

    def __missing__(self, term):
        self[term] = number = len(self)
        return number


class _Occurrences:
    """Where each term of one field occurs in the segment's documents, gathered one
    document at a time (term numbers and positions as arrays)."""

    def __init__(self):
        self.vocabulary = _Vocabulary()
        self.known: dict[int, int] = {}  # stream code -> number (see tokenizer.code_numbers)
        self.terms: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []
        self.docs: list[int] = []
        self.counts: list[int] = []
        self.lengths: list[int] = []  # the posting's length: the stored field length

    def add(self, docnum: int, words, scorable: bool) -> int:
        """Add one document's words (a list of tokens, or tokenizer.stream_codes' codes and
        texts); return the field length (tokens) when `scorable`."""
        if isinstance(words, tuple):
            numbers = code_numbers(*words, self.known, self.vocabulary.__getitem__)
        else:
            words = words if isinstance(words, list) else list(words)
            numbers = np.fromiter(map(self.vocabulary.__getitem__, words), np.int32, len(words))
        at = np.flatnonzero(numbers).astype(np.int32)
        if not len(at):
            return 0
        self.terms.append(numbers[at])
        self.positions.append(at)
        self.docs.append(docnum)
        self.counts.append(len(at))
        length = len(at) if scorable else 0
        self.lengths.append(byte_to_length(length_to_byte(length)) if length else 0)
        return length


def _write_bulk(fields, fmt, found: _Occurrences, codec) -> None:
    """Write one field's postings (its field already started in `fields`, a W3FieldWriter):
    the blocks and term rows Whoosh's own postings writer makes of the same postings,
    blocks pickled with BLOCK_PICKLE."""
    if not found.docs:
        return
    names = sorted(t for t in found.vocabulary if t is not None)  # str order is UTF-8 order
    rank = np.zeros(len(found.vocabulary), np.int32)
    rank[np.fromiter(map(found.vocabulary.__getitem__, names), np.int32, len(names))] = np.arange(len(names))
    counts = np.array(found.counts)
    key = rank[np.concatenate(found.terms)]
    order = stable_order(key)  # by term; document and position order is kept
    key = key[order]
    doc = np.repeat(np.array(found.docs, np.int64), counts)[order]
    position = np.concatenate(found.positions).astype(np.int64)[order]
    length = np.repeat(np.array(found.lengths, np.int64), counts)[order]
    del found, order, counts
    # postings: runs of one (term, document)
    n = len(key)
    new = np.ones(n, dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (doc[1:] != doc[:-1])
    starts = np.flatnonzero(new)
    freq = np.diff(np.append(starts, n))
    term_of = key[starts]
    term_starts = np.flatnonzero(np.append(True, term_of[1:] != term_of[:-1]))
    term_bounds = np.append(term_starts, len(starts)).tolist()
    weight = freq * fmt.field_boost
    values = _values(fmt, position, starts, freq)
    del position, key
    post_doc = doc[starts]
    delta = post_doc.copy()
    delta[1:] -= post_doc[:-1]
    ids, deltas = post_doc.tolist(), delta.tolist()
    weights, lengths = weight.astype(np.float32).tolist(), length[starts].tolist()
    sums = np.add.reduceat(weight.astype(np.float32).astype(np.float64), term_starts).tolist()
    limit, comp = codec._blocklimit, codec._compression
    postfile, tindex, prefix = fields._postfile, fields._tindex, pack_ushort(fields._fieldid)
    for number, (a, b) in enumerate(zip(term_bounds, term_bounds[1:])):
        offset = postfile.tell()
        pieces = [WHOOSH3_HEADER_MAGIC]
        for s in range(a, b, limit):
            e = min(s + limit, b)
            w = weights[s:e]
            mini = None if w.count(1.0) == len(w) else w[0] if w.count(w[0]) == len(w) else tuple(w)
            data = zlib.compress(dumps(((ids[s],) + tuple(deltas[s + 1:e]), mini, values(s, e)), BLOCK_PICKLE),
                                 comp)
            info = dumps((e - s, ids[e - 1], max(w), comp, length_to_byte(min(lengths[s:e])),
                          length_to_byte(max(lengths[s:e]))), 2)
            size = len(info) + len(data)
            pieces += [pack_int(-size if e == b else size), info, data]
        postfile.write(b"".join(pieces))
        info = W3TermInfo._struct.pack(False, sums[number], b - a, length_to_byte(min(lengths[a:b])),
                                       length_to_byte(max(lengths[a:b])), max(weights[a:b]), ids[a], ids[b - 1])
        tindex.add(prefix + names[number].encode("utf-8"),
                   info + pack_long(offset) + pack_int(postfile.tell() - offset))


def _values(fmt, position: np.ndarray, starts: np.ndarray, freq: np.ndarray):
    """values(s, e): the block value of postings s..e: for positions, a tuple of each
    posting's encoded positions (Positions.encode); for a frequency, the packed counts."""
    if type(fmt) is Frequency:
        packed = freq.astype(">u4").tobytes()
        return lambda s, e: packed[4 * s:4 * e]
    delta = position.copy()
    delta[1:] -= position[:-1]
    delta[starts] = position[starts]  # a posting's first position is absolute
    deltas = delta.tolist()
    single = _Single()
    encoded = [single[deltas[s]] if f == 1 else pack_uint(f) + dumps(deltas[s:s + f], 2)
               for s, f in zip(starts.tolist(), freq.tolist())]
    return lambda s, e: tuple(encoded[s:e])


class _Single(dict):
    """Positions.encode([p]) by p: most terms occur once in a report."""

    def __missing__(self, p):
        self[p] = value = pack_uint(1) + dumps([p], 2)
        return value


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
