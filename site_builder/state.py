"""The state a build keeps for the next one: one SQLite database in the state folder.

The state folder is ``<output's parent>/.site-cache/<output's name>/``, never published. It
holds this database, the Whoosh index, the compiled templates, the static search's work
folder and the standby tree of the publish stage. Everything in it is a cache or a record of
what was published, so losing it costs time, never correctness:

- the folder is created private (0700) and a build refuses a folder that another user owns
  or can write, since what the libraries keep in it runs code when read (Whoosh's index holds
  pickles, Jinja's compiled templates marshalled code): another user who planted it could run
  code as whoever builds; nothing of our own is stored as pickle or marshal;
- the database holds plain values (JSON text, bytes); one of another schema version, or
  one that SQLite cannot read, is set aside and a new one started;
- every read treats a damaged value as missing (see `Space.get`).

The database is one table of key/value rows grouped in named spaces (``parsed``, ``files``,
``output``, ...): each user of the state owns a space and the shape of its values.
"""
from __future__ import annotations

import json
import os
import sqlite3
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA_VERSION = 1  # bump when any space's values change shape: every state is started afresh
DATABASE = "state.sqlite"
WHOOSH = "whoosh"  # the Whoosh index's folder in the state folder
STATIC_SEARCH = "static-search"  # the static search's work folder in the state folder
COMPILED_TEMPLATES = "templates"  # the theme's templates as Jinja compiled them


class StateError(Exception):
    """The state folder cannot be used safely: `message` says why and what to do."""

    def __init__(self, path: Path, message: str):
        super().__init__(f"{path}: {message}")
        self.path, self.message = str(path), message


def state_dir(output_dir: Path) -> Path:
    """Where a build keeps what is not published: the database and the Whoosh index."""
    output_dir = Path(output_dir).absolute()
    return output_dir.parent / ".site-cache" / output_dir.name


def private_folder(path: Path) -> Path:
    """Make `path` (and the .site-cache folder above it) if missing, private to this user,
    and refuse it when another user owns it or may write to it."""
    for folder in (path.parent, path):
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError as exc:
            raise StateError(folder, f"无法创建或读取状态文件夹：{exc.strerror or exc}；请检查权限"
                                     f"（cannot create the state folder）") from None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise StateError(folder, "状态文件夹是符号链接或不是文件夹，已拒绝使用；请删除它后重新构建"
                                     "（the state folder is a symlink or not a folder）")
        if info.st_uid != os.getuid():
            raise StateError(folder, f"状态文件夹属于其他用户（uid {info.st_uid}），已拒绝使用；"
                                     f"请删除它，或把 --output 放在自己的文件夹中（the state folder belongs to another user）")
        if info.st_mode & 0o022:
            try:
                os.chmod(folder, 0o700)
            except OSError:
                raise StateError(folder, "状态文件夹可被其他用户写入，已拒绝使用；请执行 chmod 700"
                                         "（the state folder is writable by others）") from None
    return path


class Store:
    """The state database of one output folder. Opened by a build for its duration; worker
    processes open it read-only by its path (see `open_readonly`)."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, folder: Path) -> "Store":
        """The store in `folder` (a private state folder), made if missing or unusable."""
        path = Path(folder) / DATABASE
        try:
            store = cls(_connect(path), path)
            if store._version() == SCHEMA_VERSION:
                return store
            store.close()
        except sqlite3.DatabaseError:
            pass
        _set_aside(path)
        try:
            store = cls(_connect(path), path)
            store._create()
        except sqlite3.Error as exc:
            raise StateError(path, f"无法写入状态数据库：{exc}；请检查磁盘空间与权限"
                                   f"（cannot write the state database）") from None
        return store

    @classmethod
    def open_readonly(cls, path: Path) -> "Store":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        connection.execute("PRAGMA query_only = ON")
        return cls(connection, Path(path))

    def close(self) -> None:
        self._db.close()

    def space(self, name: str) -> "Space":
        return Space(self._db, name)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Writes inside are stored together or not at all."""
        with self._db:
            yield

    def _version(self) -> int | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return int(row[0]) if row else None

    def _create(self) -> None:
        with self._db:
            self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE entries (space TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
                             " PRIMARY KEY (space, key)) WITHOUT ROWID")
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))


class Space:
    """The rows of one space: key (text) -> value (bytes). Values are the caller's own
    encoding; `get_json`/`put_json` store JSON, compressed."""

    def __init__(self, db: sqlite3.Connection, name: str):
        self._db, self.name = db, name

    def get(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM entries WHERE space = ? AND key = ?", (self.name, key)).fetchone()
        return row[0] if row else None

    def items(self) -> Iterator[tuple[str, bytes]]:
        yield from self._db.execute("SELECT key, value FROM entries WHERE space = ? ORDER BY key", (self.name,))

    def keys(self) -> set[str]:
        return {key for (key,) in self._db.execute("SELECT key FROM entries WHERE space = ?", (self.name,))}

    def put_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                             ((self.name, key, value) for key, value in items))

    def delete_many(self, keys: Iterable[str]) -> None:
        self._db.executemany("DELETE FROM entries WHERE space = ? AND key = ?", ((self.name, k) for k in keys))

    def clear(self) -> None:
        self._db.execute("DELETE FROM entries WHERE space = ?", (self.name,))

    def get_json(self, key: str):
        """The JSON value stored at `key`, or None when missing or damaged."""
        return loads(self.get(key))

    def items_json(self) -> Iterator[tuple[str, object]]:
        """Every (key, value) whose value reads as JSON; damaged ones are left out."""
        for key, value in self.items():
            value = loads(value)
            if value is not None:
                yield key, value

    def put_json(self, items: Iterable[tuple[str, object]]) -> None:
        self.put_many((key, dumps(value)) for key, value in items)


def dumps(value) -> bytes:
    """A JSON value as compressed bytes (see loads)."""
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 1)


def loads(data: bytes | None):
    """The value of dumps(), or None when `data` is missing or damaged."""
    if data is None:
        return None
    try:
        return json.loads(zlib.decompress(data))
    except (zlib.error, ValueError, TypeError):
        return None


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level="DEFERRED")
    connection.execute("PRAGMA journal_mode = WAL")  # readers (worker processes) never wait for the writer
    connection.execute("PRAGMA synchronous = NORMAL")  # a crash may lose the last commit, never corrupt
    connection.execute("PRAGMA busy_timeout = 10000")
    return connection


def _set_aside(path: Path) -> None:
    """Remove an unusable database (another schema version, damaged) and its journals."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
