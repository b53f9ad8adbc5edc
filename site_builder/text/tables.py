"""Lookup tables derived from data files of the packages we use (jieba's dictionary and IDF
table), kept between processes in one SQLite database in the user's cache folder.

Reading a data file of some 350,000 lines into a table takes a process about a second; a
table in the database is read in a fraction of that, or queried by key without reading it
all. A table is made again when its source file (path, size, modification time) or the
caller's `version` of the code that makes it changed. Values are text or numbers, so
whatever is in the database cannot run code. Nothing published depends on whether a table
was read or made; when the cache folder cannot be written, tables are made each time.

The folder is $XDG_CACHE_HOME/site-builder (else ~/.cache/site-builder).
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

DATABASE = "tables-2.sqlite"  # named by its layout: other versions of the code keep their own
Rows = Callable[[Path], Iterable[tuple[str, str | int | float]]]  # source file -> (key, value)


def cache_folder() -> Path | None:
    """$XDG_CACHE_HOME/site-builder, else ~/.cache/site-builder; None when neither is an
    absolute path (no home: nothing is stored, rather than a "~" folder where we run)."""
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):  # the XDG spec: a relative path is ignored
        root = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "site-builder" if os.path.isabs(root) else None


def table(name: str, source: Path, version: str, rows: Rows) -> dict:
    """The table `rows(source)` made as a dict, read from the cache when it was stored
    from the same source by the same `version` of `rows`. A table is stored as one row: its
    keys (which hold no newline) joined by newlines, and its values as one JSON array. Rows
    are kept per source file, so that several installations (virtual environments) share
    the folder without making each other's tables again."""
    origin, identity = os.path.abspath(source), _identity(source, version)
    db = _database(cache_folder())
    if db is not None:
        try:
            found = db.execute("SELECT keys, vals FROM tables WHERE name = ? AND origin = ? AND identity = ?",
                               (name, origin, identity)).fetchone()
            if found:
                keys, values = found[0].split("\n"), json.loads(found[1])
                if len(keys) == len(values):
                    return dict(zip(keys, values))
        except (sqlite3.Error, ValueError):
            pass
    made = dict(rows(source))
    if db is not None:
        try:
            with db:
                db.execute("INSERT OR REPLACE INTO tables VALUES (?, ?, ?, ?, ?)",
                           (name, origin, identity, "\n".join(made), json.dumps(list(made.values()), ensure_ascii=False)))
        except sqlite3.Error:  # a full disk, a read-only folder: made again next time
            pass
    return made


@cache
def _database(folder: Path | None) -> sqlite3.Connection | None:
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / DATABASE, timeout=30, check_same_thread=False)
        with db:
            db.execute("CREATE TABLE IF NOT EXISTS tables (name TEXT NOT NULL, origin TEXT NOT NULL,"
                       " identity TEXT NOT NULL, keys TEXT NOT NULL, vals TEXT NOT NULL, PRIMARY KEY (name, origin))")
        return db
    except (OSError, sqlite3.Error):
        return None


def _identity(source: Path, version: str) -> str:
    info = os.stat(source)
    return f"{version}\0{os.path.abspath(source)}\0{info.st_size}\0{info.st_mtime_ns}"
