"""Static search: the index files hold exactly each report's stream, are rebuilt per
shard and byte-stable; in headless Chromium the page finds what the truth and the Whoosh
index find, from a subfolder, with nothing from other hosts."""
from __future__ import annotations

import functools
import http.server
import json
import os
import random
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from site_builder.search import whoosh_index as si
from site_builder.search.whoosh_update import update_index
from site_builder.search import static_format as static_index
from site_builder.search import static_shards as static_search
from site_builder.text import chars as chars_
from site_builder.text import normalize as normalize_
from site_builder.text import stream as stream_
from site_builder.config import SiteConfig
from site_builder.render.pages import make_environment
from site_builder.render.theme import STATIC_DIR

from search_fixtures import JUDGED, make_site, truth

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
SUBFOLDER = "archive/sub/"  # the site is served from a subfolder of the host


def write_fixture_site(site, out: Path, work: Path | None = None) -> None:
    static_search.write_static_search(site, out, work_dir=work)
    env = make_environment()
    page = env.get_template("search.html").render(config=SiteConfig(), root="../", page_url="search/")
    (out / "search").mkdir(parents=True, exist_ok=True)
    (out / "search" / "index.html").write_text(page, encoding="utf-8")
    shutil.copytree(STATIC_DIR, out / "static", dirs_exist_ok=True)
    for entry in site.entries:  # stand-ins for the report pages the results link to, and their data
        (out / "reports" / entry.id).mkdir(parents=True, exist_ok=True)
        (out / "reports" / entry.id / "index.html").write_text(
            f"<!DOCTYPE html><title>{entry.id}</title><h1>{entry.id}</h1>", encoding="utf-8")
        (out / "reports" / entry.id / "report.json").write_text(
            json.dumps({"id": entry.id, **entry.report.to_json()}, ensure_ascii=False), encoding="utf-8")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    return make_site()


@pytest.fixture(scope="module", params=[None, 3], ids=["one-shard", "shards-of-3"])
def served(site, tmp_path_factory, request):
    top = tmp_path_factory.mktemp("static")
    with pytest.MonkeyPatch.context() as patch:
        if request.param:
            patch.setattr(static_search, "SHARD_SIZE", request.param)
        write_fixture_site(site, top / SUBFOLDER)
    listed = [s["name"] for s in json.loads((top / SUBFOLDER / static_search.META_PATH).read_bytes())["shards"]]
    assert len(listed) > 2 if request.param else listed == ["0"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(top)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{SUBFOLDER}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def whoosh_dir(site, tmp_path_factory):
    path = tmp_path_factory.mktemp("whoosh") / "whoosh"
    update_index(site, path)
    return path


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context()
    page = context.new_page()
    errors, requests = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(served + "search/")
    page.wait_for_function("window.siteSearch !== undefined")
    page.errors, page.requests, page.base = errors, requests, served
    yield page
    assert errors == []
    assert all(url.startswith(served.split(SUBFOLDER)[0]) for url in requests), requests
    context.close()


def static_ids(page, query, filters=None) -> list[str]:
    return page.evaluate("([q, f]) => window.siteSearch.ids(q, f)", [query, filters or {}])


def test_judged_queries_agree_across_static_whoosh_and_truth(page, site, whoosh_dir):
    for query, expected, note in JUDGED:
        found = static_ids(page, query)
        assert len(found) == len(set(found)), query
        whoosh = {h.id for h in si.search(whoosh_dir, query, limit=None).hits}
        assert set(found) == whoosh == truth(site, query), (query, note)


def test_phrases_cut_from_the_reports_find_exactly_the_reports_holding_them(page, site):
    """Han phrases of 2 to 16 characters cut at random from the texts: the static search
    (which leaves out the bigrams implied by their neighbours) finds exactly the truth."""
    rng = random.Random(7)
    runs = [run for e in site.entries for run in re.findall(r"[\u4e00-\u9fff]{2,}", e.report.text)]
    for _ in range(60):
        run = rng.choice(runs)
        size = rng.randint(2, min(16, len(run)))
        start = rng.randrange(len(run) - size + 1)
        query = run[start:start + size]
        assert set(static_ids(page, query)) == truth(site, query), query


def test_a_left_out_bigram_is_implied_by_the_two_kept_around_it(page):
    for query in ["营商环境", "深入贯彻习近平法治思想", "放管服", "2023年度工作", "gdp增长率", "镇", "一二三四五六七"]:
        for clause in page.evaluate("q => window.siteSearch.parseQuery(q)", query):
            tokens = clause["tokens"]
            kept = dict(page.evaluate("t => window.siteSearch.neededTokens(t)", tokens))
            assert 0 in kept and len(tokens) - 1 in kept and all(kept[i] == tokens[i] for i in kept), query
            for i in set(range(len(tokens))) - set(kept):
                before, here, after = tokens[i - 1], tokens[i], tokens[i + 1]
                assert i - 1 in kept and i + 1 in kept, (query, i)
                assert all(len(t) == 2 and chars_.is_han(t[0]) and chars_.is_han(t[1]) for t in (before, here, after))
                assert before[1] == here[0] and here[1] == after[0], (query, i)
            if len(tokens) > 3 and all(len(t) == 2 for t in tokens):
                assert len(kept) < len(tokens)  # a long phrase fetches fewer buckets


def test_traditional_queries_find_the_same_reports(page):
    for trad, simp in [("優化營商環境", "优化营商环境"), ("楓橋經驗", "枫桥经验"), ("鎮", "镇"), ("行政復議", "行政复议")]:
        assert sorted(static_ids(page, trad)) == sorted(static_ids(page, simp)) != []


def test_filters_and_several_terms(page, site, whoosh_dir):
    assert set(static_ids(page, "营商", {"year": "2023"})) == truth(site, "营商", year="2023")
    assert set(static_ids(page, "营商", {"level": "镇", "place": "金石镇"})) == {"jinshi-2021", "jinshi-2022"}
    both = set(static_ids(page, "营商环境 放管服"))
    assert both == {h.id for h in si.search(whoosh_dir, "营商环境 放管服", limit=None).hits} == \
        truth(site, "营商环境") & truth(site, "放管服")


HOSTILE = ["", " ", "\x00\x01", "\"", "*?:()[]{}^~", "AND OR NOT", "营" * 10_000, "a" * 10_000,
           "<img src=x onerror=alert(1)>", "\ufeff\u200b", "营商\x00环境", "\ud800", "_", "_，"]


def test_hostile_queries_return_cleanly(page, whoosh_dir):
    for query in HOSTILE:
        found = static_ids(page, query)
        assert set(found) == {h.id for h in si.search(whoosh_dir, query, limit=None).hits}, query
    page.fill("#search-q", "<img src=x onerror=alert(1)>")
    page.press("#search-q", "Enter")
    page.wait_for_selector("body[data-search-done]")
    assert page.query_selector("#search-results img") is None


def test_the_page_by_keyboard_with_highlighted_excerpts(page):
    page.keyboard.press("Tab")  # skip link first: the form is reachable by keyboard
    page.focus("#search-q")
    page.keyboard.type("楓橋經驗")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-search-done]")
    assert page.inner_text("#search-status") == "共找到 2 篇报告。"
    items = page.query_selector_all("#search-results li")
    assert sorted(i.get_attribute("data-id") for i in items) == ["jinshi-2021", "yanpi-2024"]
    marks = page.eval_on_selector_all("#search-results mark", "ms => ms.map(m => m.textContent)")
    assert "枫桥经验" in marks
    href = items[0].query_selector("a").get_attribute("href")
    assert href.startswith("../reports/")
    page.click("#search-results li a")
    page.wait_for_load_state()
    assert page.url.startswith(page.base + "reports/")


def test_query_in_the_address_and_filter_options(page):
    page.goto(page.base + "search/?q=%E8%90%A5%E5%95%86&year=2023")
    page.wait_for_selector("body[data-search-done]")
    ids = sorted(i.get_attribute("data-id") for i in page.query_selector_all("#search-results li"))
    assert ids == ["anhua-2023", "qingshan-2023", "yuquan-2023"]
    assert page.input_value("#search-year") == "2023"
    levels = page.eval_on_selector_all("#search-level option", "os => os.map(o => o.value)")
    assert set(levels) == {"", "镇", "乡", "区", "街道", "部门"}


def test_excerpts_show_the_original_text_with_the_matches_marked(page):
    def excerpt(text, query):
        pieces = page.evaluate("([t, q]) => window.siteSearch.excerpt(t, q)", [text, query])
        return "".join(p["text"] for p in pieces), [p["text"] for p in pieces if p["marked"]]

    assert excerpt("２０２４年度，優化營商環境。", "营商环境") == ("２０２４年度，優化營商環境。", ["營商環境"])
    assert excerpt("12023年和2023年", "2023年") == ("12023年和2023年", ["2023年"])  # whole digit runs only
    assert excerpt("执法培训与执法监督", "执法 培训") == ("执法培训与执法监督", ["执法培训", "执法"])
    text, marks = excerpt("前言" * 100 + "枫桥经验" + "后记" * 100, "枫桥经验")
    assert marks == ["枫桥经验"] and text.startswith("…") and text.endswith("…") and len(text) < 100
    assert excerpt("没有匹配", "营商") == ("没有匹配", [])


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_index_holds_each_report_stream(site, tmp_path, monkeypatch):
    monkeypatch.setattr(static_search, "SHARD_SIZE", 3)
    static_search.write_static_search(site, tmp_path)
    folder = tmp_path / static_search.BUNDLE_DIR
    meta = json.loads((folder / "meta.json").read_bytes())
    assert meta["reports"] == len(site.entries) and sum(s["reports"] for s in meta["shards"]) == len(site.entries)
    assert meta["filters"]["level"]["镇"] == sum(e.report.level == "镇" for e in site.entries)
    rebuilt, chars, filters, lengths = {}, {}, {}, {}
    for shard in meta["shards"]:
        here = folder / shard["name"]
        assert sorted(p.name for p in here.iterdir()) == static_index.file_names(shard["reports"])
        ids = [i for n in range(-(-shard["reports"] // static_index.IDS_PER_FILE))
               for i in json.loads((here / static_index.ids_name(n)).read_bytes())]
        docs = static_index.decode_docs((here / "docs.bin").read_bytes())
        assert len(ids) == len(docs) == shard["reports"]
        streams = [[None] * length for length, _ in docs]
        lengths.update(zip(ids, docs))
        for n in range(shard["buckets"]):
            name = static_index.bucket_name(n)
            for token, postings in static_index.decode_bucket((here / name).read_bytes()).items():
                assert static_index.bucket_name(static_index.bucket_of(token, shard["buckets"])) == name
                for doc, positions in postings:
                    if token.startswith(static_index.CHAR):
                        chars.setdefault(ids[doc], {})[token[1:]] = positions
                    elif token.startswith(static_index.FILTER):
                        assert positions == [0]
                        filters.setdefault(ids[doc], set()).add(token[1:])
                    else:
                        for position in positions:
                            streams[doc][position] = token
        rebuilt.update(zip(ids, streams))
    for entry in site.entries:
        r = entry.report
        stream = stream_.stream(normalize_.normalize(r.title + "\n" + r.text))
        assert rebuilt[entry.id] == stream, entry.id
        assert lengths[entry.id] == (len(stream), len(stream_.stream(normalize_.normalize(r.title))))
        starting = {}  # a one-character query: the positions whose token starts with it
        for position, token in enumerate(stream):
            if token and chars_.is_han(token[0]):
                starting.setdefault(token[0], []).append(position)
        assert chars[entry.id] == starting, entry.id
        assert filters[entry.id] == {f"{k}={v}" for k, v in zip(("year", "place", "level"),
                                                                  (r.year and str(r.year), r.place, r.level)) if v}


def test_stable_order_is_a_stable_argsort():
    rng = np.random.default_rng(7)
    for high in (1, 300, 1 << 16, (1 << 16) + 1, 1 << 31):  # one radix pass, and two
        keys = rng.integers(0, high, 5000)
        assert np.array_equal(static_index.stable_order(keys), np.argsort(keys, kind="stable")), high
    assert len(static_index.stable_order(np.zeros(0, dtype=np.int64))) == 0


def test_varints_are_the_one_value_encoding_back_to_back():
    rng = np.random.default_rng(11)
    for high in (1, 128, 1 << 14, 1 << 21, (1 << 31) - 1):  # one byte to five
        values = np.append(rng.integers(0, high, 3000), [0, high - 1]).astype(np.int32)
        data, offsets = static_index._varints(values)
        one_by_one = [static_index.varint(v) for v in values.tolist()]
        assert data == b"".join(one_by_one), high
        assert offsets.tolist() == [0, *np.cumsum([len(b) for b in one_by_one])[:-1].tolist()], high
    data, offsets = static_index._varints(np.zeros(0, dtype=np.int32))
    assert data == b"" and len(offsets) == 0


def test_shards_are_rebuilt_only_when_reports_change(site, tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    static_search.write_static_search(site, out, work_dir=work)
    stamps = {p: p.stat().st_mtime_ns for p in (work / "bundles").iterdir()}
    out2 = tmp_path / "out2"
    static_search.write_static_search(site, out2, work_dir=work)
    assert {p: p.stat().st_mtime_ns for p in (work / "bundles").iterdir()} == stamps
    assert _tree(out2) == _tree(out)
    assert (out2 / static_search.CHAR_MAP_PATH).read_text(encoding="utf-8").startswith("/*")
    assert _tree(out) == _tree_of_fresh_build(site, tmp_path / "fresh")  # no trace of the work folder's history

    smaller = make_site(specs=[s for s in __import__("search_fixtures").SPECS if s[0] != "wutitle-2021"])
    static_search.write_static_search(smaller, tmp_path / "out3", work_dir=work)
    ids = json.loads((tmp_path / "out3" / static_search.BUNDLE_DIR / "0" / "ids-0.json").read_bytes())
    assert "wutitle-2021" not in ids and len(ids) == len(site.entries) - 1


def _tree_of_fresh_build(site, out: Path) -> dict[str, bytes]:
    static_search.write_static_search(site, out)
    return _tree(out)


def _pages(site, work):
    from site_builder.workers import Pool

    with Pool() as pool, static_search.static_search_later(site, work, pool) as pages:
        return list(pages)


def test_static_search_pages_for_write_site(site, tmp_path):
    pages = list(_pages(site, tmp_path / "work"))
    paths = [p.path for p in pages]
    assert "search/index/0/ids-0.json" in paths and static_search.CHAR_MAP_PATH in paths
    assert len(paths) == len(set(paths))
    again = {p.path: p.fingerprint for p in _pages(site, tmp_path / "work")}
    assert again == {p.path: p.fingerprint for p in pages}
    by_path = {p.path: p for p in pages}
    assert by_path["search/index/0/ids-0.json"].produce() == \
        (tmp_path / "work" / "bundles" / "0" / "ids-0.json").read_bytes()
    assert [s["name"] for s in json.loads(by_path[static_search.META_PATH].produce())["shards"]] == ["0"]


def test_a_change_rebuilds_its_shard_only(site, tmp_path, monkeypatch):
    monkeypatch.setattr(static_search, "SHARD_SIZE", 3)
    groups = static_search.shards(site)
    assert static_search.shard_count(len(site.entries)) >= len(groups) >= 3
    assert sorted(e.id for g in groups.values() for e in g) == sorted(e.id for e in site.entries)
    work = tmp_path / "work"
    first = {p.path: p.fingerprint for p in _pages(site, work)}
    edited_id = site.entries[0].id
    edited = make_site(edit={edited_id: "新增踏勘规程。"})
    stamps = {p.name: p.stat().st_mtime_ns for p in (work / "bundles").glob("*.digest")}
    for built in (work / "bundles").glob("*/*"):
        os.utime(built, ns=(0, 0))  # a file written again gets a new time
    second = {p.path: p.fingerprint for p in _pages(edited, work)}
    shard = next(name for name, group in groups.items() if any(e.id == edited_id for e in group))
    rerun = {name for name, ns in stamps.items()
             if (work / "bundles" / name).stat().st_mtime_ns != ns}
    assert rerun == {f"{shard}.digest"}
    changed = {p for p in set(first) | set(second) if first.get(p) != second.get(p)}
    assert {p.split("/")[2] for p in changed} == {shard}
    # of the shard's files, exactly those whose bytes changed were written again
    rewritten = {p.name for p in (work / "bundles" / shard).iterdir() if p.stat().st_mtime_ns}
    assert rewritten and rewritten == {p.rsplit("/", 1)[1] for p in changed}
    assert len(rewritten) < len(list((work / "bundles" / shard).iterdir()))


def test_stream_caches_give_the_bytes_of_a_fresh_build(site, tmp_path):
    """However the stream cache of a shard came about (reports added, edited, removed, its
    vocabulary renumbered), the files are those of a build from nothing."""
    work = tmp_path / "work"
    one = make_site(specs=[s for s in __import__("search_fixtures").SPECS if s[0] == "jinshi-2021"])
    for step, shown in enumerate([site, one, make_site(edit={"jinshi-2021": "新增踏勘规程。"}), site]):
        static_search.write_static_search(shown, tmp_path / f"step-{step}", work_dir=work)
        assert _tree(tmp_path / f"step-{step}") == _tree_of_fresh_build(shown, tmp_path / f"fresh-{step}")
    vocabulary, docs = static_search._read_streams(work / "bundles" / "0.streams")
    assert sorted(docs) == sorted(e.id for e in site.entries)
    assert sorted(vocabulary.values()) == list(range(len(vocabulary)))  # numbered without holes
