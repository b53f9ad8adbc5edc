"""Derived tables kept in the user's cache folder: read back only when made from the same
files by the same code, and made again when missing, stale or damaged."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import jinja2
import pytest

from site_builder.content import clean

from site_builder.text import tables

from site_builder.text import words as words_

MADE: list[str] = []  # what the maker below read, call by call


def _lengths(path: Path) -> dict[str, int]:
    text = path.read_text(encoding="utf-8")
    MADE.append(text)
    return {line: len(line) for line in text.splitlines()}


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    MADE.clear()
    return tmp_path / "cache" / "site-builder"


def test_a_table_is_made_once_then_read_until_its_source_changes(tmp_path, cache_home):
    source = tmp_path / "words.txt"
    source.write_text("法治\n政府\n", encoding="utf-8")
    first = tables.cached("lengths", (source,), _lengths)
    assert first == {"法治": 2, "政府": 2} and len(MADE) == 1
    assert tables.cached("lengths", (source,), _lengths) == first and len(MADE) == 1  # read back
    assert len(list(cache_home.iterdir())) == 1

    source.write_text("法治政府\n", encoding="utf-8")
    os.utime(source, ns=(1, 1))
    other = tables.cached("lengths-of-other", (source,), _lengths)  # another table is kept
    (cache_home / ("lengths-" + "0" * 24 + ".marshal")).write_bytes(b"an earlier version's")
    assert tables.cached("lengths", (source,), _lengths) == {"法治政府": 4} and len(MADE) == 3
    names = sorted(p.name.rsplit("-", 1)[0] for p in cache_home.iterdir())
    assert names == ["lengths", "lengths-of-other"] and other == {"法治政府": 4}  # the replaced ones are gone


def test_a_damaged_or_foreign_table_is_made_again(tmp_path, cache_home):
    source = tmp_path / "words.txt"
    source.write_text("依法行政\n", encoding="utf-8")
    tables.cached("lengths", (source,), _lengths)
    (stored,) = cache_home.iterdir()
    stored.write_bytes(stored.read_bytes()[:-3])  # cut short
    assert tables.cached("lengths", (source,), _lengths) == {"依法行政": 4} and len(MADE) == 2
    stored.write_bytes(b"\x00not a pickle")
    assert tables.cached("lengths", (source,), _lengths) == {"依法行政": 4} and len(MADE) == 3


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no folder can be made in it
    source = tmp_path / "words.txt"
    source.write_text("行政复议\n", encoding="utf-8")
    MADE.clear()
    for made in (1, 2):
        assert tables.cached("lengths", (source,), _lengths) == {"行政复议": 4} and len(MADE) == made


def test_jiebas_tables_read_back_equal_to_made(cache_home):
    folder = Path(importlib.util.find_spec("jieba").origin).parent
    for name, path, make in (("jieba-idf", folder / "analyse" / "idf.txt", words_._make_idf),
                             ("jieba-words", folder / "dict.txt", clean._make_jieba_words)):
        made = tables.cached(name, (path,), make)
        read = tables.cached(name, (path,), make)
        assert read == made == make(path)
        assert list(read[0])[:50] == list(made[0])[:50]  # the same order (keywords break ties by it)


def test_without_a_home_nothing_is_stored_where_the_build_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # ignored, as the XDG spec says
    monkeypatch.setenv("HOME", "")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home in the password file either
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "words.txt"
    source.write_text("法律顾问\n", encoding="utf-8")
    MADE.clear()
    assert tables.cached("lengths", (source,), _lengths) == {"法律顾问": 4} and len(MADE) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words.txt"]


def test_compiled_templates_are_kept_and_used_only_for_the_same_source(tmp_path, cache_home, monkeypatch):
    from site_builder.render.pages import make_environment

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("<p>{{ text }}</p>", encoding="utf-8")
    assert make_environment(templates).get_template("page.html").render(text="<b>") == "<p>&lt;b&gt;</p>"
    assert len(list((cache_home / "jinja").iterdir())) == 1  # compiled once, kept
    compiled, real = [], jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda *a, **k: compiled.append(a[1]) or real(*a, **k))
    assert make_environment(templates).get_template("page.html").render(text="x") == "<p>x</p>"
    assert compiled == []  # another process's environment: read back, not compiled
    (templates / "page.html").write_text("<div>{{ text }}</div>", encoding="utf-8")
    assert make_environment(templates).get_template("page.html").render(text="x") == "<div>x</div>"
    assert compiled == ["<div>{{ text }}</div>"]  # an edited template is compiled again


def test_templates_compile_without_a_cache_folder(tmp_path, monkeypatch):
    from site_builder.render.pages import make_environment

    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # no folder can be made in it
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("{{ 1 + 1 }}", encoding="utf-8")
    env = make_environment(templates)
    assert env.bytecode_cache is None and env.get_template("page.html").render() == "2"
