"""The benchmark generator keeps its promises: same seed, same bytes; truth matches files."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import opencc
import pytest

from site_builder.content.decode import decode_bytes

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
gen = importlib.util.module_from_spec(_spec)
sys.modules["bench_generate"] = gen
_spec.loader.exec_module(gen)

COUNT = 200


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    base = tmp_path_factory.mktemp("gen")
    gen.generate(base / "a", COUNT, seed=7, truth_path=base / "a.jsonl")
    rows = [json.loads(line) for line in (base / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    return base, rows


def test_same_seed_same_bytes_other_seed_other_bytes(archive, tmp_path):
    base, _ = archive
    gen.generate(tmp_path / "b", COUNT, seed=7, truth_path=tmp_path / "b.jsonl")
    assert _tree(tmp_path / "b") == _tree(base / "a")
    assert (tmp_path / "b.jsonl").read_bytes() == (base / "a.jsonl").read_bytes()
    gen.generate(tmp_path / "c", 20, seed=8)
    first = _tree(base / "a")
    assert any(first.get(name) != data for name, data in _tree(tmp_path / "c").items())


def test_truth_describes_each_file(archive):
    base, rows = archive
    files = _tree(base / "a")
    assert len(rows) == COUNT == len(files)
    assert {r["file"] for r in rows} == set(files)
    suffix = {"txt": ".txt", "html": ".html", "md": ".md"}
    t2s = opencc.OpenCC("t2s")
    for r in rows:
        assert r["file"].isascii() and r["file"].endswith(suffix[r["format"]])
        text, encoding = decode_bytes(files[r["file"]])
        assert encoding == r["encoding"], r["file"]
        assert set(r["parts"]) <= {1, 2, 3, 4, 5} and r["parts"], r["file"]
        assert r["year"] is None or 2018 <= r["year"] <= 2025
        if r["published"] is not None and r["year"] is not None:
            assert int(r["published"][:4]) > r["year"], r["file"]
        simple = t2s.convert(text) if r["script"] == "traditional" else text
        if r["script"] == "traditional":
            assert simple != text
        if r["has_spam"]:
            assert any(brand in simple for brand in gen.SPAM_BRANDS), r["file"]
        clean = {"title-split", "spam-title", "pinyin-gloss", "one-line"}.isdisjoint(r["noise"])
        if not r["title_derived"] and clean:
            assert r["title"] in simple, r["file"]
        if r["published"] and r["format"] == "txt":
            day = r["published"]
            assert day in simple or f"{int(day[:4])}年{day[5:7]}月{day[8:10]}日" in simple or (
                f"{int(day[:4])}/{int(day[5:7])}/{int(day[8:10])}" in simple or day.replace("-", ".") in simple), r["file"]


def test_archive_mixes_formats_encodings_and_damage(archive):
    _, rows = archive
    assert {r["format"] for r in rows} == {"txt", "html", "md"}
    assert {r["encoding"] for r in rows} >= {"utf-8", "gb18030", "utf-8-sig"}
    noise = {n for r in rows for n in r["noise"]}
    assert {"title-missing", "title-twice", "chrome", "merged-parts"} <= noise
    assert any("/" in r["file"] for r in rows)  # nested folders
    assert any(r["title_derived"] for r in rows)
    assert any(r["parts"] == [1, 2, 4] for r in rows)


def test_gbk_misaligned_numbering_matches_the_real_damage():
    assert gen.gbk_misaligned("一") == "?。ㄒ唬?"
    assert gen.gbk_misaligned("二") == "?。ǘ?"
    assert gen.gbk_misaligned("三") == "?。ㄈ?"


def test_pool_has_every_core_part_and_no_sample_names():
    pool = gen.build_pool()
    for part in (1, 2, 3, 4):
        assert len(pool.paras[part]) >= 3
    text = "".join(p for paras in pool.paras.values() for p in paras)
    for name in ("演陂", "鱼泉", "祠堂圩", "金石镇"):
        assert name not in text


def test_places_are_real_divisions_of_the_gazetteer(archive):
    """Every generated place is a division of the gazetteer (a department: one of a real
    county, district or city), with its real chain above it, so a generated archive has
    the hierarchy and the same-name places of a real one."""
    from site_builder.gazetteer import gazetteer

    gz = gazetteer()
    _, rows = archive
    levels = set()
    for r in rows:
        if r["place"] is None:  # a template: no place
            continue
        division = gz.get(r["code"])
        assert division is not None, r["file"]
        chain = gz.chain(division)
        assert [d.code for d in chain] == r["chain"], r["file"]
        assert r["region"] == "".join(d.name for d in chain[:-1]), r["file"]
        if r["level"] == "部门":
            assert division.level in (2, 3) and r["place"].startswith(division.name) and r["place"] != division.name
        else:
            assert r["place"] == division.name, r["file"]
            assert (division.level == 4) == (r["level"] in ("镇", "乡", "街道")), r["file"]
        levels.add(r["level"])
    assert levels == {"镇", "乡", "街道", "县", "区", "市", "部门"}
    assert len({r["chain"][0] for r in rows if r["chain"]}) >= 15  # spread over the provinces
