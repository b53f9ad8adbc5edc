"""Building the static search index (the files of static_format.py) in the build's
worker pool, incrementally: an edit rebuilds one shard of reports and rewrites only the
buckets whose bytes changed.

Two stages, both in worker processes:

- per shard (the reports whose numbers share their top bits: a range of numbers): the
  keys of its reports (search/analysis.py), cut into one segment per bucket, with each
  segment's digest. The shard keeps its reports' prepared texts too, so an edit reads
  and normalises the edited report only. A shard whose reports did not change is not
  built again.
- per range of buckets: each bucket whose segments changed is merged from them (in
  number order, so a record is its shards' pieces end to end) into its files. The
  other buckets keep their files.

Everything is kept in a work folder outside the output (the state's static-search
folder), and published from there: only the files whose digest changed are written to
the output. Nothing in it is read with pickle.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import analysis
from . import static_format as fmt
from .documents import ReportOf, fingerprint, full_report
from .query import MAX_QUERY_CHARS, MAX_QUERY_TERMS
from ..model import Entry, Page, Report, Site
from ..text.chars import HAN_JS
from ..text.normalize import char_map
from ..text.stream import TOKENIZER_VERSION

BUNDLE_DIR = "search/index"  # <out_dir>/search/index/: the index's files
META_PATH = "search/index/meta.json"
CHAR_MAP_PATH = "search/t2s.js"  # the character map and the query limits, for search.js
SEARCH_FILES = (BUNDLE_DIR + "/", CHAR_MAP_PATH)  # the prefixes of the index's output paths
SHARD_REPORTS = 2000  # a shard's reports, at most (one report has a shard of its own: no limit)
RANGES = 64  # bucket ranges: jobs of the second stage
_VERSION = f"static-index {fmt.FORMAT} {TOKENIZER_VERSION} 4"


def write_static_search(site: Site, out_dir: Path, report_of: ReportOf | None = None,
                        work_dir: Path | None = None) -> None:
    """Write <out_dir>/search/index/ and <out_dir>/search/t2s.js for `site` (for tests and
    benchmarks: a build publishes them with the site). `work_dir` keeps the built shards
    between calls; without it a temporary folder is used."""
    from ..workers import Pool

    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="site-builder-search-") as tmp, Pool() as pool:
        with static_search_later(site, Path(work_dir or tmp), pool, report_of=report_of) as pages:
            if (out_dir / BUNDLE_DIR).exists():
                shutil.rmtree(out_dir / BUNDLE_DIR)
            for page in pages:
                target = out_dir / page.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(page.produce())


# --- the plan of an index ------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """What follows from the list of reports alone: their numbers, the shards, the
    bucket count."""


    numbers: fmt.Numbering
    shard_bits: int
    buckets: int
    shards: dict[int, tuple[Entry, ...]]  # shard -> its entries by number

    @property
    def reports(self) -> int:
        return len(self.numbers.numbers)


def layout(site: Site) -> Layout:
    numbers = fmt.numbering((e.id, e.report.year, e.report.level) for e in site.entries)
    shard_bits = _shard_bits(list(numbers.numbers.values()), numbers.slot_bits)
    shards: dict[int, list[Entry]] = {}
    for entry in site.entries:
        shards.setdefault(numbers.numbers[entry.id] >> shard_bits, []).append(entry)
    ordered = {s: tuple(sorted(entries, key=lambda e: numbers.numbers[e.id])) for s, entries in sorted(shards.items())}
    return Layout(numbers, shard_bits, fmt.bucket_count(len(site.entries)), ordered)


def _shard_bits(numbers: list[int], slot_bits: int) -> int:
    """A shard is the reports whose numbers agree but in the low `shard_bits` bits: the
    most bits (eight groups at most) that leave no shard more than SHARD_REPORTS reports.
    A function of the numbers alone; it changes, and every shard with it, only when the
    largest shard doubles or halves."""
    array = np.array(numbers, dtype=np.int64)
    bits = slot_bits + 3
    while bits > 0 and len(array) and np.unique(array >> bits, return_counts=True)[1].max() > SHARD_REPORTS:
        bits -= 1
    return bits


def _shard_name(shard: int) -> str:
    return f"{shard:x}"


def shard_digest(lay: Layout, shard: int) -> str:
    """What a shard's segments are made from: each report's number and parse-cache key
    (which stands for all of it: see documents.fingerprint), and the bucket count."""
    whole = hashlib.sha256(f"{_VERSION} {lay.buckets}".encode())
    for entry in lay.shards[shard]:
        whole.update(f"{entry.id} {lay.numbers.numbers[entry.id]} {fingerprint(entry)}\n".encode())
    return whole.hexdigest()


@contextmanager
def static_search_later(site: Site, work: Path, pool, store_path: Path | None = None,
                        report_of: ReportOf | None = None) -> Iterator[Iterator]:
    """The static search files of `site` as Pages, an iterator to chain after the site's
    pages: the shards whose reports changed are built in the pool's workers (from the
    reports stored at `store_path`, or `report_of`) while the site renders, the changed
    buckets when the iterator is reached, which waits for them. Holds the work folder's
    lock throughout."""
    work = Path(work)
    if report_of is None and store_path is not None:
        from ..content.stage import report_at

        report_of = partial(report_at, store_path)
    with _work_lock(work):
        lay = layout(site)
        _reset_if_other(work, lay)
        names = {_shard_name(s) for s in lay.shards}
        _keep_only(work / "shards", {f"{n}{suffix}" for n in names for suffix in (".json", ".seg", ".idx.npz",
                                                                                   ".prep.npz")})
        digests = {s: shard_digest(lay, s) for s in lay.shards}
        futures = [pool.submit(_build_shard, _shard_job(work, lay, s, digests[s], report_of))
                   for s in lay.shards if _stamp(work, s) != digests[s]]

        def pages() -> Iterator[Page]:
            for future in list(futures):
                future.result()
            futures.extend(pool.submit(_merge_buckets, job) for job in _merge_jobs(work, lay))
            for future in futures:
                future.result()
            yield from _pages(work, lay, site)
        try:
            yield pages()
        finally:
            for future in futures:
                future.cancel()
            for future in futures:
                if not future.cancelled():
                    future.exception()  # waited for: the folder is not left half written


# --- stage 1: shards -------------------------------------------------------------------------

def _shard_job(work: Path, lay: Layout, shard: int, digest: str, report_of):
    docs = tuple((e.id, lay.numbers.numbers[e.id], fingerprint(e),
                  e.report if isinstance(e.report, Report) else e.report.key) for e in lay.shards[shard])
    return str(work), _shard_name(shard), docs, lay.buckets, digest, report_of


def _build_shard(job) -> None:
    """A shard's segments (see _segments) and its prepared texts. The stamp is removed
    first and written last: a shard without one is built again."""
    work, name, docs, buckets, digest, report_of = job
    folder = Path(work) / "shards"
    (folder / f"{name}.json").unlink(missing_ok=True)
    cached = _read_prepared(folder / f"{name}.prep.npz")
    prepared = []
    for doc_id, _, fp, report in docs:
        known = cached.get(doc_id)
        if known is None or known[0] != fp:
            known = (fp, analysis.prepare(full_report(report, report_of)))
        prepared.append((doc_id, known))
    _write_prepared(folder / f"{name}.prep.npz", prepared)
    found = analysis.analyse([p for _, (_, p) in prepared])
    numbers = np.array([number for _, number, _, _ in docs], dtype=np.int64)
    segments = _segments(found, numbers, buckets)
    blob = fmt.MAGIC + b"".join(data for _, data in segments)  # a first byte no pickle has
    sizes = np.array([len(data) for _, data in segments], dtype=np.int64)
    _atomic(folder / f"{name}.seg", blob)
    index = {"bucket": np.array([b for b, _ in segments], dtype=np.int64), "offset": np.cumsum(sizes) - sizes + 1,
             "size": sizes, "digest": np.array([_digest64(data) for _, data in segments], dtype=np.uint64)}
    tmp = folder / f"{name}.idx.tmp.npz"
    np.savez(tmp, **index)
    os.replace(tmp, folder / f"{name}.idx.npz")
    _atomic(folder / f"{name}.json", json.dumps({"digest": digest}).encode())


def _stamp(work: Path, shard: int) -> str | None:
    try:
        return json.loads((work / "shards" / f"{_shard_name(shard)}.json").read_text(encoding="utf-8"))["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


_PREPARED_FORMAT = f"prepared 1 {TOKENIZER_VERSION}"


def _read_prepared(path: Path) -> dict[str, tuple[str, analysis.Prepared]]:
    """id -> (fingerprint, Prepared); empty when unreadable. A numpy archive read without
    pickle: the texts as one UTF-8 array, the regions as one array, a JSON header."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            head = json.loads(bytes(stored["head"]).decode("utf-8"))
            text = bytes(stored["text"]).decode("utf-8")
            regions = stored["regions"].tolist()
        if head["format"] != _PREPARED_FORMAT:
            return {}
        out, at, line = {}, 0, 0
        for doc_id, fp, chars, lines in head["docs"]:
            out[doc_id] = (fp, analysis.Prepared(text[at:at + chars], tuple(regions[line:line + lines])))
            at += chars
            line += lines
        return out
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return {}


def _write_prepared(path: Path, prepared: list[tuple[str, tuple[str, analysis.Prepared]]]) -> None:
    head = {"format": _PREPARED_FORMAT,
            "docs": [[doc_id, fp, len(p.text), len(p.regions)] for doc_id, (fp, p) in prepared]}
    text = "".join(p.text for _, (_, p) in prepared).encode("utf-8")
    regions = np.array([r for _, (_, p) in prepared for r in p.regions], dtype=np.int8)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, head=np.frombuffer(json.dumps(head, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
             text=np.frombuffer(text, dtype=np.uint8), regions=regions)
    os.replace(tmp, path)


# A segment: the keys of one bucket in one shard, in directory order, each as
#   varint(bytes) key varint(documents) varint(first number) varint(last number)
#   varint(bytes) record  [doc-level: varint(bytes) title bits varint(bytes) part masks]
# where the record is the key's record of static_format.py for the shard's reports, its
# first number counted from 0 (merging makes it a difference from the shard before);
# part masks are empty when the key is in no mandated part in this shard.

class _Chunks(NamedTuple):
    """One byte string per key, all in one array: key k's is data[start[k]:start[k] + size[k]]."""

    data: np.ndarray  # uint8
    start: np.ndarray
    size: np.ndarray


def _chunks(data: bytes | np.ndarray, offsets: np.ndarray) -> _Chunks:
    """Chunks from bytes and the offsets where each key's starts (plus the end)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    return _Chunks(np.frombuffer(data, np.uint8) if isinstance(data, bytes) else data, offsets[:-1],
                   np.diff(offsets))


def _numbers(values: np.ndarray) -> _Chunks:
    """Each value as a varint."""
    data, offsets = fmt.varints(values)
    return _chunks(data, np.append(offsets, len(data)))


def _assemble(columns: list[_Chunks], order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each key's chunks of every column in turn, keys in `order`: the bytes and where
    each key's start (plus the end). No Python call per key."""
    sizes = np.stack([c.size[order] for c in columns])  # column x key
    total = sizes.sum(axis=0)
    key_start = np.cumsum(total) - total
    out = np.empty(int(total.sum()), dtype=np.uint8)
    before = np.zeros(len(order), dtype=np.int64)
    for column, size in zip(columns, sizes):
        rel = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
        out[np.repeat(key_start + before, size) + rel] = column.data[np.repeat(column.start[order], size) + rel]
        before += size
    return out, np.append(key_start, len(out))


def _segments(found: analysis.Analysis, numbers: np.ndarray, buckets: int) -> list[tuple[int, bytes]]:
    """(bucket, segment) for each bucket the shard has keys in, by bucket: every key's
    entry (see above) in directory order."""
    names, columns = [], []
    for part in (_doc_columns(found, numbers), _pos_columns(found, numbers)):
        if part is not None:
            names += part[0]
            columns.append(part[1])
    if not names:
        return []
    width = max(len(c) for c in columns)
    empty = lambda n: _Chunks(np.zeros(0, np.uint8), np.zeros(n, np.int64), np.zeros(n, np.int64))
    merged = []
    for i in range(width):  # the columns of all keys, positional keys without the last ones
        pieces = [c[i] if i < len(c) else empty(len(c[0].size)) for c in columns]
        base = np.cumsum([0] + [len(p.data) for p in pieces])
        merged.append(_Chunks(np.concatenate([p.data for p in pieces]),
                              np.concatenate([p.start + b for p, b in zip(pieces, base)]),
                              np.concatenate([p.size for p in pieces])))
    encoded = [name.encode("utf-8") for name in names]
    bucket = fmt.buckets_of(encoded, buckets)
    order = np.array(sorted(range(len(names)), key=lambda k: (int(bucket[k]), encoded[k])), dtype=np.int64)
    data, at = _assemble(merged, order)
    ordered = bucket[order]
    bounds = np.flatnonzero(np.append(True, ordered[1:] != ordered[:-1])).tolist() + [len(order)]
    blob = data.tobytes()
    return [(int(ordered[a]), blob[at[a]:at[b]]) for a, b in zip(bounds, bounds[1:])]


def _key_columns(names: list[str]) -> tuple[_Chunks, _Chunks]:
    encoded = [name.encode("utf-8") for name in names]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    return _numbers(lengths), _chunks(b"".join(encoded), np.append(np.cumsum(lengths) - lengths, lengths.sum()))


def _doc_columns(found: analysis.Analysis, numbers: np.ndarray):
    """The doc-level keys' names and entry columns."""
    if not len(found.post_key):
        return None
    key, number = found.post_key, numbers[found.post_doc]  # sorted by key, then document
    starts = np.flatnonzero(np.append(True, key[1:] != key[:-1]))
    ends = np.append(starts[1:], len(key))
    delta = number.copy()
    delta[1:] -= number[:-1]
    delta[starts] = number[starts]  # a key's first number is counted from 0
    data, offset = fmt.varints(delta << 4 | found.codes())
    offset = np.append(offset, len(data))
    record = _chunks(data, offset[np.append(starts, len(key))])
    masks = found.post_parts.astype(np.uint8)
    has_parts = np.maximum.reduceat(masks, starts) > 0
    title = _bits_by_key(found.post_title.astype(np.uint8)[:, None], starts, ends)
    parts = _bits_by_key((masks[:, None] >> np.arange(5, dtype=np.uint8)) & 1, starts, ends)
    parts = parts._replace(size=np.where(has_parts, parts.size, 0))
    names = [found.doc_keys[k] for k in key[starts].tolist()]
    klen, kbytes = _key_columns(names)
    return names, [klen, kbytes, _numbers(ends - starts), _numbers(number[starts]), _numbers(number[ends - 1]),
                   _numbers(record.size), record, _numbers(title.size), title, _numbers(parts.size), parts]


def _bits_by_key(bits: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> _Chunks:
    """Each key's rows of `bits` (one row of bits per posting) packed least significant
    first, each key's from a byte of its own."""
    width = bits.shape[1]
    nbytes = (width * (ends - starts) + 7) // 8
    byte_at = np.cumsum(nbytes) - nbytes
    flat = np.zeros(int(nbytes.sum()) * 8, dtype=np.uint8)
    row = np.arange(len(bits)) - np.repeat(starts, ends - starts)
    place = np.repeat(byte_at * 8, ends - starts) + row * width
    flat[(place[:, None] + np.arange(width)).reshape(-1)] = bits.reshape(-1)
    return _Chunks(np.packbits(flat, bitorder="little"), byte_at, nbytes)


def _pos_columns(found: analysis.Analysis, numbers: np.ndarray):
    """The positional keys' names and entry columns."""
    if not len(found.occ_key):
        return None
    first, counts, occurrence = found.positional()
    key, doc = found.occ_key[first], found.occ_doc[first]
    number = numbers[doc]
    new_key = np.append(True, key[1:] != key[:-1])
    delta = number.copy()
    delta[1:] -= number[:-1]
    delta[new_key] = number[new_key]  # a key's first number is counted from 0
    norm = found.norm[doc]
    has_norm, several = (norm > 0).astype(np.int64), (counts > 1).astype(np.int64)
    # per posting: its head, its class if not 0, its count - 2 if several, its occurrences' values
    size = 1 + has_norm + several + 2 * counts
    start = np.cumsum(size) - size
    values = np.empty(int(size.sum()), dtype=np.int64)
    values[start] = delta << 2 | has_norm << 1 | several
    values[(start + 1)[has_norm == 1]] = norm[has_norm == 1]
    values[(start + 1 + has_norm)[several == 1]] = counts[several == 1] - 2
    body = np.repeat(start + 1 + has_norm + several, 2 * counts) + np.arange(2 * int(counts.sum())) \
        - np.repeat(np.cumsum(2 * counts) - 2 * counts, 2 * counts)
    values[body] = occurrence
    data, offsets = fmt.varints(values)
    offsets = np.append(offsets, len(data))
    key_at = np.flatnonzero(new_key)
    bounds = np.append(key_at, len(key))
    record = _chunks(data, offsets[np.append(start, len(values))[bounds]])
    names = [found.pos_keys[k] for k in key[key_at].tolist()]
    klen, kbytes = _key_columns(names)
    return names, [klen, kbytes, _numbers(np.diff(bounds)), _numbers(number[key_at]), _numbers(number[bounds[1:] - 1]),
                   _numbers(record.size), record]


# --- stage 2: buckets --------------------------------------------------------------------------
#
# Buckets are merged in groups of 2**PARTS_SHIFT, the buckets of one part-mask file: a
# group whose segments changed is merged again whole, and each of its files written
# only if its bytes changed.

def _merge_jobs(work: Path, lay: Layout) -> list[tuple]:
    """A job per range of groups with a group whose segments changed: the work folder,
    the shards' names, and for each group to merge, the (shard, offset, size, digest)
    pieces of each of its buckets."""
    names = [_shard_name(s) for s in lay.shards]
    pieces: dict[int, list[tuple[int, int, int, int]]] = {}
    for i, name in enumerate(names):
        with np.load(work / "shards" / f"{name}.idx.npz", allow_pickle=False) as index:
            for b, offset, size, digest in zip(index["bucket"].tolist(), index["offset"].tolist(),
                                               index["size"].tolist(), index["digest"].tolist()):
                pieces.setdefault(b, []).append((i, offset, size, digest))
    size = 1 << fmt.PARTS_SHIFT
    groups = lay.buckets >> fmt.PARTS_SHIFT
    per_job = max(1, -(-groups // RANGES))
    jobs = []
    for first in range(0, groups, per_job):
        todo = {}
        for group in range(first, min(groups, first + per_job)):
            buckets = range(group * size, min(lay.buckets, (group + 1) * size))
            digest = _inputs_digest(names, [(b, p) for b in buckets for p in pieces.get(b, [])])
            stamp = _read_json(work / "merged" / f"{group:x}.json")
            if stamp.get("inputs") == digest and all((work / "out" / f).is_file() for f in stamp.get("files", {})):
                continue
            todo[group] = (digest, {b: pieces.get(b, []) for b in buckets})
        if todo:
            jobs.append((str(work), names, todo, fmt.EXTERNAL))
    return jobs


def _inputs_digest(names: list[str], pieces) -> str:
    whole = hashlib.sha256(_VERSION.encode())
    for bucket, (i, _, size, digest) in pieces:
        whole.update(f"{bucket} {names[i]} {size} {digest}\n".encode())
    return whole.hexdigest()


def _merge_buckets(job) -> None:
    """Merge the buckets of each group of the job, write their files (bucket, external
    records, part masks) where their bytes changed, remove those no longer made, and
    write each group's stamp last."""
    work, names, todo, external = job
    work = Path(work)
    handles: dict[int, object] = {}
    try:
        for group, (digest, buckets) in sorted(todo.items()):
            stamp_path = work / "merged" / f"{group:x}.json"
            old = _read_json(stamp_path).get("files", {})
            stamp_path.unlink(missing_ok=True)
            files: dict[str, str] = {}
            masks = []
            for bucket, pieces in sorted(buckets.items()):
                merged = _merge(_read_pieces(work, names, pieces, handles))
                files.update(_write_bucket(work, bucket, merged, external))
                masks += [(bucket & ((1 << fmt.PARTS_SHIFT) - 1), k, item.documents, item.parts)
                          for k, item in enumerate(merged) if item.parts]
            if masks:
                path = fmt.parts_path(group)
                files[path] = _write_out(work, path, b"".join(
                    [fmt.varint(len(masks))] + [fmt.varint(b) + fmt.varint(k) + fmt.varint(n) for b, k, n, _ in masks]
                    + [m for *_, m in masks]))
            for stale in set(old) - set(files):
                (work / "out" / stale).unlink(missing_ok=True)
            _atomic(stamp_path, json.dumps({"inputs": digest, "files": files}, sort_keys=True).encode())
    finally:
        for handle in handles.values():
            handle.close()


def _read_pieces(work: Path, names: list[str], pieces, handles) -> list[bytes]:
    out = []
    for i, offset, size, _ in pieces:
        if i not in handles:
            handles[i] = open(work / "shards" / f"{names[i]}.seg", "rb")
        handles[i].seek(offset)
        out.append(handles[i].read(size))
    return out


class Merged(NamedTuple):
    key: str
    documents: int
    record: bytes  # static_format.py's record
    parts: bytes  # one part mask per document, b"" when in no part


def _merge(segments: list[bytes]) -> list[Merged]:
    """The keys of a bucket's segments (in shard order), in directory order: each key's
    pieces end to end."""
    found: dict[bytes, list[tuple]] = {}
    for segment in segments:
        reader = fmt.Reader(segment)
        while reader.at < len(segment):
            key = reader.bytes(reader.varint())
            documents, first, last = reader.varint(), reader.varint(), reader.varint()
            record = reader.bytes(reader.varint())
            if key[:1] != analysis.TRIPLE.encode():
                title = reader.bytes(reader.varint())
                parts = reader.bytes(reader.varint())
            else:
                title = parts = None
            found.setdefault(key, []).append((documents, first, last, record, title, parts))
    merged = []
    for key in sorted(found):
        pieces = found[key]
        if len(pieces) == 1:  # in one shard: its piece is the record (numbers counted from 0)
            documents, _, _, record, title, parts = pieces[0]
            merged.append(Merged(key.decode("utf-8"), documents, record + (title or b""), parts or b""))
            continue
        shift = 2 if key[:1] == analysis.TRIPLE.encode() else 4
        records, previous = [], 0
        for documents, first, last, record, _, _ in pieces:
            reader = fmt.Reader(record)
            head = reader.varint()
            low = head & ((1 << shift) - 1)
            records += [fmt.varint((first - previous) << shift | low), record[reader.at:]]
            previous = last
        documents = sum(p[0] for p in pieces)
        if pieces[0][4] is None:
            merged.append(Merged(key.decode("utf-8"), documents, b"".join(records), b""))
            continue
        bits = np.concatenate([np.unpackbits(np.frombuffer(p[4], np.uint8), count=p[0], bitorder="little")
                               for p in pieces])
        title = np.packbits(bits, bitorder="little").tobytes()
        parts = b""
        if any(p[5] for p in pieces):
            parts = fmt.pack_masks(np.concatenate([
                np.array(fmt.unpack_masks(p[5], p[0]) if p[5] else [0] * p[0], dtype=np.uint8) for p in pieces]))
        merged.append(Merged(key.decode("utf-8"), documents, b"".join(records) + title, parts))
    return merged


def _write_bucket(work: Path, bucket: int, merged, external_size: int) -> dict[str, str]:
    """Write b/<bucket>.bin and its external records; their paths -> digests."""
    heads, inline, files, external = [fmt.varint(len(merged))], [], {}, 0
    for key, documents, record, _ in merged:
        encoded = key.encode("utf-8")
        where = 0
        if len(record) > external_size:
            path = fmt.external_path(bucket, external)
            files[path] = _write_out(work, path, record)
            external += 1
            where = external
        else:
            inline.append(record)
        heads += [fmt.varint(len(encoded)), encoded, fmt.varint(documents), fmt.varint(len(record)), fmt.varint(where)]
    files[fmt.bucket_path(bucket)] = _write_out(work, fmt.bucket_path(bucket), b"".join(heads + inline))
    return files


def _write_out(work: Path, path: str, data: bytes) -> str:
    """Write a file of b/, x/ or p/ (after its first byte, the format: see static_format)
    unless it holds these bytes; its digest."""
    data = fmt.MAGIC + data
    target = work / "out" / path
    digest = hashlib.sha256(data).hexdigest()
    try:
        if target.stat().st_size == len(data) and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
            return digest
    except OSError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    _atomic(target, data)
    return digest


# --- pages ----------------------------------------------------------------------------------

def _pages(work: Path, lay: Layout, site: Site) -> list[Page]:
    """The index's output files: the buckets' (from the stamps of stage 2, so only the
    files whose digest changed are read), the report ids, regions, meta and the map."""
    pages: list[Page] = []
    for group in range(lay.buckets >> fmt.PARTS_SHIFT):
        files = _read_json(work / "merged" / f"{group:x}.json")["files"]
        for path, digest in sorted(files.items()):
            pages.append(Page(f"{BUNDLE_DIR}/{path}", digest, partial((work / "out" / path).read_bytes)))
    numbers = lay.numbers.numbers
    ids: dict[int, dict[str, str]] = {}
    count = fmt.ids_count(lay.reports)
    for report_id, number in numbers.items():
        ids.setdefault(number % count, {})[str(number)] = report_id
    regions = {numbers[e.id]: e.report.region for e in site.entries if e.report.region}
    groups: dict[int, int] = {}
    for number in numbers.values():
        groups[lay.numbers.group(number)] = groups.get(lay.numbers.group(number), 0) + 1
    made = [(f"{BUNDLE_DIR}/{fmt.ids_path(k)}", fmt._json(v)) for k, v in sorted(ids.items())]
    made += [(f"{BUNDLE_DIR}/regions.bin", fmt.regions_file(regions)),
             (META_PATH, fmt.meta_json(lay.reports, lay.numbers, groups, lay.buckets, bool(regions))),
             (CHAR_MAP_PATH, char_map_js().encode("utf-8"))]
    for path, data in made:
        pages.append(Page(path, hashlib.sha256(data).hexdigest(), lambda data=data: data))
    return pages


# --- the work folder ----------------------------------------------------------------------

def _reset_if_other(work: Path, lay: Layout) -> None:
    """Start the work folder afresh when it was made by another version of this code or
    for another bucket count (every bucket then moves)."""
    mark = work / "layout.json"
    wanted = {"version": _VERSION, "buckets": lay.buckets, "external": fmt.EXTERNAL}
    if _read_json(mark) != wanted:
        for name in ("shards", "merged", "out"):
            shutil.rmtree(work / name, ignore_errors=True)
        _atomic(mark, json.dumps(wanted).encode())


def _keep_only(folder: Path, names: set[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p for p in folder.iterdir() if p.name not in names):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _digest64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


@contextmanager
def _work_lock(work: Path) -> Iterator[None]:
    """An flock on the work folder: one index build at a time, across processes too."""
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def char_map_js() -> str:
    """The traditional -> simplified map as two strings of equal length (in code points),
    with the query limits."""
    pairs = sorted(char_map().items())
    source = "".join(k for k, _ in pairs)
    target = "".join(v for _, v in pairs)
    return ("/* Traditional -> simplified characters, from OpenCC's TSCharacters table "
            "(first candidate). Generated by site-builder. */\n"
            f"window.siteT2S={{from:{json.dumps(source, ensure_ascii=False)},"
            f"to:{json.dumps(target, ensure_ascii=False)},"
            f"han:{json.dumps(HAN_JS)},maxChars:{MAX_QUERY_CHARS},"
            f"maxTerms:{MAX_QUERY_TERMS}}};\n")
