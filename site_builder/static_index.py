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
  modulo the shard's bucket count. A bucket file is a directory, then the postings:

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
from itertools import repeat

import numpy as np

from . import tokenizer

FORMAT = 1
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
    key = token[0] if tokenizer.is_han(token[0]) else token
    return fnv1a(key) % buckets


def bucket_name(number: int) -> str:
    return f"{number:03x}.bin"


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
             vocabulary: dict[str, int]) -> Document:
    """Stream a report; tokens new to `vocabulary` are added to it."""
    tokens = tokenizer.stream(tokenizer.normalize(title + "\n" + text))
    for token in set(tokens).difference(vocabulary):
        if token is not None:
            vocabulary[token] = len(vocabulary)
    numbers = np.fromiter(map(vocabulary.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
    title_length = len(tokenizer.stream(tokenizer.normalize(title)))
    return Document(id, *filters, title_length, numbers)


def shard_files(documents: Iterable[Document], vocabulary: dict[str, int]) -> dict[str, bytes]:
    """The files of one shard (docs.json and every bucket), by name inside the shard.

    Vectorised: the streams become arrays of (token rank, document, position), sorted by
    rank (bucket, then token) and encoded in one pass: no Python object per position.
    Tokens of `vocabulary` that no document uses are left out."""
    documents = list(documents)
    buckets = bucket_count(len(documents))
    streams = np.concatenate([np.zeros(0, dtype=np.int64)] + [d.numbers for d in documents]).astype(np.int64)
    token_of = {n: t for t, n in vocabulary.items()}
    used = sorted((bucket_of(t, buckets), t.encode("utf-8"), n)
                  for n, t in ((n, token_of[n]) for n in np.unique(streams[streams >= 0]).tolist()))
    rank = np.full(len(vocabulary) + 1, -1, dtype=np.int64)  # the last slot: gaps (number -1)
    rank[[n for _, _, n in used]] = np.arange(len(used))
    tokens = rank[streams]
    lengths = np.array([len(doc.numbers) for doc in documents], dtype=np.int64)
    doc = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    position = np.arange(len(tokens), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keep = tokens >= 0
    order = np.argsort(tokens[keep], kind="stable")  # within a token: by document, then position
    data, starts, counts = _postings(tokens[keep][order], doc[keep][order], position[keep][order],
                                     len(used))

    files: dict[str, bytes] = {}
    first = 0
    for number in range(buckets):
        last = first
        while last < len(used) and used[last][0] == number:
            last += 1
        head = [varint(last - first)]
        for t in range(first, last):
            encoded = used[t][1]
            head += [varint(len(encoded)), encoded, varint(int(counts[t])), varint(int(starts[t + 1] - starts[t]))]
        files[bucket_name(number)] = b"".join(head) + data[int(starts[first]):int(starts[last])]
        first = last
    files["docs.json"] = _json({
        "id": [d.id for d in documents],
        "length": lengths.tolist(),
        "title": [d.title_length for d in documents],
        "year": [d.year for d in documents],
        "place": [d.place for d in documents],
        "level": [d.level for d in documents],
    })
    return files


def _postings(tokens: np.ndarray, doc: np.ndarray, position: np.ndarray, vocabulary: int
              ) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Every token's postings, encoded back to back (occurrences sorted by token rank,
    document, position); for each rank the byte offset of its postings (plus the end) and
    its number of documents."""
    n = len(tokens)
    new_token = np.ones(n, dtype=bool)
    new_token[1:] = tokens[1:] != tokens[:-1]
    new_pair = new_token.copy()  # a new (token, document) pair
    new_pair[1:] |= doc[1:] != doc[:-1]
    pair_at = np.flatnonzero(new_pair)
    # The values in file order: per pair, the document delta and the number of
    # positions, then one position delta per occurrence.
    position_delta = position.copy()
    same_pair = np.flatnonzero(~new_pair)
    position_delta[same_pair] -= position[same_pair - 1]
    pair_doc = doc[pair_at]
    doc_delta = pair_doc.copy()
    same_token = np.flatnonzero(~new_token[pair_at])
    doc_delta[same_token] -= pair_doc[same_token - 1]
    slot = np.arange(n) + 2 * np.cumsum(new_pair)
    values = np.empty(n + 2 * len(pair_at), dtype=np.int64)
    values[slot] = position_delta
    values[slot[pair_at] - 2] = doc_delta
    values[slot[pair_at] - 1] = np.diff(np.append(pair_at, n))
    encoded, offsets = _varints(values)
    token_at = np.flatnonzero(new_token)
    starts = np.zeros(vocabulary + 1, dtype=np.int64)
    starts[tokens[token_at]] = offsets[slot[token_at] - 2]
    starts[vocabulary] = len(encoded)
    counts = np.bincount(tokens[pair_at], minlength=vocabulary)
    return encoded, starts, counts


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Non-negative values as varints back to back, and the byte offset of each."""
    size = np.ones(len(values), dtype=np.int64)
    for bits in range(7, 63, 7):
        size += values >= (1 << bits)
    offsets = np.cumsum(size) - size
    out = np.zeros(int(size.sum()), dtype=np.uint8)
    for byte in range(int(size.max(initial=1))):
        has = np.flatnonzero(size > byte)
        more = np.where(size[has] > byte + 1, 0x80, 0)
        out[offsets[has] + byte] = ((values[has] >> (7 * byte)) & 0x7F) | more
    return out.tobytes(), offsets


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

    directory = []
    for _ in range(read()):
        size = read()
        token = data[i:i + size].decode("utf-8")
        i += size
        directory.append((token, read(), read()))
    out: dict[str, list[tuple[int, list[int]]]] = {}
    for token, documents, size in directory:
        end, docs, number = i + size, [], 0
        for _ in range(documents):
            number += read()
            at, position = [], 0
            for _ in range(read()):
                position += read()
                at.append(position)
            docs.append((number, at))
        if i != end:
            raise ValueError(f"the postings of {token!r} do not end where the directory says")
        out[token] = docs
    if i != len(data):
        raise ValueError("bytes after the last postings")
    return out


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
