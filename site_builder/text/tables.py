"""Lookup tables derived from the segmenter's data files (jieba's dictionary and its IDF
table), kept between processes in the user's cache folder.

Making them takes a process about 0.8 s (parsing some 600,000 lines of text); reading
them back takes about a quarter of that. Every process that parses pays it: on a
rebuild after one edit it was most of the time spent parsing that report. A stored
table is keyed by the files it is made from (path, size, modification time) and by the
code that makes it, and is written atomically (state.store_pickle); a missing, stale or
damaged one is made again, and the tables it replaces are removed. Nothing published
depends on whether a table was read or made.

The folder is $XDG_CACHE_HOME/site-builder (else ~/.cache/site-builder); when it cannot
be written, tables are simply made each time.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..state import load_pickle, store_pickle

T = TypeVar("T")

FORMAT = b"site-builder tables 1"


def cache_folder() -> Path | None:
    """$XDG_CACHE_HOME/site-builder, else ~/.cache/site-builder; None when neither is an
    absolute path (no home: nothing is stored, rather than a "~" folder where we run)."""
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):  # the XDG spec: a relative path is ignored
        root = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "site-builder" if os.path.isabs(root) else None


def cached(name: str, sources: tuple[Path, ...], make: Callable[..., T]) -> T:
    """`make(*sources)`, read from the cache folder when it was stored from the same
    sources by the same `make` (its own code: keep a maker self-contained)."""
    folder = cache_folder()
    if folder is None:
        return make(*sources)
    key = _key(sources, make)
    path = folder / f"{name}-{key[:24]}.pickle"
    stored = load_pickle(path)
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
        return stored[1]
    value = make(*sources)
    try:
        store_pickle(path, (key, value))
    except OSError:  # a folder that cannot be written: the table is made each time
        return value
    _forget_others(folder, name, path.name)
    return value


def _forget_others(folder: Path, name: str, keep: str) -> None:
    """Remove the tables of `name` made from other sources or by other code (a jieba
    upgrade, an earlier version of site-builder): each is some megabytes, never read again."""
    stale = re.compile(re.escape(name) + r"-[0-9a-f]{24}\.(?:pickle|marshal)")
    for entry in os.scandir(folder):
        if entry.name != keep and stale.fullmatch(entry.name):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _key(sources: tuple[Path, ...], make: Callable) -> str:
    digest = hashlib.sha256(FORMAT)
    digest.update(marshal.dumps(make.__code__))  # the code that makes the table, constants included
    for source in sources:
        stat = os.stat(source)
        digest.update(f"\0{os.path.abspath(source)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()
