"""Make a Pagefind bundle byte-identical from run to run.

Pagefind writes its filter index from a Rust HashMap, whose order is random per process:
the values inside each filter file, the list of filters in the metadata file, and so the
content hashes that name these files (and the metadata hash in pagefind-entry.json) change
between two runs over the same pages. `canonicalize` rewrites those few files in sorted
order and renames them by the hash of their new content; everything else is left as is.

The files are gzip'd "pagefind_dcd" + CBOR; the small CBOR codec below covers what Pagefind
writes (integers, strings, arrays, maps, simple values and floats kept as raw bytes). A
file whose CBOR does not re-encode to the very same bytes is left untouched.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

MAGIC = b"pagefind_dcd"


class _Raw(bytes):
    """A CBOR item kept as its encoded bytes (simple values, floats, tags)."""


class _Map(list):
    """A CBOR map as a list of (key, value) pairs, in file order."""


def _load(data: bytes, i: int = 0):
    head = data[i]
    major, info = head >> 5, head & 31
    start, i = i, i + 1
    if info < 24:
        arg = info
    elif info <= 27:
        size = 1 << (info - 24)
        arg, i = int.from_bytes(data[i:i + size], "big"), i + size
    else:
        raise ValueError("indefinite-length CBOR is not supported")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major in (2, 3):
        chunk = bytes(data[i:i + arg])
        return (chunk if major == 2 else chunk.decode("utf-8")), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, i = _load(data, i)
            items.append(item)
        return items, i
    if major == 5:
        pairs = _Map()
        for _ in range(arg):
            key, i = _load(data, i)
            value, i = _load(data, i)
            pairs.append((key, value))
        return pairs, i
    if major == 6:
        _, i = _load(data, i)
    return _Raw(data[start:i]), i


def _head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def _dump(item) -> bytes:
    if isinstance(item, _Raw):
        return bytes(item)
    if isinstance(item, bool) or item is None:
        raise TypeError("simple values are kept raw")
    if isinstance(item, int):
        return _head(0, item) if item >= 0 else _head(1, -1 - item)
    if isinstance(item, bytes):
        return _head(2, len(item)) + item
    if isinstance(item, str):
        data = item.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(item, _Map):
        return _head(5, len(item)) + b"".join(_dump(k) + _dump(v) for k, v in item)
    if isinstance(item, list):
        return _head(4, len(item)) + b"".join(_dump(v) for v in item)
    raise TypeError(type(item).__name__)


def _read(path: Path):
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(MAGIC):
        return None
    body = data[len(MAGIC):]
    item, end = _load(body)
    if end != len(body) or _dump(item) != body:
        return None  # not the shape we understand: leave the file alone
    return item


def _write(path: Path, item) -> bytes:
    data = MAGIC + _dump(item)
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return data


def _renamed(name: str, data: bytes) -> str:
    """A Pagefind file name (e.g. "und_4ad44f6") with the same prefix and hash length."""
    prefix, _, old = name.rpartition("_")
    return f"{prefix}_{hashlib.sha256(data).hexdigest()[:len(old)]}"


def canonicalize(bundle: Path) -> None:
    """Rewrite the filter files, the metadata file and pagefind-entry.json in sorted order."""
    bundle = Path(bundle)
    entry_path = bundle / "pagefind-entry.json"
    metas = sorted(bundle.glob("pagefind.*.pf_meta"))
    if not entry_path.exists() or len(metas) != 1:
        return
    renames: dict[str, str] = {}
    for path in sorted((bundle / "filter").glob("*.pf_filter")):
        item = _read(path)
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], list)):
            return
        item[1].sort(key=lambda value: _dump(value))
        new = _renamed(path.stem, _write(path, item))
        renames[path.stem] = new
        path.rename(path.with_name(new + path.suffix))
    meta = _read(metas[0])
    if meta is None:
        return
    _sort_filter_list(meta, renames)
    old_meta = metas[0].name[len("pagefind."):-len(".pf_meta")]
    new_meta = _renamed(old_meta, _write(metas[0], meta))
    metas[0].rename(metas[0].with_name(f"pagefind.{new_meta}.pf_meta"))
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language in entry.get("languages", {}).values():
        if language.get("hash") == old_meta:
            language["hash"] = new_meta
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _sort_filter_list(item, renames: dict[str, str]) -> None:
    """Find the [[filter name, file hash], ...] lists, point them at the renamed files, sort."""
    if isinstance(item, _Map):
        for _, value in item:
            _sort_filter_list(value, renames)
        return
    if not isinstance(item, list):
        return
    pairs = [x for x in item if isinstance(x, list) and len(x) == 2 and isinstance(x[1], str) and x[1] in renames
             and isinstance(x[0], str)] if item else []
    if pairs and len(pairs) == len(item):
        for pair in item:
            pair[1] = renames[pair[1]]
        item.sort(key=lambda pair: pair[0])
        return
    for value in item:
        _sort_filter_list(value, renames)
