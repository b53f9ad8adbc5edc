"""Whole builds of small archives written inline: pages, links, rebuilds, failures."""
from __future__ import annotations

import gc
import json
import multiprocessing
import os
import posixpath
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SAMPLES, internal_links, report_text, tree, write_archive
from site_builder import build as build_module
from site_builder.site import datasets
from site_builder.content import stage as parse_cache
from site_builder.build import GC_THRESHOLDS, RENDER_MEMO, SEARCH_WORK, Warm, build, refresh_static_search, state_dir
from site_builder.render.memo import RenderMemo


def test_sample_archive_builds_every_page(tmp_path: Path):
    out = tmp_path / "output"
    result = build(SAMPLES, out)
    assert result.ok, [str(p) for p in result.problems]
    assert result.reports == 5
    files = tree(out)
    for name in ["index.html", "404.html", "sitemap.xml", "feed.xml", "catalogue/index.html",
                 "places/index.html", "years/index.html", "static/site.css"]:
        assert name in files, name
    for stem in ["yanpi-zhen-2024", "jinshi-zhen-2021", "citangxu-zhen-2024", "yuquan-zhen-2023",
                 "anhua-chengnanqu-2023"]:
        for page in ["index.html", "original.html", "original.txt", "report.json"]:
            assert f"reports/{stem}/{page}" in files
        # the original is published byte for byte
        assert files[f"reports/{stem}/original.txt"] == next(SAMPLES.glob(f"{stem}.*")).read_bytes()
    for year in [2021, 2023, 2024]:
        assert f"years/{year}/index.html" in files
    assert sum(1 for f in files if f.startswith("places/") and f != "places/index.html") == 5


def test_every_internal_link_resolves(tmp_path: Path):
    out = tmp_path / "output"
    assert build(SAMPLES, out).ok
    files = set(tree(out))
    broken = []
    for page in sorted(f for f in files if f.endswith(".html") and f != "404.html"):
        html = (out / page).read_text(encoding="utf-8")
        for link in internal_links(html):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link))
            if link.endswith("/") or target == ".":
                target = posixpath.join(target, "index.html") if target != "." else "index.html"
            if target not in files:
                broken.append(f"{page} -> {link}")
    assert not broken, broken[:20]


def test_report_page_structure(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    html = (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")
    # breadcrumb: 首页 > 法治政府建设年度报告 > 2024年 > 演陂镇
    crumbs = html[html.index('aria-label="当前位置"'):html.index("</nav>", html.index('aria-label="当前位置"'))]
    assert [w for w in ["首页", "法治政府建设年度报告", "2024年", "演陂镇"] if w in crumbs] == \
        ["首页", "法治政府建设年度报告", "2024年", "演陂镇"]
    assert crumbs.index("2024年") < crumbs.index("演陂镇")
    for label in ["索引号", "发布机构", "成文日期", "发布日期"]:
        assert f'<th scope="row">{label}</th>' in html
    assert 'data-font="large"' in html and "打印" in html and 'id="toc-h"' in html
    assert 'href="../../reports/yanpi-2023/"' in html  # previous report of the same place
    assert "下一篇：无" in html
    assert 'href="../../reports/yanpi-2024/original.html"' in html
    assert "一、2024年推进法治政府建设的主要举措和成效" in html


def test_the_pages_metadata_names_the_publisher_and_the_signature_the_issuer(tmp_path: Path):
    """发布机构 in the metadata table and the catalogue is what the captured page's metadata
    said (here another office than the signatory); the signature keeps the text's issuer,
    and an issuer derived from the place is marked so and never printed as a signature;
    the data downloads carry all three; a sidecar corrects the publisher."""
    body = report_text("青山镇", 2023).rstrip("\n")
    content = write_archive(tmp_path / "content", {
        "qingshan-2023.txt": "索引号：620702081/2024-00007 | 发布机构：青山县司法局 | 发布日期：2024-03-28\n"
                             + body + "\n青山镇人民政府\n2024年3月20日\n",
        "baisha-2023.txt": report_text("白沙镇", 2023),
    })
    out = tmp_path / "output"

    def cell(stem: str) -> str:
        html = (out / f"reports/{stem}/index.html").read_text(encoding="utf-8")
        return html.split('<th scope="row">发布机构</th><td>', 1)[1].split("</td>", 1)[0]

    assert build(content, out).ok
    assert cell("qingshan-2023") == "青山县司法局"
    assert cell("baisha-2023") == '白沙镇人民政府 <span class="tag">原文未署名，据地区推定</span>'
    page = (out / "reports/qingshan-2023/index.html").read_text(encoding="utf-8")
    assert '<p class="signature">青山镇人民政府<br>2024-03-20</p>' in page
    assert 'class="signature"' not in (out / "reports/baisha-2023/index.html").read_text(encoding="utf-8")
    catalogue = (out / "catalogue/index.html").read_text(encoding="utf-8")
    assert "<td>青山县司法局</td>" in catalogue and "<td>白沙镇人民政府</td>" in catalogue
    data = json.loads((out / "reports.json").read_text(encoding="utf-8"))
    got = {r["id"]: (r["publisher"], r["issuer"], r["issuer_derived"]) for r in data["reports"]}
    assert got == {"qingshan-2023": ("青山县司法局", ["青山镇人民政府"], False),
                   "baisha-2023": (None, ["白沙镇人民政府"], True)}
    (content / "qingshan-2023.meta.toml").write_text('publisher = "青山镇人民政府"\n', encoding="utf-8")
    assert build(content, out).ok and cell("qingshan-2023") == "青山镇人民政府"


def test_place_and_year_pages_list_their_reports(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    place = next(p for p in (out / "places").iterdir() if p.is_dir() and "yanbei" in p.name)
    html = (place / "index.html").read_text(encoding="utf-8")
    assert html.index("reports/yanpi-2024/") < html.index("reports/yanpi-2023/")  # newest first
    year = (out / "years/2024/index.html").read_text(encoding="utf-8")
    assert "reports/yanpi-2024/" in year and "reports/hebei-qingshan-2024/" in year
    assert "reports/yanpi-2023/" not in year


def test_catalogue_is_paginated(tmp_path: Path):
    content = write_archive(tmp_path / "content", {
        f"r{i:02d}.txt": report_text(f"{'东南西北中'[i % 5]}{'山水林田湖'[i // 5]}镇", 2020 + i % 4)
        for i in range(12)
    } | {"site.toml": "per_page = 5\n"})
    out = tmp_path / "output"
    assert build(content, out).ok
    pages = sorted(p.relative_to(out).as_posix() for p in (out / "catalogue").rglob("index.html"))
    assert pages == ["catalogue/2/index.html", "catalogue/3/index.html", "catalogue/index.html"]
    last = (out / "catalogue/3/index.html").read_text(encoding="utf-8")
    assert "共 12 条，第 3/3 页" in last and "<td>11</td>" in last and "<td>12</td>" in last


def test_rebuild_writes_only_what_changed_and_drops_stale_files(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    first = build(small_archive, out)
    assert first.ok and first.written > 0
    inode = (out / "reports/yanpi-2023/index.html").stat().st_ino
    assert build(small_archive, out).written == 0
    (small_archive / "yanpi-2024.txt").write_text(report_text("演陂镇", 2024, "新增一句。"), encoding="utf-8")
    third = build(small_archive, out)
    assert 0 < third.written < first.written
    assert "新增一句" in (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")
    assert (out / "reports/yanpi-2023/index.html").stat().st_ino == inode  # untouched page kept
    (small_archive / "hebei/qingshan-2024.txt").unlink()
    assert build(small_archive, out).ok
    assert not (out / "reports/hebei-qingshan-2024").exists()
    # the parse cache holds the two remaining reports only (one file each: summary, full report)
    assert len(list(state_dir(out).joinpath("parse").glob("*/*.pickle"))) == 2
    # what an interrupted build left goes when the cache is next listed: when a file is added
    orphan = state_dir(out).joinpath("parse", "ab", "ab" + "0" * 62 + ".pickle")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left behind")
    write_archive(small_archive, {"yanpi-2025.txt": report_text("演陂镇", 2025)})
    assert build(small_archive, out).ok and not orphan.exists()
    assert len(list(state_dir(out).joinpath("parse").glob("*/*.pickle"))) == 3


def test_deferred_static_search_keeps_the_last_bundle_until_refreshed(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    served = {p: (out / p).stat().st_ino for p in tree(out) if p.startswith("search/index/")}
    (small_archive / "yanpi-2024.txt").write_text(report_text("演陂镇", 2024, "新增踏勘规程。"), encoding="utf-8")
    edited = build(small_archive, out, search_now=False)
    assert edited.ok and edited.search_stale
    assert "踏勘规程" in (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")
    assert {p: (out / p).stat().st_ino for p in served} == served  # the old bundle, untouched
    refresh_static_search(edited.site, out)
    refreshed = build(small_archive, out, search_now=False)
    assert refreshed.ok and not refreshed.search_stale
    bundle = state_dir(out) / SEARCH_WORK / "bundles" / "0"
    assert {p: (out / p).read_bytes() for p in tree(out) if p.startswith("search/index/0/")} == {
        f"search/index/0/{p.name}": p.read_bytes() for p in bundle.iterdir()}
    # and it is what a full build gives
    fresh = tmp_path / "fresh"
    assert build(small_archive, fresh).ok
    assert {p: b for p, b in tree(out).items() if p.startswith("search/")} == {
        p: b for p, b in tree(fresh).items() if p.startswith("search/")}


def test_state_left_by_earlier_versions_is_removed(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    state = state_dir(out)
    (state / "pagefind" / "bundles" / "0").mkdir(parents=True)
    (state / "pagefind" / "bundles" / "0" / "pagefind.js").write_text("old", encoding="utf-8")
    legacy = ("manifest.json", "standby.json", "parse/stat-memo.pickle", "parse/memo.pickle")
    for rel in legacy:
        (state / rel).write_bytes(b"old")
    assert build(small_archive, out).ok
    assert not any((state / rel).exists() for rel in ("pagefind", *legacy))
    assert (state / "manifest.marshal").is_file() and (state / SEARCH_WORK).is_dir()


def test_an_edit_stores_its_part_of_the_parse_memo_only(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    parts = sorted(state_dir(out).joinpath("parse").glob("memo-*.pickle"))
    assert len(parts) == 3  # one file per part that holds a report
    for part in parts:
        os.utime(part, ns=(0, 0))
    assert build(small_archive, out).ok
    assert all(part.stat().st_mtime_ns == 0 for part in parts)  # nothing changed: nothing stored
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok
    assert sum(part.stat().st_mtime_ns != 0 for part in parts) == 1


def test_an_edit_to_a_report_of_a_known_place_takes_its_slug_without_loading_pinyin(tmp_path: Path,
                                                                                  small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})  # 2023's is known
    child = ("import sys; from pathlib import Path; from site_builder.build import build; "
             "r = build(Path(sys.argv[1]), Path(sys.argv[2])); "
             "print(r.ok, r.written > 0, sorted(e.report.place_slug for e in r.site.entries), "
             "any('pinyin' in m for m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", child, str(small_archive), str(out)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert run.stdout.split(None, 2) == ["True", "True", "['qingshanxiang', 'yanbeizhen', 'yanbeizhen'] False\n"]


def test_reports_to_parse_are_parsed_in_a_worker_while_the_caller_reads_ahead(tmp_path: Path,
                                                                              small_archive: Path, monkeypatch):
    cache, rels = tmp_path / "parse", ("yanpi-2023.txt", "yanpi-2024.txt", "hebei/qingshan-2024.txt")
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    done = []
    first, _ = parse_cache.parse_files(small_archive, rels, cache, meanwhile=lambda: done.append(os.getpid()))
    assert done == [os.getpid()]  # called once, in this process
    parsers, real = tmp_path / "parsers", parse_cache._parse_and_store

    def parse_and_store(job, known_slugs=None):
        with open(parsers, "a", encoding="utf-8") as log:  # a worker's memory is its own
            log.write(f"{os.getpid()}\n")
        return real(job, known_slugs)

    monkeypatch.setattr(parse_cache, "_parse_and_store", parse_and_store)  # forked workers only: not pickled
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    again, _ = parse_cache.parse_files(small_archive, rels, cache, meanwhile=lambda: done.append(os.getpid()))
    assert len(done) == 2 and [s.key for s in again] != [s.key for s in first]
    assert [s.place_slug for s in again] == [s.place_slug for s in first]
    pids = parsers.read_text(encoding="utf-8").split()
    assert len(pids) == 1 and pids[0] != str(os.getpid())  # by the worker started before the memo was read
    assert parse_cache.parse_files(small_archive, rels, cache, meanwhile=done.clear)[0] == again
    assert len(done) == 2 and len(parsers.read_text(encoding="utf-8").split()) == 1  # nothing to parse


def test_a_build_leaves_no_process_of_its_own_behind(tmp_path: Path, small_archive: Path, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(build_module, "READ_AHEAD_REPORTS", 1)  # reads ahead: a parser is started first
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    assert build(small_archive, out).ok  # nothing to parse: the parser is stopped
    assert multiprocessing.active_children() == []  # (one holding a pipe would keep `build-site | tee` waiting)
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok
    assert multiprocessing.active_children() == []


def test_a_build_starts_its_parser_before_it_lists_the_content(tmp_path: Path, small_archive: Path,
                                                                monkeypatch):
    import multiprocessing

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    children, real_find = [], build_module.find_report_paths
    monkeypatch.setattr(build_module, "find_report_paths",
                        lambda *a: (children.append(len(multiprocessing.active_children())), real_find(*a))[1])
    parsers, real_parse = tmp_path / "parsers", parse_cache._parse_and_store

    def parse_and_store(job, known_slugs=None):
        with open(parsers, "a", encoding="utf-8") as log:  # a worker's memory is its own
            log.write(f"{os.getpid()}\n")
        return real_parse(job, known_slugs)

    out = tmp_path / "output"
    monkeypatch.setattr(parse_cache, "_parse_and_store", parse_and_store)
    assert build(small_archive, out).ok and children == [1]
    assert multiprocessing.active_children() == []
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok and children == [1, 1]
    pids = parsers.read_text(encoding="utf-8").split()
    assert len(pids) == 4 and str(os.getpid()) not in pids  # every report parsed by the worker
    assert multiprocessing.active_children() == []


_LOGGED_PARSE = {"real": parse_cache._parse_and_store}


def _logged_parse(job, known_slugs=None):
    with open(_LOGGED_PARSE["log"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {os.getppid()}\n")
    time.sleep(_LOGGED_PARSE.get("slow", 0))
    return _LOGGED_PARSE["real"](job, known_slugs)


def _many_reports(tmp_path: Path, monkeypatch) -> tuple[Path, tuple[str, ...], Path]:
    """Twelve reports, three times PARALLEL_THRESHOLD (lowered), parses logged by pid."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parse_cache, "PARALLEL_THRESHOLD", 4)
    content = tmp_path / "content"
    write_archive(content, {f"place{n}/zhen-{2020 + n % 4}.txt": report_text(f"青山{n}镇", 2020 + n % 4, f"第{n}句。")
                            for n in range(12)})
    rels = tuple(sorted(str(p.relative_to(content)) for p in content.rglob("*.txt")))
    parsers = tmp_path / "parsers"
    monkeypatch.setitem(_LOGGED_PARSE, "log", parsers)
    monkeypatch.setattr(parse_cache, "_parse_and_store", _logged_parse)  # helpers get it by name
    return content, rels, parsers


def test_many_reports_are_parsed_by_helpers_the_parser_forks(tmp_path: Path, monkeypatch):
    content, rels, parsers = _many_reports(tmp_path, monkeypatch)
    with parse_cache.early_parser(tmp_path / "parse") as parser:
        summaries, problems = parse_cache.parse_files(content, rels, tmp_path / "parse", parser=parser)
    assert multiprocessing.active_children() == []
    pairs = [line.split() for line in parsers.read_text(encoding="utf-8").splitlines()]
    assert len(pairs) == 12 and len({pid for pid, _ in pairs}) == 2  # two helpers ...
    assert len({parent for _, parent in pairs}) == 1 and str(os.getpid()) not in pairs[0]  # ... of the parser
    alone = parse_cache.parse_files(content, rels, tmp_path / "alone")
    assert summaries == alone[0] and problems == alone[1] and [s.source for s in summaries] == list(rels)


def test_a_build_that_stops_reading_its_parser_leaves_no_helper_behind(tmp_path: Path, monkeypatch):
    content, rels, parsers = _many_reports(tmp_path, monkeypatch)
    monkeypatch.setitem(_LOGGED_PARSE, "slow", 0.3)  # the helpers are mid-parse when the build stops
    jobs = [(content / rel, rel, f"{n:064x}", tmp_path / "parse") for n, rel in enumerate(rels)]
    with parse_cache.early_parser(tmp_path / "parse") as parser:
        first = next(parse_cache._parse_many(jobs, dict, None, parser))
    assert first[0].source == rels[0]
    assert multiprocessing.active_children() == []
    helpers = {int(pid) for pid, _ in (line.split() for line in parsers.read_text(encoding="utf-8").splitlines())}
    assert len(helpers) == 2
    deadline = time.monotonic() + 10
    while helpers and time.monotonic() < deadline:  # they end with the chunk they are parsing
        helpers = {pid for pid in helpers if _alive(pid)}
        time.sleep(0.05)
    assert not helpers
    assert len(parsers.read_text(encoding="utf-8").splitlines()) < len(rels)  # the rest was dropped


def _failing_parse(job, known_slugs=None):
    if "place3/" in job[1]:
        raise ValueError("a bug in the parser")
    return _LOGGED_PARSE["real"](job, known_slugs)


def test_a_helper_that_fails_fails_the_parse_with_its_error_shown(tmp_path: Path, monkeypatch, capfd):
    content, rels, _ = _many_reports(tmp_path, monkeypatch)
    monkeypatch.setattr(parse_cache, "_parse_and_store", _failing_parse)
    with pytest.raises(RuntimeError, match="parse helper"):
        parse_cache.parse_files(content, rels, tmp_path / "parse", meanwhile=lambda: None)  # helpers of this process
    assert "ValueError: a bug in the parser" in capfd.readouterr().err
    assert multiprocessing.active_children() == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_reports_are_parsed_here_when_the_worker_started_first_fails(tmp_path: Path, small_archive: Path,
                                                                      monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parse_cache, "_parser_worker", lambda connection: os._exit(1))
    cache, rels = tmp_path / "parse", ("yanpi-2023.txt", "yanpi-2024.txt", "hebei/qingshan-2024.txt")
    cache.mkdir()  # as on a rebuild
    done = []
    summaries, problems = parse_cache.parse_files(small_archive, rels, cache, meanwhile=lambda: done.append(1))
    assert done == [1] and [s.source for s in summaries] == list(rels) and not problems
    assert summaries == parse_cache.parse_files(small_archive, rels, tmp_path / "other")[0]


def test_unchanged_reports_are_neither_reparsed_nor_rerendered(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    for full in state_dir(out).joinpath("parse").glob("*/*.pickle"):
        full.unlink()  # a rebuild that needed a full report would now fail
    again = build(small_archive, out)
    assert again.ok and again.written == 0
    assert again.rendered < 20  # listings and static files only, not the 12 report files


def test_a_file_of_an_unchanged_report_removed_by_hand_comes_back(tmp_path: Path, small_archive: Path):
    out, fresh = tmp_path / "output", tmp_path / "fresh"
    assert build(small_archive, out).ok
    lost = out / "reports/hebei-qingshan-2024/original.html"
    lost.unlink()
    again = build(small_archive, out)  # nothing changed: the carried group falls back to its pages
    assert again.ok and lost.is_file() and again.changed == ()  # the same bytes as a deploy has
    lost.unlink()
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    edited = build(small_archive, out)  # and while another report's pages are staged first
    assert edited.ok and lost.is_file() and "reports/yanpi-2024/index.html" in edited.changed
    assert build(small_archive, fresh).ok and tree(out) == tree(fresh)


def test_command_line_builds_keep_the_render_memo_in_the_state_dir(tmp_path: Path, small_archive: Path,
                                                                    monkeypatch):
    out = tmp_path / "output"
    first = build(small_archive, out)
    assert first.ok
    path = state_dir(out) / RENDER_MEMO

    def stored() -> RenderMemo:
        memo = RenderMemo()
        memo.load(path)
        return memo

    assert set(stored().reports) == {"yanpi-2023", "yanpi-2024", "hebei-qingshan-2024"}
    made = []  # the data file lines made afresh
    for kind, make in list(datasets.LINE_MAKERS.items()):
        monkeypatch.setitem(datasets.LINE_MAKERS, kind, lambda e, c, make=make: made.append(e.id) or make(e, c))
    hidden = {}  # a build that rendered another report's pages would fail without these
    for entry in first.site.entries:
        if entry.id != "yanpi-2024":
            full = state_dir(out).joinpath("parse", entry.report.key[:2], f"{entry.report.key}.pickle")
            hidden[full] = full.read_bytes()
            full.unlink()
    # new bytes, the same sentences: the other reports' pages show what they showed
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024) + "\n\n"})
    assert build(small_archive, out).ok and made == ["yanpi-2024", "yanpi-2024"]  # one line in each data file
    for full, data in hidden.items():
        full.write_bytes(data)
    # a damaged memo costs a slower build (every line made again), never a wrong one
    parts = sorted(path.glob("*.pickle"))
    assert {p.name.split("-")[0] for p in parts} == set(RenderMemo.TABLES)
    for part in parts:
        part.write_bytes(b"\x80\x05damaged")
    made.clear()
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok
    assert sorted(made) == sorted(["yanpi-2023", "yanpi-2024", "hebei-qingshan-2024"] * 2)
    fresh = tmp_path / "fresh"
    assert build(small_archive, fresh).ok and tree(out) == tree(fresh)
    (small_archive / "yanpi-2024.txt").unlink()
    (small_archive / "hebei/qingshan-2024.txt").unlink()
    assert build(small_archive, out).ok
    memo = stored()
    assert set(memo.reports) == {"yanpi-2023"}  # gone reports, their year and place pages are forgotten
    assert memo.fingerprints and not [url for url in memo.fingerprints if "2024" in url or "qingshan" in url]


def test_an_edit_stores_only_the_render_memo_parts_it_changed(tmp_path: Path, small_archive: Path):
    out, fresh = tmp_path / "output", tmp_path / "fresh"
    assert build(small_archive, out).ok
    folder = state_dir(out) / RENDER_MEMO
    for part in folder.glob("*.pickle"):
        os.utime(part, ns=(0, 0))
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok
    parts = sorted(folder.glob("*.pickle"))
    stored = [part for part in parts if part.stat().st_mtime_ns != 0]
    assert stored and len(stored) < len(parts) / 2
    assert {part.name.split("-")[0] for part in stored} == set(RenderMemo.TABLES)  # the edited report's, each

    def memo_of(output: Path) -> RenderMemo:
        memo = RenderMemo()
        memo.load(state_dir(output) / RENDER_MEMO)
        return memo

    assert build(small_archive, fresh).ok
    edited, made = memo_of(out), memo_of(fresh)
    for name in RenderMemo.TABLES:  # what the parts hold together is what a fresh build stores
        assert getattr(edited, name) == getattr(made, name), name


def test_a_process_that_builds_again_stores_its_render_memo_after_the_first_build(tmp_path: Path,
                                                                                  small_archive: Path):
    out, warm = tmp_path / "output", Warm()
    assert build(small_archive, out, warm=warm).ok
    parts = sorted((state_dir(out) / RENDER_MEMO).glob("*.pickle"))
    assert parts  # the next process (a command-line build, a new server) starts from it
    for part in parts:
        os.utime(part, ns=(0, 0))
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out, warm=warm).ok
    assert sorted((state_dir(out) / RENDER_MEMO).glob("*.pickle")) == parts
    assert {part.stat().st_mtime_ns for part in parts} == {0}  # later builds keep it in memory: an edit costs no store


def test_failed_build_leaves_output_untouched(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    before = tree(out)
    (small_archive / "broken.txt").write_bytes(b"\xff\xfe\x00\xd8")  # UTF-16 BOM, lone surrogate
    (small_archive / "empty.txt").write_bytes(b"")
    result = build(small_archive, out)
    assert not result.ok
    errors = sorted(str(p) for p in result.problems if p.severity == "error")
    assert errors[0].startswith("broken.txt:1: error:") and errors[1].startswith("empty.txt:1: error:")
    assert tree(out) == before
    assert not list(tmp_path.glob(".output.staging-*"))


def test_a_build_collects_less_often_and_then_restores_the_collector(tmp_path: Path, small_archive: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    seen, frozen = [], []
    real = parse_cache.parse_files
    monkeypatch.setattr(parse_cache, "parse_files",
                        lambda *a, **k: (seen.append(gc.get_threshold()), real(*a, **k))[1])
    real_assemble = build_module.assemble_site
    monkeypatch.setattr(build_module, "assemble_site",
                        lambda summaries: (frozen.append(gc.get_freeze_count()), real_assemble(summaries))[1])
    before = gc.get_threshold()
    try:
        gc.set_threshold(123, 4, 5)
        assert build(small_archive, tmp_path / "a").ok
        assert gc.get_threshold() == (123, 4, 5)
        (small_archive / "broken.txt").write_bytes(b"")
        assert not build(small_archive, tmp_path / "a").ok
        assert gc.get_threshold() == (123, 4, 5)
    finally:
        gc.set_threshold(*before)
    assert seen == [GC_THRESHOLDS] * 2
    # the rebuild's parse memo was frozen once read (never walked by a collection), and
    # nothing is left frozen after it: a process that builds again collects it as usual
    assert frozen[1] > 0 and gc.get_freeze_count() == 0 and gc.isenabled()


def test_cli_reports_all_problems_and_exits_nonzero(tmp_path: Path, small_archive: Path):
    (small_archive / "a-broken.txt").write_bytes(b"")
    (small_archive / "site.toml").write_text("per_page = 'many'\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--content", str(small_archive),
                          "--output", str(tmp_path / "out")], capture_output=True, text=True, env=env)
    assert run.returncode == 1
    assert "a-broken.txt:1: error: file is empty" in run.stderr
    assert "site.toml:1: error: setting 'per_page'" in run.stderr
    assert not (tmp_path / "out").exists()


def test_cli_json_tells_a_deploy_what_changed(tmp_path: Path, small_archive: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "out"

    def run_build() -> tuple[int, dict]:
        run = subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--content", str(small_archive),
                              "--output", str(out), "--json"], capture_output=True, text=True, env=env)
        return run.returncode, json.loads(run.stdout)  # the whole object: streams flushed before the quick exit

    code, first = run_build()
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert code == 0 and first["ok"] and first["reports"] == 3
    assert first["changed"] == files and first["written"] == len(files)
    assert list(first["timings"]) == ["load+parse", "assemble", "static search", "render+write", "whoosh (rest)"]
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    code, edit = run_build()
    assert code == 0 and "reports/yanpi-2024/index.html" in edit["changed"]
    assert "reports/hebei-qingshan-2024/index.html" not in edit["changed"] and edit["written"] == len(edit["changed"])
    (small_archive / "a-broken.txt").write_bytes(b"")
    code, failed = run_build()
    assert code == 1 and not failed["ok"] and failed["errors"] == 1 and failed["changed"] == []


def test_a_sidecar_added_edited_or_removed_is_seen_by_the_next_build(tmp_path: Path, small_archive: Path):
    """The parse memo's stamp of a report includes its sidecar's: a rebuild learns of a
    sidecar from the folder listing, and reads an edited one again."""
    out = tmp_path / "output"

    def place() -> str:
        data = json.loads((out / "reports/yanpi-2024/report.json").read_text(encoding="utf-8"))
        return data["place"]

    for report in small_archive.rglob("*.txt"):  # settled: the parse memo trusts their stamps
        os.utime(report, ns=(10**18, 10**18))
    assert build(small_archive, out).ok and place() == "演陂镇"
    sidecar = small_archive / "yanpi-2024.meta.toml"
    sidecar.write_text('place = "侧车镇"\n', encoding="utf-8")
    assert build(small_archive, out).ok and place() == "侧车镇"
    sidecar.write_text('place = "新桥镇"\n', encoding="utf-8")
    os.utime(sidecar, ns=(1, 1))  # same size, another time: a different file to the stamp
    assert build(small_archive, out).ok and place() == "新桥镇"
    sidecar.unlink()
    assert build(small_archive, out).ok and place() == "演陂镇"


def test_strict_fails_on_warnings(tmp_path: Path, small_archive: Path):
    (small_archive / "yanpi-2024.meta.toml").write_text('colour = "red"\n', encoding="utf-8")
    assert build(small_archive, tmp_path / "a").ok
    assert not build(small_archive, tmp_path / "b", strict=True).ok


def test_subfolder_base_path_and_absolute_feed(tmp_path: Path, small_archive: Path):
    (small_archive / "site.toml").write_text('base_path = "/archive/"\nbase_url = "https://example.org"\n',
                                             encoding="utf-8")
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    assert 'href="/archive/static/site.css"' in (out / "404.html").read_text(encoding="utf-8")
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "<loc>https://example.org/archive/reports/yanpi-2024/</loc>" in sitemap
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert "<id>https://example.org/archive/reports/yanpi-2023/</id>" in feed
    # pages link relatively, so the same output works under any folder
    assert 'href="../../static/site.css"' in (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")


def test_two_builds_are_byte_identical(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(SAMPLES, a).ok and build(SAMPLES, b).ok
    assert tree(a) == tree(b)


def test_state_is_kept_outside_output(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    state = state_dir(out)
    assert state.is_dir() and not state.is_relative_to(out)
    assert not any(p.suffix == ".pickle" for p in out.rglob("*"))


def test_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path, small_archive: Path):
    """Keys are remembered by stat; an edit restoring size and mtime still changes ctime."""
    out = tmp_path / "output"
    path = small_archive / "yanpi-2024.txt"
    old = path.stat()
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns - 10**10))  # not racily recent
    assert build(small_archive, out).ok
    text = path.read_text(encoding="utf-8").replace("坚持依法行政", "坚持依法办事")
    stat = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert build(small_archive, out).ok
    assert "坚持依法办事" in (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")


def test_parse_cache_version_covers_every_module_parsing_runs():
    """PARSE_MODULES must name every module parse_file and Summary.of import, or a change
    to one of them would leave stale parses in the cache (and pages, whose fingerprints
    take a summary's key for its fields)."""
    code = ("import sys\nfrom pathlib import Path\nfrom site_builder.content import stage as parse_cache\n"
            f"for p in sorted(Path({str(SAMPLES)!r}).iterdir()):\n"
            "    report, _ = parse_cache.parse_file(p, p.name)\n"
            "    parse_cache.Summary.of(report, 'key')\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('site_builder'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    from site_builder.content.stage import PARSE_MODULES

    used = {m.split(".", 1)[1].replace(".", "/") if "." in m else "__init__" for m in done.stdout.split()}
    used = {f"{m}/__init__" if (REPO / "site_builder" / m).is_dir() else m for m in used}
    assert used and used <= set(PARSE_MODULES), used - set(PARSE_MODULES)


@pytest.mark.parametrize("warm, ahead", [(False, False), (False, True), (True, False)],
                         ids=["cold-process", "read-ahead", "warm-memos"])
def test_each_rebuild_equals_a_build_from_scratch(tmp_path: Path, small_archive: Path, warm: bool, ahead: bool,
                                                  monkeypatch: pytest.MonkeyPatch):
    """Pages are skipped when their fingerprint is unchanged, so a fingerprint that misses
    an input would leave a stale listing: after each kind of edit the incremental output
    must be byte for byte what a fresh build gives. Also with the memos the preview
    server keeps in memory between builds, and with the state read ahead while a worker
    parses (as in large archives)."""
    read = []
    if ahead:
        monkeypatch.setattr(build_module, "READ_AHEAD_REPORTS", 1)
        real = build_module._read_ahead
        monkeypatch.setattr(build_module, "_read_ahead", lambda *a: (read.append(a), real(*a)))
    out = tmp_path / "output"
    memos = Warm() if warm else None
    assert build(small_archive, out, warm=memos).ok
    edits = [
        # a new title and a later publication date: home, catalogue, year, place, feed, data
        ("yanpi-2024.txt", report_text("演陂镇", 2024).replace("年度报告\n", "年度报告（修订）\n发布日期：2025-03-01\n", 1)),
        ("yanpi-2023.txt", report_text("演陂镇", 2022)),  # another year: year pages and prev/next
        ("hebei/qingshan-2024.txt", report_text("白沙镇", 2024)),  # another place
        ("new/lianhua-2021.txt", report_text("莲花乡", 2021, "新增一份。")),  # a new report
        ("yanpi-2024.txt", None),  # a deleted one
    ]
    for number, (rel, text) in enumerate(edits):
        if text is None:
            (small_archive / rel).unlink()
        else:
            write_archive(small_archive, {rel: text})
        assert build(small_archive, out, warm=memos).ok
        fresh = tmp_path / f"fresh-{number}"
        assert build(small_archive, fresh).ok
        assert tree(out) == tree(fresh), rel
    assert len(read) >= (9 if ahead else 0)  # each build that parsed something (the deletion did not)
