"""The static search index: an inverted index of the token stream, in files that
static/search.js fetches as a query needs them. Written from the model (the same stream
as the Whoosh index), one shard of reports at a time; a shard's files depend on its
reports only, so a change rewrites its shard and nothing else.

Layout (under search/index/ in the output):

- meta.json: {"format", "reports", "shards": [{"name", "reports", "buckets"}],
  "filters": {"year"|"place"|"level": {value: count}}};
- <shard>/docs.json: the shard's reports in order, as parallel arrays: "id", "length"
  (positions in the stream), "title" (positions of the title), "year", "place", "level"
  ("" when unknown);
- <shard>/<bucket>.bin (bucket in hex, every bucket of the shard written, possibly empty):
  the postings of the tokens that fall into it. A token's bucket is the FNV-1a hash of its
  first character when that is a Han character (so every token starting with a character,
  which a one-character query looks for, is in one bucket), else of the whole token,
  modulo the shard's bucket count. The file is a sequence of records sorted by token:

      varint(len(token)) token(UTF-8) varint(documents)
      then per document: varint(document - previous document) varint(positions)
                         varint(position - previous position) per position

  (varints little-endian base 128; "previous" starts at 0 for each record and each
  document).
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from . import tokenizer

FORMAT = 1
MIN_BUCKETS, MAX_BUCKETS = 16, 1024
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193
_SMALL = tuple(bytes([n]) if n < 0x80 else bytes([(n & 0x7F) | 0x80, n >> 7]) for n in range(1 << 14))


def varint(n: int) -> bytes:
    if n < 16384:
        return _SMALL[n]
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
    key = token[0] if tokenizer.is_han(token[0]) else token
    return fnv1a(key) % buckets


def bucket_name(number: int) -> str:
    return f"{number:03x}.bin"


class Document:
    """One report as the index sees it: its id, filter values and stream."""

    __slots__ = ("id", "year", "place", "level", "tokens", "title_length")

    def __init__(self, id: str, title: str, text: str, year: str, place: str, level: str):
        self.id, self.year, self.place, self.level = id, year, place, level
        self.title_length = len(tokenizer.stream(tokenizer.normalize(title)))
        self.tokens = tokenizer.stream(tokenizer.normalize(title + "\n" + text))


def shard_files(documents: Iterable[Document]) -> dict[str, bytes]:
    """The files of one shard (docs.json and every bucket), by name inside the shard."""
    documents = list(documents)
    buckets = bucket_count(len(documents))
    postings: dict[str, list] = {}
    for number, doc in enumerate(documents):
        positions: dict[str, list[int]] = {}
        for position, token in enumerate(doc.tokens):
            if token is not None:
                at = positions.get(token)
                if at is None:
                    positions[token] = [position]
                else:
                    at.append(position)
        for token, at in positions.items():
            record = postings.get(token)
            if record is None:
                postings[token] = [(number, at)]
            else:
                record.append((number, at))
    grouped: list[list[bytes]] = [[] for _ in range(buckets)]
    for token in sorted(postings, key=lambda t: t.encode("utf-8")):
        grouped[bucket_of(token, buckets)].append(_record(token, postings[token]))
    files = {bucket_name(n): b"".join(parts) for n, parts in enumerate(grouped)}
    files["docs.json"] = _json({
        "id": [d.id for d in documents],
        "length": [len(d.tokens) for d in documents],
        "title": [d.title_length for d in documents],
        "year": [d.year for d in documents],
        "place": [d.place for d in documents],
        "level": [d.level for d in documents],
    })
    return files


def _record(token: str, docs: list[tuple[int, list[int]]]) -> bytes:
    small = _SMALL
    data = token.encode("utf-8")
    out = [varint(len(data)), data, varint(len(docs))]
    previous_doc = 0
    for number, at in docs:
        out.append(varint(number - previous_doc))
        out.append(varint(len(at)))
        previous_doc, previous = number, 0
        for position in at:
            delta = position - previous
            out.append(small[delta] if delta < 16384 else varint(delta))
            previous = position
    return b"".join(out)


def meta_json(shards: list[tuple[str, list[dict]]]) -> bytes:
    """meta.json from (shard name, its reports' filter values) pairs."""
    filters: dict[str, dict[str, int]] = {"year": {}, "place": {}, "level": {}}
    listed, total = [], 0
    for name, values in shards:
        listed.append({"name": name, "reports": len(values), "buckets": bucket_count(len(values))})
        total += len(values)
        for doc in values:
            for key, counts in filters.items():
                if doc[key]:
                    counts[doc[key]] = counts.get(doc[key], 0) + 1
    return _json({"format": FORMAT, "reports": total, "shards": listed,
                  "filters": {k: dict(sorted(v.items())) for k, v in filters.items()}})


def decode_bucket(data: bytes) -> dict[str, list[tuple[int, list[int]]]]:
    """The postings in a bucket file (what search.js reads; used by tests)."""
    out: dict[str, list[tuple[int, list[int]]]] = {}
    i = 0

    def read() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(data):
        size = read()
        token = data[i:i + size].decode("utf-8")
        i += size
        docs, number = [], 0
        for _ in range(read()):
            number += read()
            at, position = [], 0
            for _ in range(read()):
                position += read()
                at.append(position)
            docs.append((number, at))
        out[token] = docs
    return out


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
