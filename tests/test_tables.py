"""Derived tables kept in the user's cache folder: read back only when made from the same
file by the same version of the code, made again when missing, stale or damaged, and
stored as text and numbers only."""
from __future__ import annotations

import importlib.util
import os
import sqlite3
from pathlib import Path

import pytest

from site_builder.content import clean
from site_builder.text import tables
from site_builder.text import words as words_

MADE: list[str] = []  # what the maker below read, call by call


def _lengths(path: Path):
    text = path.read_text(encoding="utf-8")
    MADE.append(text)
    return ((line, len(line)) for line in text.splitlines())


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    MADE.clear()
    return tmp_path / "cache" / "site-builder"


def test_a_table_is_made_once_then_read_until_its_source_or_version_changes(tmp_path, cache_home):
    source = tmp_path / "words.txt"
    source.write_text("法治\n政府\n", encoding="utf-8")
    first = tables.table("lengths", source, "1", _lengths)
    assert first == {"法治": 2, "政府": 2} and len(MADE) == 1
    assert tables.table("lengths", source, "1", _lengths) == first and len(MADE) == 1  # read back
    assert tables.table("lengths", source, "2", _lengths) == first and len(MADE) == 2  # another version
    source.write_text("法治政府\n", encoding="utf-8")
    os.utime(source, ns=(1, 1))
    assert tables.table("lengths", source, "2", _lengths) == {"法治政府": 4} and len(MADE) == 3
    assert [p.name for p in cache_home.iterdir() if not p.name.endswith(("-wal", "-shm"))] == [tables.DATABASE]


def test_a_damaged_table_is_made_again(tmp_path, cache_home):
    source = tmp_path / "words.txt"
    source.write_text("依法行政\n", encoding="utf-8")
    tables.table("lengths", source, "1", _lengths)
    db = sqlite3.connect(cache_home / tables.DATABASE)
    with db:
        db.execute("UPDATE tables SET vals = '[4'")  # cut short
    assert tables.table("lengths", source, "1", _lengths) == {"依法行政": 4} and len(MADE) == 2
    with db:
        db.execute("UPDATE tables SET vals = '[4, 5]'")  # not one value per key
    assert tables.table("lengths", source, "1", _lengths) == {"依法行政": 4} and len(MADE) == 3


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made in it
    source = tmp_path / "words.txt"
    source.write_text("行政复议\n", encoding="utf-8")
    MADE.clear()
    for made in (1, 2):
        assert tables.table("lengths", source, "1", _lengths) == {"行政复议": 4} and len(MADE) == made


def test_jiebas_tables_read_back_equal_to_made(cache_home):
    folder = Path(importlib.util.find_spec("jieba").origin).parent
    for name, path, rows in (("jieba-idf", folder / "analyse" / "idf.txt", words_._idf_rows),
                             ("jieba-pairs", folder / "dict.txt", clean._pairs),
                             ("jieba-tails", folder / "dict.txt", clean._tails)):
        made = tables.table(name, path, "1", rows)
        read = tables.table(name, path, "1", rows)
        assert read == made == dict(rows(path))
        assert list(read)[:50] == list(made)[:50]  # the same order (keywords break ties by it)


def test_without_a_home_nothing_is_stored_where_the_build_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home in the password file either
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "words.txt"
    source.write_text("法律顾问\n", encoding="utf-8")
    MADE.clear()
    assert tables.table("lengths", source, "1", _lengths) == {"法律顾问": 4} and len(MADE) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words.txt"]
