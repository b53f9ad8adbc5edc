"""The gazetteer: China's divisions to township level, its look-ups and its cached table."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from site_builder import gazetteer as gz
from site_builder.gazetteer import Gazetteer, gazetteer, short_forms


@pytest.fixture(scope="module")
def table() -> Gazetteer:
    found = gazetteer()
    assert found.available
    return found


def test_four_levels_of_the_official_table(table):
    info = table.info()
    assert info["data_as_of"] >= "2025-12-31" and int(info["count"]) > 40_000
    provinces = table.children()
    assert len(provinces) >= 31 and all(p.level == 1 and p.parent is None for p in provinces)
    guangdong = next(p for p in provinces if p.name == "广东省")
    cities = table.children(guangdong.code)
    chaozhou = next(c for c in cities if c.name == "潮州市")
    counties = table.children(chaozhou.code)
    chaoan = next(c for c in counties if c.name == "潮安区")
    towns = table.children(chaoan.code)
    assert {t.level for t in towns} == {4} and "金石镇" in {t.name for t in towns}
    assert all(len(t.code) == 9 and t.code.startswith(chaoan.code) for t in towns)
    assert {t.kind for t in towns} <= {"镇", "乡", "街道", "民族乡"}


def test_same_name_towns_are_told_apart_by_their_county(table):
    all_jinshi = table.named("金石镇")
    assert len(all_jinshi) > 1
    assert table.resolve("金石镇") is None  # several, and nothing says which
    jinshi = table.resolve("金石镇", stated=["潮安区"])
    assert jinshi is not None and [d.name for d in table.chain(jinshi)] == ["广东省", "潮州市", "潮安区", "金石镇"]
    assert table.resolve("金石镇", context=["广东省潮州市潮安区金石镇人民政府"]) == jinshi
    assert table.resolve("金石镇", stated=["青山县"]) is None  # the text names a county it is not in


def test_short_forms_reports_use(table):
    assert [d.name for d in table.named("东乌旗")] == ["东乌珠穆沁旗"]
    assert [d.name for d in table.named("禄劝县")] == ["禄劝彝族苗族自治县"]
    assert {d.name for d in table.named("海滨街")} == {"海滨街道"}
    assert short_forms("东市街街道", 4) == ("东市街",)
    assert short_forms("大坪子彝族乡", 4) == ("大坪子乡",)
    assert table.named("湖州市")[0].level == 2 and table.named("潮州市")[0].kind == "市"


def test_a_department_belongs_to_its_county_or_city(table):
    assert table.county_of("宜宾市叙州区司法局").name == "叙州区"
    assert table.county_of("株洲市司法局").code == "430200"
    assert table.county_of("青山岭县司法局") is None


def test_names_found_in_text(table):
    title = "宜昌市夷陵区樟村镇人民政府关于2022年度法治政府建设情况的报告"
    assert [name for _, _, name in table.find(title)] == ["宜昌市", "夷陵区", "樟村镇"]
    assert table.find("没有地名的一句话。") == []


def test_an_unknown_place_is_no_division(table):
    assert table.named("白鹭塘镇") == () and table.resolve("白鹭塘镇") is None
    assert table.get("999999") is None


def test_the_derived_table_is_sqlite_in_the_cache_and_rebuilt_when_damaged(tmp_path: Path):
    db = gz._open(tmp_path)
    files = list(tmp_path.glob("gazetteer-*.sqlite3"))
    assert len(files) == 1 and files[0].read_bytes()[:16] == b"SQLite format 3\x00"
    first = Gazetteer(db).named("潮安区")
    db.close()
    stamp = files[0].stat().st_mtime_ns
    again = gz._open(tmp_path)  # read back, not made again
    assert files[0].stat().st_mtime_ns == stamp and Gazetteer(again).named("潮安区") == first
    again.close()
    data = files[0].read_bytes()
    for damaged in (b"garbage" * 1000, data[: len(data) // 2]):  # garbage, truncated: made again
        files[0].write_bytes(damaged)
        repaired = gz._open(tmp_path)
        assert Gazetteer(repaired).named("潮安区") == first
        repaired.close()
    assert sqlite3.connect(files[0]).execute("SELECT count(*) FROM division").fetchone()[0] > 40_000
    # Pages damaged inside a file of the right size: found when read, answered from memory.
    data = bytearray(files[0].read_bytes())
    data[len(data) // 3 : len(data) // 3 + 200_000] = bytes(200_000)
    files[0].write_bytes(bytes(data))
    table = Gazetteer(gz._open(tmp_path))
    assert [d.name for d in table.named("城关镇")][:1] == ["城关镇"] and table.named("潮安区") == first


def test_a_cache_folder_that_cannot_be_written_gives_a_table_in_memory(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    db = gz._open(blocker / "cache")  # cannot be made: below a file
    assert Gazetteer(db).named("潮安区") and blocker.read_text() == "not a folder"
