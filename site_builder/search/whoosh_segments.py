"""Writing the Whoosh index in bulk, whole segments at a time, several in parallel, and
reading its keys back as arrays.

Whoosh's own writer sends every posting through a sorting pool, one Python call per
posting. A segment is written in Whoosh's own
format (codec W3) without it: the stored fields and columns through the codec's
per-document writer, the keys of search/analysis.py (fields `keys` and `triples`, see
whoosh_index.py) as the codec's posting blocks cut from arrays. Blocks are pickled with
protocol 4 (see BLOCK_PICKLE).

An update is: write new segments (one per chunk of documents, each in its own process
when there are many), mark replaced and removed documents deleted in the old segments,
then commit a new table of contents under the index's write lock. Segments that became
small and numerous, or mostly deleted, are rewritten into the new ones, so an index that
sees one edit at a time keeps a handful of segments.

`KeySource` reads a key's postings from every segment as arrays (for search/engine.py),
block by block: no Python call per posting.
"""
from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pickle import dumps

import numpy as np
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.index import TOC, LockError, clean_files
from whoosh.reading import SegmentReader
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from .static_format import decode_varints, varint, varints

DOC_FIELD, POS_FIELD = "keys", "triples"  # the index's fields of doc-level and positional keys

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

def write_segment(ix, documents: list[dict], keys):
    """Write `documents` (dicts of stored and column field values) and their keys (a
    search/analysis.Analysis of the same reports, in the same order) as one new segment
    of `ix`, which is not yet part of the index; return it (picklable) for `commit`."""
    schema = TOC.read(ix.storage, ix.indexname).schema
    codec = default_codec()
    segment = codec.new_segment(ix.storage, ix.indexname)
    perdoc = codec.per_document_writer(ix.storage, segment)
    postings: dict[str, dict[bytes, list]] = {}
    for docnum, document in enumerate(documents):
        perdoc.start_doc(docnum)
        for name in sorted(document):
            value = document[name]
            if value is None:
                continue
            field = schema[name]
            if field.indexed:
                terms = postings.setdefault(name, {})
                for btext, _, weight, vbytes in field.index(value):  # ids: one term each
                    terms.setdefault(btext, []).append((docnum, weight, vbytes, 0))
            perdoc.add_field(name, field, value if field.stored else None, 0)
            if field.column_type is not None:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
    perdoc.close()
    fields = codec.field_writer(ix.storage, segment)
    for name in sorted(postings.keys() | {DOC_FIELD, POS_FIELD}):
        fields.start_field(name, schema[name])
        if name == DOC_FIELD:
            _write_doc_keys(fields, keys, codec)
        elif name == POS_FIELD:
            _write_pos_keys(fields, keys, codec)
        else:
            terms = postings.pop(name)
            for btext in sorted(terms):
                fields.start_term(btext)
                for docnum, weight, vbytes, length in terms[btext]:
                    fields.add(docnum, weight, vbytes, length)
                fields.finish_term()
        fields.finish_field()
    fields.close()
    segment.set_doc_count(len(documents))
    return segment


# Whoosh's W3 codec writes a term's postings in blocks: a block is a pickled (document id
# deltas, weights, values) tuple, compressed, after a pickled tuple of the block's
# statistics; the term's TermInfo row points at its first block. Whoosh pickles a block
# with protocol 2, where every bytes value is a call to _codecs.encode; its reader takes
# any protocol, and protocol 4 stores bytes as bytes (blocks half the size, read 2.5x
# faster). A block here holds up to BLOCK postings: fewer blocks to read per key.
BLOCK_PICKLE = 4
BLOCK = 1024


def _write_doc_keys(fields, keys, codec) -> None:
    """The doc-level keys: per posting the weight code | in title << 4 | parts << 5 as
    its weight, its count in the body as its frequency."""
    if not len(keys.post_key):
        return
    key = keys.post_key
    bounds = np.flatnonzero(np.append(True, key[1:] != key[:-1])).tolist() + [len(key)]
    names = [keys.doc_keys[int(key[a])] for a in bounds[:-1]]
    weights = (keys.codes() | keys.post_title << 4 | keys.post_parts << 5).astype(np.float32)
    packed = keys.post_tf.astype(">u4").tobytes()
    _write_terms(fields, names, bounds, keys.post_doc, weights, lambda s, e: packed[4 * s:4 * e], codec)


def _write_pos_keys(fields, keys, codec) -> None:
    """The positional keys: per posting (key, document) the report's length class as its
    weight, varint(occurrences) and the occurrences' values (static_format.py) as its
    value."""
    if not len(keys.occ_key):
        return
    first, counts, occurrence = keys.positional()
    data, at = varints(occurrence)
    at = np.append(at, len(data)).tolist()
    bounds_occ = (2 * np.append(first, len(keys.occ_key))).tolist()
    encoded = [varint(c) + data[at[a]:at[b]] for c, a, b in zip(counts.tolist(), bounds_occ, bounds_occ[1:])]
    pkey, pdoc = keys.occ_key[first], keys.occ_doc[first]
    bounds = np.flatnonzero(np.append(True, pkey[1:] != pkey[:-1])).tolist() + [len(first)]
    names = [keys.pos_keys[int(pkey[a])] for a in bounds[:-1]]
    weights = keys.norm[pdoc].astype(np.float32)
    _write_terms(fields, names, bounds, pdoc, weights, lambda s, e: tuple(encoded[s:e]), codec)


def _write_terms(fields, names: list[str], bounds: list[int], docs: np.ndarray, weights: np.ndarray, values,
                 codec) -> None:
    """Write the terms `names` (in UTF-8 order), term k's postings being bounds[k]:bounds[k + 1]
    of `docs`, `weights`, `values(s, e)`: the blocks and term rows of Whoosh's own postings
    writer."""
    order = sorted(range(len(names)), key=names.__getitem__)
    ids = docs.tolist()
    delta = docs.copy()
    delta[1:] -= docs[:-1]
    deltas = delta.tolist()
    w = weights.tolist()
    comp = codec._compression
    postfile, tindex, prefix = fields._postfile, fields._tindex, pack_ushort(fields._fieldid)
    length = length_to_byte(0)
    for k in order:
        a, b = bounds[k], bounds[k + 1]
        offset = postfile.tell()
        pieces = [WHOOSH3_HEADER_MAGIC]
        for s in range(a, b, BLOCK):
            e = min(s + BLOCK, b)
            block = w[s:e]
            mini = None if block.count(1.0) == len(block) else block[0] if block.count(block[0]) == len(block) \
                else tuple(block)
            data = zlib.compress(dumps(((ids[s],) + tuple(deltas[s + 1:e]), mini, values(s, e)), BLOCK_PICKLE), comp)
            info = dumps((e - s, ids[e - 1], max(block), comp, length, length), 2)
            size = len(info) + len(data)
            pieces += [pack_int(-size if e == b else size), info, data]
        postfile.write(b"".join(pieces))
        info = W3TermInfo._struct.pack(False, float(sum(w[a:b])), b - a, length, length, max(w[a:b]), ids[a],
                                       ids[b - 1])
        tindex.add(prefix + names[k].encode("utf-8"), info + pack_long(offset) + pack_int(postfile.tell() - offset))


# --- reading -------------------------------------------------------------------------------

class KeySource:
    """The keys of an index (a Whoosh reader of all its segments) for search/engine.py:
    a key's postings from every segment, deleted documents left out, as arrays; document
    numbers are the reader's (segment offset + docnum)."""

    def __init__(self, reader):
        self.reader = reader
        self.leaves = list(reader.leaf_readers())
        self.reports = reader.doc_count()

    def columns(self, names) -> dict[str, np.ndarray]:
        """Each named column (an ID field) as an array of strings by document number."""
        out = {}
        for name in names:
            values: list[str] = []
            for leaf, _ in self.leaves:
                column = leaf.column_reader(name)
                values += [v.decode("utf-8") if isinstance(v, bytes) else v for v in column]
            out[name] = np.array(values, dtype=object) if values else np.zeros(0, dtype=object)
        return out

    def _postings(self, fieldname: str, key: str, with_values: bool):
        """(document numbers, weights, values or None) of a term in every segment."""
        text = key.encode("utf-8")
        docs, weights, values = [], [], []
        for leaf, base in self.leaves:
            if (fieldname, text) not in leaf._terms:
                continue
            matcher = leaf._terms.matcher(fieldname, text, leaf.schema[fieldname].format)
            leaf_docs, leaf_weights, leaf_values = [], [], []
            while True:
                matcher._read_data()
                ids, block_weights, block_values = matcher._data
                count = matcher._blocklength
                leaf_docs.append(np.cumsum(np.array(ids, dtype=np.int64)))
                if block_weights is None:
                    leaf_weights.append(np.ones(count))
                elif isinstance(block_weights, float):
                    leaf_weights.append(np.full(count, block_weights))
                else:
                    leaf_weights.append(np.array(block_weights, dtype=np.float64))
                if with_values:
                    leaf_values += block_values
                if matcher._lastblock:
                    break
                matcher._goto(matcher._nextoffset)
            found, found_weights = np.concatenate(leaf_docs), np.concatenate(leaf_weights)
            deleted = leaf.deleted_docs_set
            if deleted:
                keep = ~np.isin(found, np.fromiter(deleted, np.int64, len(deleted)))
                found, found_weights = found[keep], found_weights[keep]
                if with_values:
                    leaf_values = [v for v, k in zip(leaf_values, keep.tolist()) if k]
            docs.append(found + base)
            weights.append(found_weights)
            values += leaf_values
        if not docs:
            return None
        return np.concatenate(docs), np.concatenate(weights).astype(np.int64), values

    def doc_record(self, key: str):
        from .engine import DocRecord

        found = self._postings("keys", key, False)
        if found is None:
            return None
        docs, weights, _ = found
        return DocRecord(docs, weights & 15, (weights >> 4) & 1, weights >> 5)

    def pos_record(self, key: str):
        from .engine import PosRecord

        found = self._postings("triples", key, True)
        if found is None:
            return None
        docs, norms, encoded = found
        values = decode_varints(b"".join(encoded))
        first = np.zeros(len(encoded) + 1, dtype=np.int64)
        starts = np.empty(len(encoded), dtype=np.int64)
        at = 0
        for k in range(len(encoded)):  # a report's count, then two values per occurrence
            count = int(values[at])
            starts[k] = at + 1
            first[k + 1] = first[k] + count
            at += 1 + 2 * count
        total = int(first[-1])
        pairs = np.repeat(starts - 2 * first[:-1], np.diff(first)) + 2 * np.arange(total)
        head, step = values[pairs], values[pairs + 1]
        regions = head & 7
        same = np.zeros(total, dtype=bool)  # on the occurrence before's line
        same[1:] = head[1:] == head[:-1]
        same[first[:-1][np.diff(first) > 0]] = False
        offsets = _cumsum_by(step, first, restart=~same, start=step)
        return PosRecord(docs, norms, first, head, offsets, regions)


def _cumsum_by(values: np.ndarray, first: np.ndarray, restart: np.ndarray | None = None,
               start: np.ndarray | None = None) -> np.ndarray:
    """Running sums of `values` that start again at each report (first[k]) and, when
    given, wherever `restart` is set, from `start` there."""
    n = len(values)
    if not n:
        return values.copy()
    begin = np.zeros(n, dtype=bool)
    begin[first[:-1][np.diff(first) > 0]] = True
    if restart is not None:
        begin |= restart
    base = values.copy()
    if start is not None:
        base[begin] = start[begin]
    total = np.cumsum(base)
    at = np.flatnonzero(begin)
    offset = np.repeat(total[at] - base[at], np.diff(np.append(at, n)))
    return total - offset

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
