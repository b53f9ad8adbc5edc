"""The static search index's files: a term-partitioned index of the keys of
search/analysis.py, which static/search.js reads with a few requests per query clause
whatever the size of the archive. (How the files are built and kept: static_shards.py.)

Reports are numbered so that the numbers stay put when reports are added, edited or
removed (`numbering`): number = group << slot_bits | slot, where the group is the
report's (year, level) (years in ascending order, unknown first; levels in
LEVEL_SLOTS order), and the slot comes from a hash of its id (linear probing, in id
order, inside the group's 2**slot_bits slots, at least 5/4 of the largest group's reports:
numbers close together, so the differences the records hold are small). So the
year and level of every match, its facets and filters, follow from its number.

Every key lives in one bucket, FNV-1a of its UTF-8 bytes modulo `buckets`. Under
search/index/ in the output:

- meta.json: {"format", "reports", "slot_bits", "years", "levels", "groups": {group:
  count}, "buckets", "ids", "parts_shift", "ranking": ranking.js_constants()};
- b/<bucket>.bin (every bucket, possibly empty): a directory, then the records kept in it:

      varint(keys), per key in UTF-8 order: varint(bytes) key varint(documents)
      varint(size of its record) varint(0 when the record follows, k + 1 when it is in
      x/<bucket>-<k>.bin)
      the records that follow, in directory order

  A record larger than EXTERNAL bytes is a file of its own, so a bucket stays small and
  a common key is fetched without its neighbours;
- a doc-level record (keys CHAR, WORD, PAIR), documents in ascending order:
  varint((number - previous number) << 4 | weight code) per document, then one bit per
  document (least significant first), set when the key is in its title;
- a positional record (TRIPLE): per document varint((number - previous) << 2 | has
  class << 1 | several), then its length class (a byte) if not 0, then varint(occurrences
  - 2) if several; per occurrence, in text order, varint(line << 3 | region), the line
  counted among the lines of its region (the title is region 0, line 0), then
  varint(offset), or offset - previous offset when on the line before's line;
- p/<bucket >> parts_shift>.bin: which mandated parts each doc-level posting of those
  buckets' keys is in (read only to filter by part): varint(entries), per entry
  varint(bucket & (2**parts_shift - 1)) varint(key's place in its directory)
  varint(documents), then per entry five bits per document, least significant first
  (bit 5 i + n - 1: document i is in part n); keys in no part are left out;
- i/<k>.json: {number: id} of the reports whose number % ids == k;
- regions.bin: varint(names) and each name (varint(bytes) UTF-8, sorted), then
  varint(reports with a region) and per report, by number, varint(number - previous)
  varint(its name's index).

Every file of b/, x/ and p/ starts with one byte, FORMAT (not counted above). Varints
are little-endian base 128. All of it is a function of the reports alone.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import ranking

FORMAT = 3
MAGIC = bytes([FORMAT])  # the first byte of every file of b/, x/ and p/
# A report's level -> its place in a group number ("": unknown): content/parse.py's
# levels, in a fixed order (a test holds them to the parser's).
LEVEL_SLOTS = ("", "镇", "乡", "街道", "县", "区", "市", "部门")
EXTERNAL = 32768  # bytes: a record larger than this is a file of its own
MAX_BUCKETS = 8192
PARTS_SHIFT = 3  # eight buckets' part masks per file
# Ids a file, at most about: a page of results reads about one file per result whatever
# their size, so larger files cost a few KiB and keep the file count down.
IDS_PER_FILE = 256
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193
_SMALL: tuple[bytes, ...] = ()  # varint(n) of small n, made below


# --- numbering ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Numbering:
    years: tuple[int, ...]  # the years present, ascending (group year 0 is "unknown")
    slot_bits: int
    numbers: dict[str, int]  # report id -> number

    def group(self, number: int) -> int:
        return number >> self.slot_bits


def numbering(reports: Iterable[tuple[str, int | None, str | None]]) -> Numbering:
    """Numbers for (id, year, level) triples (see the module's docstring)."""
    reports = sorted(reports)
    years = tuple(sorted({y for _, y, _ in reports if y is not None}))
    rank = {y: i + 1 for i, y in enumerate(years)}
    slots = len(LEVEL_SLOTS)
    groups: dict[int, list[str]] = {}
    for report_id, year, level in reports:
        level_slot = LEVEL_SLOTS.index(level) if level in LEVEL_SLOTS else 0
        groups.setdefault(rank.get(year, 0) * slots + level_slot, []).append(report_id)
    largest = max((len(ids) for ids in groups.values()), default=1)
    slot_bits = max(4, (largest + largest // 4).bit_length())
    size, numbers = 1 << slot_bits, {}
    for group, ids in groups.items():
        taken: set[int] = set()
        for report_id in ids:  # in id order: the slots are a function of the group's ids
            slot = int.from_bytes(hashlib.sha256(report_id.encode("utf-8")).digest()[:8], "big") % size
            while slot in taken:
                slot = (slot + 1) % size
            taken.add(slot)
            numbers[report_id] = group << slot_bits | slot
    return Numbering(years, slot_bits, numbers)


def bucket_count(reports: int) -> int:
    """Buckets of an archive: a power of two, about one per two reports, within bounds."""
    count = 64
    while count * 2 <= reports and count < MAX_BUCKETS:
        count *= 2
    return count


def ids_count(reports: int) -> int:
    count = 1
    while count * IDS_PER_FILE < reports:
        count *= 2
    return count


def fnv1a(data: bytes) -> int:
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return h


def bucket_of(key: str, buckets: int) -> int:
    return fnv1a(key.encode("utf-8")) % buckets


def buckets_of(keys: list[bytes], buckets: int) -> np.ndarray:
    """bucket_of for many UTF-8 keys at once (FNV-1a over a matrix of their bytes)."""
    if not keys:
        return np.zeros(0, dtype=np.int64)
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    matrix = np.zeros((len(keys), int(lengths.max())), dtype=np.uint64)
    flat = np.frombuffer(b"".join(keys), dtype=np.uint8)
    rows = np.repeat(np.arange(len(keys)), lengths)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    matrix[rows, cols] = flat
    h = np.full(len(keys), _FNV_OFFSET, dtype=np.uint64)
    for col in range(matrix.shape[1]):
        live = lengths > col
        h = np.where(live, ((h ^ matrix[:, col]) * np.uint64(_FNV_PRIME)) & np.uint64(0xFFFFFFFF), h)
    return (h % np.uint64(buckets)).astype(np.int64)


def bucket_path(bucket: int) -> str:
    return f"b/{bucket:x}.bin"


def external_path(bucket: int, k: int) -> str:
    return f"x/{bucket:x}-{k}.bin"


def parts_path(group: int) -> str:
    return f"p/{group:x}.bin"


def ids_path(k: int) -> str:
    return f"i/{k:x}.json"


# --- encoding ------------------------------------------------------------------------------

def varint(n: int) -> bytes:
    if n < len(_SMALL):
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = tuple(varint(n) for n in range(1 << 14))


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Non-negative values as varints back to back, and the byte offset of each: each
    value's bytes are a row of a matrix, and the rows' used bytes are taken in order."""
    values = np.asarray(values, dtype=np.int64)
    size = np.ones(len(values), dtype=np.int64)  # bytes per value
    width, top = 1, int(values.max(initial=0))
    while top >> (7 * width):
        size += values >= (1 << (7 * width))
        width += 1
    rows = np.empty((len(values), width), dtype=np.uint8)
    for byte in range(width):  # 7 bits a byte, the high bit set when another byte follows
        rows[:, byte] = (values >> (7 * byte)) & 0x7F
        if byte + 1 < width:
            rows[:, byte] |= (size > byte + 1).astype(np.uint8) << 7
    used = np.arange(width) < size[:, None]
    offsets = np.cumsum(size) - size
    return rows[used].tobytes(), offsets


def decode_varints(data: bytes) -> np.ndarray:
    """Varints back to back as an int64 array (the inverse of `varints`)."""
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    if not len(raw):
        return raw
    last = raw < 0x80  # the last byte of each value
    index = np.cumsum(np.append(0, last[:-1]))  # which value each byte belongs to
    within = np.arange(len(raw)) - np.flatnonzero(np.append(True, last[:-1]))[index]
    out = np.zeros(int(index[-1]) + 1, dtype=np.int64)
    np.add.at(out, index, (raw & 0x7F) << (7 * within))
    return out


def meta_json(reports: int, numbers: Numbering, group_counts: dict[int, int], buckets: int,
              regions: bool) -> bytes:
    return _json({"format": FORMAT, "reports": reports, "slot_bits": numbers.slot_bits,
                  "years": list(numbers.years), "levels": list(LEVEL_SLOTS),
                  "groups": {str(g): n for g, n in sorted(group_counts.items())}, "buckets": buckets,
                  "ids": ids_count(reports), "parts_shift": PARTS_SHIFT, "regions": regions,
                  "ranking": ranking.js_constants()})


def regions_file(regions: dict[int, str]) -> bytes:
    """regions.bin from number -> region name."""
    names = sorted(set(regions.values()))
    index = {name: i for i, name in enumerate(names)}
    out = [varint(len(names))]
    for name in names:
        data = name.encode("utf-8")
        out += [varint(len(data)), data]
    out.append(varint(len(regions)))
    previous = 0
    for number in sorted(regions):
        out += [varint(number - previous), varint(index[regions[number]])]
        previous = number
    return b"".join(out)


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


# --- decoding (what search.js does; for tests and tools) ---------------------------------------

class Reader:
    """Varints and bytes read one after another."""

    def __init__(self, data: bytes, at: int = 0):
        self.data, self.at = data, at

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


@dataclass(frozen=True)
class Entry:
    key: str
    documents: int
    size: int
    external: int  # 0: the record follows in the bucket, k + 1: in external_path(bucket, k)
    record: bytes | None  # when it follows


def _body(data: bytes) -> bytes:
    if data[:1] != MAGIC:
        raise ValueError("not a file of this format")
    return data[1:]


def decode_external(data: bytes) -> bytes:
    """The record in an x/ file."""
    return _body(data)


def decode_bucket(data: bytes) -> list[Entry]:
    data = _body(data)
    reader = Reader(data)
    heads = []
    for _ in range(reader.varint()):
        key = reader.bytes(reader.varint()).decode("utf-8")
        heads.append((key, reader.varint(), reader.varint(), reader.varint()))
    entries = []
    for key, documents, size, external in heads:
        entries.append(Entry(key, documents, size, external, None if external else reader.bytes(size)))
    if reader.at != len(data):
        raise ValueError("bytes after the last record")
    return entries


def decode_doc_record(record: bytes, documents: int) -> list[tuple[int, int, bool]]:
    """A doc-level record as (number, weight code, in the title) per document."""
    reader, out, number = Reader(record), [], 0
    for _ in range(documents):
        value = reader.varint()
        number += value >> 4
        out.append((number, value & 15))
    bits = np.unpackbits(np.frombuffer(reader.bytes((documents + 7) // 8), np.uint8), bitorder="little")
    if reader.at != len(record):
        raise ValueError("bytes after the title bits")
    return [(n, code, bool(bits[i])) for i, (n, code) in enumerate(out)]


def decode_pos_record(record: bytes, documents: int) -> list[tuple[int, int, list[tuple[int, int, int]]]]:
    """A positional record as (number, length class, [(region, line, offset)]) per document."""
    reader, out, number = Reader(record), [], 0
    for _ in range(documents):
        head = reader.varint()
        number += head >> 2
        norm = reader.bytes(1)[0] if head & 2 else 0
        count = reader.varint() + 2 if head & 1 else 1
        out.append((number, norm, decode_occurrences(reader, count)))
    if reader.at != len(record):
        raise ValueError("bytes after the last document")
    return out


def decode_occurrences(reader: Reader, count: int) -> list[tuple[int, int, int]]:
    occurrences, place, offset = [], None, 0
    for _ in range(count):
        head = reader.varint()
        here = (head & 7, head >> 3)
        step = reader.varint()
        offset = offset + step if here == place else step
        place = here
        occurrences.append((*here, offset))
    return occurrences


def pack_masks(masks: np.ndarray) -> bytes:
    """Part masks (0..31) as five bits each, least significant first."""
    bits = ((np.asarray(masks, dtype=np.uint8)[:, None] >> np.arange(5, dtype=np.uint8)) & 1).reshape(-1)
    return np.packbits(bits, bitorder="little").tobytes()


def unpack_masks(data: bytes, documents: int) -> list[int]:
    bits = np.unpackbits(np.frombuffer(data, np.uint8), count=5 * documents, bitorder="little").reshape(-1, 5)
    return (bits.astype(np.int64) << np.arange(5)).sum(axis=1).tolist()


def decode_parts(data: bytes) -> dict[tuple[int, int], list[int]]:
    """p/<group>.bin as (bucket & mask, place in directory) -> one part mask per document."""
    data = _body(data)
    reader = Reader(data)
    heads = [(reader.varint(), reader.varint(), reader.varint()) for _ in range(reader.varint())]
    out = {(b, k): unpack_masks(reader.bytes((5 * n + 7) // 8), n) for b, k, n in heads}
    if reader.at != len(data):
        raise ValueError("bytes after the last masks")
    return out


def decode_regions(data: bytes) -> dict[int, str]:
    reader = Reader(data)
    names = [reader.bytes(reader.varint()).decode("utf-8") for _ in range(reader.varint())]
    out, number = {}, 0
    for _ in range(reader.varint()):
        number += reader.varint()
        out[number] = names[reader.varint()]
    return out


def sort_keys(keys: Sequence[str]) -> list[str]:
    """Keys in directory order (str order is UTF-8 byte order)."""
    return sorted(keys)
