"""Whole builds of small archives written inline: pages, links, rebuilds, failures."""
from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SAMPLES, internal_links, report_text, tree, write_archive
from site_builder.build import build
from site_builder.state import Store, state_dir


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
    # the region tree: each report's division (by code) under its city and province; 城南区,
    # which the gazetteer does not list, under its county 安化县
    nodes = sorted(f.removesuffix("/index.html") for f in files if f.startswith("places/") and f != "places/index.html")
    assert nodes == ["places/" + k for k in (
        "430000", "430400", "430421", "430421105", "430900", "430923", "430923/chengnanqu", "431100", "431127",
        "431127108", "440000", "445100", "445103", "445103105", "500000", "500235", "500235124")]


def test_every_internal_link_resolves(tmp_path: Path):
    out = tmp_path / "output"
    assert build(SAMPLES, out).ok
    files = set(tree(out))
    broken = []
    for page in sorted(f for f in files if f.endswith(".html") and f != "404.html"):
        html = (out / page).read_text(encoding="utf-8")
        if re.search(r"(?:href|src)=&#34;", html):  # a link escaped into text: no browser follows it
            broken.append(f"{page}: escaped link")
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
    # breadcrumb: down the region tree to the report (演陂镇 is a division of the gazetteer)
    crumbs = html[html.index('aria-label="当前位置"'):html.index("</nav>", html.index('aria-label="当前位置"'))]
    assert re.findall(r"<li[^>]*>(?:<a[^>]*>)?([^<]+)", crumbs) == [
        "首页", "按地区", "湖南省", "衡阳市", "衡阳县", "演陂镇", "2024年度报告"]
    assert 'href="../../places/430421105/"' in crumbs
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
    assert '<td class="pub">青山县司法局</td>' in catalogue and '<td class="pub">白沙镇人民政府</td>' in catalogue
    data = json.loads((out / "reports.json").read_text(encoding="utf-8"))
    got = {r["id"]: (r["publisher"], r["issuer"], r["issuer_derived"]) for r in data["reports"]}
    assert got == {"qingshan-2023": ("青山县司法局", ["青山镇人民政府"], False),
                   "baisha-2023": (None, ["白沙镇人民政府"], True)}
    (content / "qingshan-2023.meta.toml").write_text('publisher = "青山镇人民政府"\n', encoding="utf-8")
    assert build(content, out).ok and cell("qingshan-2023") == "青山镇人民政府"


def test_place_and_year_pages_list_their_reports(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    html = (out / "places/430421105/index.html").read_text(encoding="utf-8")  # 演陂镇, by its code
    assert html.index("reports/yanpi-2024/") < html.index("reports/yanpi-2023/")  # newest first
    # a year page lists its provinces; their pages list the reports, in pages
    year = (out / "years/2024/index.html").read_text(encoding="utf-8")
    assert 'href="../../years/2024/430000/"' in year
    listed = "".join(p.read_text(encoding="utf-8") for p in (out / "years/2024").glob("*/index.html"))
    assert "reports/yanpi-2024/" in listed and "reports/hebei-qingshan-2024/" in listed
    assert "reports/yanpi-2023/" not in listed


def test_catalogue_is_paginated(tmp_path: Path):
    content = write_archive(tmp_path / "content", {
        f"r{i:02d}.txt": report_text(f"{'东南西北中'[i % 5]}{'山水林田湖'[i // 5]}镇", 2020 + i % 4)
        for i in range(12)
    } | {"site.toml": "per_page = 5\n"})
    out = tmp_path / "output"
    assert build(content, out).ok
    pages = sorted(p.relative_to(out).as_posix() for p in (out / "catalogue").rglob("index.html")
                   if re.fullmatch(r"catalogue/(\d+/)?index.html", p.relative_to(out).as_posix()))
    assert pages == ["catalogue/2/index.html", "catalogue/3/index.html", "catalogue/index.html"]
    last = (out / "catalogue/3/index.html").read_text(encoding="utf-8")
    assert "共 12 条，第 3/3 页" in last and '<td class="num">11</td>' in last and '<td class="num">12</td>' in last


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
    # the state holds the parses of the two remaining reports only
    assert len(stored(out, "parsed")) == len(stored(out, "reports")) == 2


def stored(out: Path, space: str) -> set[str]:
    store = Store.open(state_dir(out))
    try:
        return store.space(space).keys()
    finally:
        store.close()


def test_unchanged_reports_are_neither_reparsed_nor_rerendered(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    store = Store.open(state_dir(out))
    with store.transaction():
        store.space("reports").clear()  # a rebuild that needed a full report would now fail
    store.close()
    again = build(small_archive, out)
    assert again.ok and again.written == 0
    assert again.rendered < 20  # listings and static files only, not the 12 report files


def test_a_file_of_an_unchanged_report_removed_by_hand_comes_back(tmp_path: Path, small_archive: Path):
    out, fresh = tmp_path / "output", tmp_path / "fresh"
    assert build(small_archive, out).ok
    lost = out / "reports/hebei-qingshan-2024/original.html"
    lost.unlink()
    again = build(small_archive, out)  # nothing changed but a file of output/
    assert again.ok and lost.is_file() and again.changed == ()  # the same bytes as a deploy has
    lost.unlink()
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    edited = build(small_archive, out)  # and while another report's pages are staged first
    assert edited.ok and lost.is_file() and "reports/yanpi-2024/index.html" in edited.changed
    assert build(small_archive, fresh).ok and tree(out) == tree(fresh)


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
    assert not list(tmp_path.glob(".output.staging*"))


def test_cli_reports_all_problems_and_exits_nonzero(tmp_path: Path, small_archive: Path):
    (small_archive / "a-broken.txt").write_bytes(b"")
    (small_archive / "site.toml").write_text("per_page = 'many'\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--content", str(small_archive),
                          "--output", str(tmp_path / "out")], capture_output=True, text=True, env=env)
    assert run.returncode == 1
    assert "a-broken.txt:1: error: " in run.stderr
    assert "site.toml:1: error: " in run.stderr and "setting 'per_page' must be" in run.stderr
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
    assert list(first["timings"]) == ["parse", "assemble", "render+publish", "whoosh"]
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    code, edit = run_build()
    assert code == 0 and "reports/yanpi-2024/index.html" in edit["changed"]
    assert "reports/hebei-qingshan-2024/index.html" not in edit["changed"] and edit["written"] == len(edit["changed"])
    (small_archive / "a-broken.txt").write_bytes(b"")
    code, failed = run_build()
    assert code == 1 and not failed["ok"] and not failed["published"] and failed["errors"] == 1
    assert failed["changed"] == []


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


def test_the_parse_version_covers_every_module_a_parse_runs():
    """A change to any module a parse imports must invalidate the cached parses (and the
    pages, whose fingerprints take a summary's key for its fields)."""
    code = ("import sys\nfrom pathlib import Path\nfrom site_builder.content import stage\n"
            f"for p in sorted(Path({str(SAMPLES)!r}).iterdir()):\n"
            "    stage.parse_file_job((str(p.parent), p.name, 'v'))\n"
            "print(' '.join(sorted(m.__file__ for n, m in sys.modules.items() if n.startswith('site_builder'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    from site_builder.content.stage import PARSE_SOURCES

    package = REPO / "site_builder"
    covered = [package / name for name in PARSE_SOURCES]
    used = [Path(f) for f in done.stdout.split()]
    assert used and all(any(f == c or f.is_relative_to(c) for c in covered) for f in used), \
        [f for f in used if not any(f == c or f.is_relative_to(c) for c in covered)]


def test_each_rebuild_equals_a_build_from_scratch(tmp_path: Path, small_archive: Path):
    """Pages are skipped when their fingerprint is unchanged, so a fingerprint that misses
    an input would leave a stale listing: after each kind of edit the incremental output
    must be byte for byte what a fresh build gives."""
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    edits = [
        # a new title and a later publication date: home, catalogue, year, place, feed, data
        ("yanpi-2024.txt", report_text("演陂镇", 2024).replace("年度报告\n", "年度报告（修订）\n发布日期：2025-03-01\n", 1)),
        ("yanpi-2023.txt", report_text("演陂镇", 2022)),  # another year: year pages and prev/next
        ("hebei/qingshan-2024.txt", report_text("白沙镇", 2024)),  # another place
        ("new/lianhua-2021.txt", report_text("莲花乡", 2021, "新增一份。")),  # a new report
        # a department of 演陂镇's county: a new node under the county, its page's groups and grid
        ("new/hengyangxian-sifaju-2023.txt", report_text("衡阳县司法局", 2023).replace("我镇", "我局")),
        # a place the gazetteer does not list, under its county: the county's grid gets a row
        ("new/xinshe-2022.txt", report_text("衡阳县新设镇", 2022)),
        # the 主题分类 of the page: the report page and the data downloads
        ("yanpi-2023.txt", "主题分类：综合政务/其他\n" + report_text("演陂镇", 2022)),
        ("yanpi-2024.txt", None),  # a deleted one
        ("new/xinshe-2022.txt", None),  # and the only report of a node: the node goes
    ]
    for number, (rel, text) in enumerate(edits):
        if text is None:
            (small_archive / rel).unlink()
        else:
            write_archive(small_archive, {rel: text})
        assert build(small_archive, out).ok
        fresh = tmp_path / f"fresh-{number}"
        assert build(small_archive, fresh).ok
        assert tree(out) == tree(fresh), rel
