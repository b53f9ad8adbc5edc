"""The static search index: an inverted index of the token stream, in files that
static/search.js fetches as a query needs them. Written from the model (the same stream
as the Whoosh index), one shard of reports at a time; a shard's files depend on its
reports only, so a change rewrites its shard and nothing else.

Layout (under search/index/ in the output):

- meta.json: {"format", "reports", "shards": [{"name", "reports", "buckets"}],
  "filters": {"year"|"place"|"level": {value: count}}};
- <shard>/docs.bin: varint(reports), then per report in shard order: varint(length of its
  stream) varint(length of its title's stream) (what ranking needs);
- <shard>/ids-<k>.json: the ids of the shard's reports 64k .. 64k+63, a JSON array (only
  the results shown need them);
- <shard>/<bucket>.bin (bucket in hex, every bucket of the shard written, possibly empty):
  the postings of the tokens whose FNV-1a hash (of the UTF-8 bytes) falls into it, modulo
  the shard's bucket count. Besides the stream's tokens there are two kinds of keys no
  text produces: CHAR + a Han character (the positions whose token starts with it: what a
  one-character query looks for) and FILTER + "year=2023" (the reports with that value,
  at position 0). A bucket file is a directory, then the postings:

      varint(tokens)
      per token, sorted by UTF-8 bytes: varint(len(token)) token varint(documents)
                                         varint(bytes of its postings)
      per token, in the same order, per document:
          varint(document - previous document) varint(positions)
          varint(position - previous position) per position

  (varints little-endian base 128; "previous" starts at 0 for each token and each
  document). A query decodes the postings of the tokens it looks for only.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..text.chars import is_han
from ..text.normalize import normalize
from ..text.stream import code_numbers, stream, stream_codes

FORMAT = 2
CHAR, FILTER = "\x00", "\x01"  # key prefixes that no stream token has
FILTERS = ("year", "place", "level")
IDS_PER_FILE = 64
MIN_BUCKETS, MAX_BUCKETS = 16, 1024
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


def varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def bucket_count(reports: int) -> int:
    """Buckets of a shard: about one per report, a power of two, within bounds."""
    count = MIN_BUCKETS
    while count < reports and count < MAX_BUCKETS:
        count *= 2
    return count


def fnv1a(text: str) -> int:
    h = _FNV_OFFSET
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket_of(token: str, buckets: int) -> int:
    return fnv1a(token) % buckets


def bucket_name(number: int) -> str:
    return f"{number:03x}.bin"


def ids_name(number: int) -> str:
    return f"ids-{number}.json"


def file_names(reports: int) -> list[str]:
    """The names of a shard's files, sorted: they follow from its number of reports."""
    return sorted(["docs.bin", *map(ids_name, range(-(-reports // IDS_PER_FILE))),
                   *map(bucket_name, range(bucket_count(reports)))])


@dataclass(frozen=True, slots=True)
class Document:
    """One report as the index sees it: its id, filter values, the length of its title's
    stream, and its stream as numbers into a vocabulary (-1 at gaps)."""

    id: str
    year: str
    place: str
    level: str
    title_length: int
    numbers: np.ndarray  # int32


def document(id: str, title: str, text: str, filters: tuple[str, str, str],
             vocabulary: dict[str, int], known: dict[int, int]) -> Document:
    """Stream a report; tokens new to `vocabulary` are added to it. `known`: the shard's
    numbers of stream codes (see code_numbers), kept across its documents."""
    codes, others = stream_codes(normalize(title + "\n" + text))
    numbers = code_numbers(codes, others, known, partial(_number, vocabulary))
    title_length = len(stream(normalize(title)))
    return Document(id, *filters, title_length, numbers)


def _number(vocabulary: dict[str, int], token: str | None) -> int:
    return -1 if token is None else vocabulary.setdefault(token, len(vocabulary))


def shard_files(documents: Iterable[Document], vocabulary: dict[str, int]) -> dict[str, bytes]:
    """The files of one shard (see file_names), by name inside the shard.

    Vectorised: the streams become arrays of (token rank, document, position), sorted by
    rank (bucket, then token) and encoded in one pass: no Python object per position.
    Tokens of `vocabulary` that no document uses are left out. Arrays are 32-bit (a
    shard's positions and tokens are far fewer than 2**31): half the memory traffic."""
    documents = list(documents)
    buckets = bucket_count(len(documents))
    # Occurrences as (token number, document, position), in three parts: the streams; the
    # CHAR key of each position whose token starts with a Han character; each report's
    # FILTER keys at position 0. Each part is in (document, position) order.
    numbers = np.concatenate([np.zeros(0, dtype=np.int32)] + [d.numbers for d in documents]).astype(np.int32)
    lengths = np.array([len(d.numbers) for d in documents], dtype=np.int64)
    doc = np.repeat(np.arange(len(documents), dtype=np.int32), lengths)
    position = np.arange(len(numbers), dtype=np.int32) - np.repeat((np.cumsum(lengths) - lengths).astype(np.int32),
                                                                   lengths)
    filters = [(n, vocabulary.setdefault(f"{FILTER}{name}={value}", len(vocabulary)))
               for n, d in enumerate(documents) for name, value in zip(FILTERS, (d.year, d.place, d.level)) if value]
    starting = [(n, CHAR + t[0]) for t, n in vocabulary.items() if t[0] not in (CHAR, FILTER) and is_han(t[0])]
    starting = [(n, vocabulary.setdefault(key, len(vocabulary))) for n, key in starting]
    char_of = np.full(len(vocabulary) + 1, -1, dtype=np.int32)  # token number -> its CHAR key's (the last slot: gaps)
    if starting:
        char_of[[n for n, _ in starting]] = [k for _, k in starting]
    tokens = np.concatenate([numbers, char_of[numbers], np.array([k for _, k in filters], dtype=np.int32)])
    doc = np.concatenate([doc, doc, np.array([n for n, _ in filters], dtype=np.int32)])
    position = np.concatenate([position, position, np.zeros(len(filters), dtype=np.int32)])
    del numbers  # here and below, arrays are let go as soon as they are used (see _postings)
    keep = tokens >= 0
    tokens, doc, position = tokens[keep], doc[keep], position[keep]
    del keep
    token_of = {n: t for t, n in vocabulary.items()}
    present = np.flatnonzero(np.bincount(tokens, minlength=len(vocabulary))).tolist()
    used = sorted((bucket_of(t, buckets), t.encode("utf-8"), n) for n, t in zip(present, map(token_of.get, present)))
    rank = np.empty(len(vocabulary), dtype=np.int32)
    rank[[n for _, _, n in used]] = np.arange(len(used), dtype=np.int32)
    ranked = rank[tokens]
    del tokens
    order = stable_order(ranked)  # within a token: by document, then position
    ranked, doc, position = ranked[order], doc[order], position[order]
    del order
    data, starts, counts = _postings(ranked, doc, position, len(used))
    del ranked, doc, position

    sizes, counts, starts = np.diff(starts).tolist(), counts.tolist(), starts.tolist()
    entries = [b"".join((varint(len(encoded)), encoded, varint(count), varint(size)))
               for (_, encoded, _), count, size in zip(used, counts, sizes)]
    files: dict[str, bytes] = {}
    first = 0
    for number in range(buckets):
        last = first
        while last < len(used) and used[last][0] == number:
            last += 1
        files[bucket_name(number)] = b"".join((varint(last - first), *entries[first:last],
                                               data[starts[first]:starts[last]]))
        first = last
    files["docs.bin"] = b"".join([varint(len(documents)), *(varint(len(d.numbers)) + varint(d.title_length)
                                                             for d in documents)])
    for start in range(0, len(documents), IDS_PER_FILE):
        files[ids_name(start // IDS_PER_FILE)] = _json([d.id for d in documents[start:start + IDS_PER_FILE]])
    return files


def stable_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for keys in [0, 2**32), in one or two passes over
    16-bit digits: numpy sorts 16-bit keys by radix, six times faster than int64 keys."""
    if not len(keys) or int(keys.max()) < 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def _postings(tokens: np.ndarray, doc: np.ndarray, position: np.ndarray, vocabulary: int
              ) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Every token's postings, encoded back to back (occurrences sorted by token rank,
    document, position); for each rank the byte offset of its postings (plus the end) and
    its number of documents. Arrays are 32-bit and masks replace index arrays where they
    can: memory a process touches for the first time costs it a page fault per 4 KiB,
    which took more time than the arithmetic here."""
    n = len(tokens)
    new_token = np.ones(n, dtype=bool)
    np.not_equal(tokens[1:], tokens[:-1], out=new_token[1:])
    new_pair = new_token.copy()  # a new (token, document) pair
    new_pair[1:] |= doc[1:] != doc[:-1]
    pair_at = np.flatnonzero(new_pair).astype(np.int32)
    # The values in file order: per pair, the document delta and the number of
    # positions, then one position delta per occurrence.
    position_delta = position.copy()
    np.subtract(position[1:], position[:-1], out=position_delta[1:], where=~new_pair[1:])
    pair_doc = doc[pair_at]
    doc_delta = pair_doc.copy()
    np.subtract(pair_doc[1:], pair_doc[:-1], out=doc_delta[1:], where=~new_token[pair_at[1:]])
    slot = np.cumsum(new_pair, dtype=np.int32)
    slot *= 2
    slot += np.arange(n, dtype=np.int32)  # where each occurrence's position delta goes
    values = np.empty(n + 2 * len(pair_at), dtype=np.int32)
    values[slot] = position_delta
    del position_delta
    pair_slot = slot[pair_at]
    values[pair_slot - 2] = doc_delta
    values[pair_slot - 1] = np.diff(np.append(pair_at, n))
    del pair_slot, doc_delta, pair_doc
    token_at = np.flatnonzero(new_token)
    first = slot[token_at] - 2  # the value that starts each token's postings
    del slot
    encoded, offsets = _varints(values)
    starts = np.zeros(vocabulary + 1, dtype=np.int64)
    starts[tokens[token_at]] = offsets[first]
    starts[vocabulary] = len(encoded)
    counts = np.bincount(tokens[pair_at], minlength=vocabulary)
    return encoded, starts, counts


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Non-negative values as varints back to back, and the byte offset of each: each
    value's bytes are a row of a matrix, and the rows' used bytes are taken in order."""
    size = np.ones(len(values), dtype=np.uint8)  # bytes per value
    width, top = 1, int(values.max(initial=0))
    while top >> (7 * width):
        size += values >= (1 << (7 * width))
        width += 1
    rows = np.empty((len(values), width), dtype=np.uint8)
    for byte in range(width):  # 7 bits a byte, the high bit set when another byte follows
        rows[:, byte] = (values >> (7 * byte)) & 0x7F
        if byte + 1 < width:
            rows[:, byte] |= (size > byte + 1).view(np.uint8) << 7
    used = np.arange(width, dtype=np.uint8) < size[:, None]
    offsets = np.cumsum(size, dtype=np.int64)
    offsets -= size
    return rows[used].tobytes(), offsets


def meta_json(shards: list[tuple[str, list[tuple[str, str, str]]]]) -> bytes:
    """meta.json from (shard name, each report's FILTERS values) pairs."""
    filters: dict[str, dict[str, int]] = {name: {} for name in FILTERS}
    listed, total = [], 0
    for name, values in shards:
        listed.append({"name": name, "reports": len(values), "buckets": bucket_count(len(values))})
        total += len(values)
        for doc in values:
            for key, value in zip(FILTERS, doc):
                if value:
                    filters[key][value] = filters[key].get(value, 0) + 1
    return _json({"format": FORMAT, "reports": total, "shards": listed,
                  "filters": {k: dict(sorted(v.items())) for k, v in filters.items()}})


class _Reader:
    """Varints and bytes read one after another from a file's data."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def varint(self) -> int:
        value = shift = 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def bytes(self, size: int) -> bytes:
        self.at += size
        return self.data[self.at - size:self.at]

    def done(self) -> bool:
        return self.at == len(self.data)


def decode_docs(data: bytes) -> list[tuple[int, int]]:
    """docs.bin as (stream length, title length) per report (what search.js reads; used
    by tests)."""
    reader = _Reader(data)
    docs = [(reader.varint(), reader.varint()) for _ in range(reader.varint())]
    if not reader.done():
        raise ValueError("bytes after the last report")
    return docs


def decode_bucket(data: bytes) -> dict[str, list[tuple[int, list[int]]]]:
    """The postings in a bucket file (what search.js reads; used by tests)."""
    reader = _Reader(data)
    read = reader.varint
    directory = []
    for _ in range(read()):
        token = reader.bytes(read()).decode("utf-8")
        directory.append((token, read(), read()))
    out: dict[str, list[tuple[int, list[int]]]] = {}
    for token, documents, size in directory:
        end, docs, number = reader.at + size, [], 0
        for _ in range(documents):
            number += read()
            at, position = [], 0
            for _ in range(read()):
                position += read()
                at.append(position)
            docs.append((number, at))
        if reader.at != end:
            raise ValueError(f"the postings of {token!r} do not end where the directory says")
        out[token] = docs
    if not reader.done():
        raise ValueError("bytes after the last postings")
    return out


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
