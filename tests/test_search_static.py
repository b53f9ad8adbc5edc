"""Static search: the index files hold exactly each report's keys, whatever the shards;
they are byte-stable and rewritten only where an edit changed them; in headless Chromium
the page finds what the truth and the Whoosh index find, in the same order, with a few
requests per query, from a subfolder, with nothing from other hosts."""
from __future__ import annotations

import functools
import http.server
import json
import random
import re
import shutil
import threading
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from site_builder.search import analysis, ranking
from site_builder.search import static_format as fmt
from site_builder.search import static_shards as static_search
from site_builder.search import whoosh_index as si
from site_builder.search.whoosh_update import update_index
from site_builder.text import chars as chars_
from site_builder.text import normalize as normalize_
from site_builder.text import stream as stream_
from site_builder.config import SiteConfig
from site_builder.render.pages import make_environment
from site_builder.render.theme import STATIC_DIR

from search_fixtures import JUDGED, JUDGED_ORDER, RANKING_SPECS, SPECS, make_site, truth

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
    return make_site(SPECS + RANKING_SPECS)


@pytest.fixture(scope="module", params=["one-shard", "small-shards"])
def served(site, tmp_path_factory, request):
    """The site served from a subfolder: as built, and with shards of three reports and
    every record larger than 40 bytes in a file of its own (merges and external files)."""
    top = tmp_path_factory.mktemp("static")
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "small-shards":
            patch.setattr(static_search, "SHARD_REPORTS", 3)
            patch.setattr(fmt, "EXTERNAL", 40)
        write_fixture_site(site, top / SUBFOLDER)
    externals = list((top / SUBFOLDER / static_search.BUNDLE_DIR / "x").glob("*.bin"))
    assert bool(externals) == (request.param == "small-shards")
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


def static_ids(page, query, filters=None, part=0) -> list[str]:
    return page.evaluate("([q, f, p]) => window.siteSearch.ids(q, f, p)", [query, filters or {}, part])


def whoosh_ids(whoosh_dir, query, **kwargs) -> list[str]:
    return [h.id for h in si.search(whoosh_dir, query, limit=None, **kwargs).hits]


# --- what the page finds ---------------------------------------------------------------------

def test_judged_queries_agree_in_set_and_order_with_whoosh_and_the_truth(page, site, whoosh_dir):
    for query, expected, note in JUDGED + [(q, None, n) for q, _, n in JUDGED_ORDER]:
        found = static_ids(page, query)
        assert len(found) == len(set(found)), query
        assert set(found) == truth(site, query), (query, note)
        assert found == whoosh_ids(whoosh_dir, query), (query, note)


def test_the_judged_order(page):
    """Title matches first; a fragment that names a term once never before full reports
    that name it more; the report that names a term most first."""
    for query, first, note in JUDGED_ORDER:
        found = static_ids(page, query)
        assert found[:len(first)] == first, (query, note)
    fragment = static_ids(page, "枫桥经验").index("pianduan-2023")
    assert fragment > static_ids(page, "枫桥经验").index("quanwen-2023")


def test_phrases_cut_from_the_reports_find_exactly_the_reports_holding_them(page, site, whoosh_dir):
    """Han phrases of 2 to 16 characters cut at random from the texts (lines with spaces
    inside included): the static search finds exactly the truth, in Whoosh's order."""
    rng = random.Random(7)
    runs = [run for e in site.entries for run in re.findall(r"[\u4e00-\u9fff ]{2,}", e.report.text)
            if len(run.replace(" ", "")) >= 2]
    for _ in range(60):
        run = rng.choice(runs).strip()
        size = rng.randint(2, min(16, len(run)))
        start = rng.randrange(len(run) - size + 1)
        query = run[start:start + size].replace(" ", "")
        if not query:
            continue
        found = static_ids(page, query)
        assert set(found) == truth(site, query), query
        assert found == whoosh_ids(whoosh_dir, query), query


def test_traditional_queries_find_the_same_reports(page):
    for trad, simp in [("優化營商環境", "优化营商环境"), ("楓橋經驗", "枫桥经验"), ("鎮", "镇"), ("行政復議", "行政复议")]:
        assert static_ids(page, trad) == static_ids(page, simp) != []


def test_filters_facets_and_parts_agree_with_whoosh(page, site, whoosh_dir):
    assert static_ids(page, "营商", {"year": "2023"}) == whoosh_ids(whoosh_dir, "营商", filters={"year": "2023"})
    assert set(static_ids(page, "营商", {"year": "2023"})) == truth(site, "营商", year="2023")
    assert set(static_ids(page, "营商", {"level": "镇", "year": "2022"})) == {"jinshi-2022"}
    assert static_ids(page, "枫桥经验", {"region": "白沙县"}) == whoosh_ids(
        whoosh_dir, "枫桥经验", filters={"region": "白沙县"}) == ["quanwen-2023", "pianduan-2023"]
    for query in ("放管服", "镇", "营商环境", "第一责任人职责", "法治 宣传"):
        for part in (1, 2, 3, 4, 5):
            assert static_ids(page, query, {}, part) == whoosh_ids(whoosh_dir, query, part=part), (query, part)
    assert static_ids(page, "放管服", {}, 4) == ["anhua-2023", "jinshi-2022"]  # in part 1 of jinshi-2021 only
    both = static_ids(page, "营商环境 放管服")
    assert both == whoosh_ids(whoosh_dir, "营商环境 放管服")
    assert set(both) == truth(site, "营商环境") & truth(site, "放管服")
    found = page.evaluate("() => window.siteSearch.search('营商')")
    facets = si.search(whoosh_dir, "营商", limit=1, facets=True).facets
    assert found["facets"]["year"] == dict(facets["year"]) and found["facets"]["level"] == dict(facets["level"])


HOSTILE = ["", " ", "\x00\x01", "\"", "*?:()[]{}^~", "AND OR NOT", "营" * 10_000, "a" * 10_000,
           "<img src=x onerror=alert(1)>", "\ufeff\u200b", "营商\x00环境", "\ud800", "_", "_，",
           " ".join(f"词{i}" for i in range(40))]


def test_hostile_queries_return_cleanly(page, whoosh_dir):
    for query in HOSTILE:
        assert static_ids(page, query) == whoosh_ids(whoosh_dir, query), query
    page.fill("#search-q", "<img src=x onerror=alert(1)>")
    page.press("#search-q", "Enter")
    page.wait_for_selector("body[data-search-done]")
    assert page.query_selector("#search-results img") is None


def test_a_query_costs_a_few_requests_per_clause(page):
    """One bucket per key, and a common key's own file: requests grow with the clauses."""
    for query, most in (("营商", 2), ("执法 宣传", 4), ("深入贯彻习近平法治思想", 2 * 4)):
        page.requests.clear()
        static_ids(page, query)
        index = [u for u in page.requests if "/search/index/" in u and "/i/" not in u]
        assert 0 < len(index) <= most, (query, index)


# --- the page --------------------------------------------------------------------------------

def test_the_page_by_keyboard_with_marked_titles_and_excerpts(page):
    page.keyboard.press("Tab")  # skip link first: the form is reachable by keyboard
    page.focus("#search-q")
    page.keyboard.type("楓橋經驗")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-search-done]")
    assert page.inner_text("#search-status") == "共找到 5 篇报告。"
    items = page.query_selector_all("#search-results li")
    assert [i.get_attribute("data-id") for i in items][:2] == ["quanwen-2023", "quanwen-2022"]
    jinshi = page.query_selector("#search-results li[data-id=jinshi-2021]")
    # a traditional report's excerpt in its own script, and saying so
    assert "楓橋經驗" in [m.inner_text() for m in jinshi.query_selector_all("mark")]
    assert "摘录为原文繁体" in jinshi.inner_text()
    href = items[0].query_selector("a").get_attribute("href")
    assert href.startswith("../reports/") and "hl=" in href
    page.click("#search-results li a")
    page.wait_for_load_state()
    assert page.url.startswith(page.base + "reports/")


def test_a_match_in_the_title_only_is_marked_there(page):
    page.fill("#search-q", "年度报告")
    page.press("#search-q", "Enter")
    page.wait_for_selector("body[data-search-done]")
    first = page.query_selector("#search-results li")
    assert first.query_selector("h2 mark").inner_text() == "年度报告"
    assert "仅标题含检索词" in first.inner_text()


def test_a_dropped_term_is_reported(page):
    terms = " ".join(f"词{i}" for i in range(14))
    page.fill("#search-q", terms)
    page.press("#search-q", "Enter")
    page.wait_for_selector("body[data-search-done]")
    assert "词12、词13" in page.inner_text("#search-notice")
    dropped = page.evaluate("q => window.siteSearch.parse(q).dropped", terms)
    from site_builder.search.query import parse

    assert dropped == ["词12", "词13"] == list(parse(terms).dropped)


def test_query_filters_and_facets_in_the_address(page):
    page.goto(page.base + "search/?q=%E8%90%A5%E5%95%86&year=2023&part=1")
    page.wait_for_selector("body[data-search-done]")
    ids = [i.get_attribute("data-id") for i in page.query_selector_all("#search-results li")]
    assert sorted(ids) == ["qingshan-2023", "yuquan-2023"]  # anhua-2023 has 营商 in part 4 only
    assert page.input_value("#search-year") == "2023" and page.input_value("#search-part") == "1"
    levels = page.eval_on_selector_all("#search-level option", "os => os.map(o => o.value)")
    assert set(levels) == {"", "镇", "乡", "区", "街道", "部门"}
    assert "镇（1）" in page.inner_text("#search-facets")
    page.click("#search-facets [data-facet=level] a[data-value=乡]")
    page.wait_for_function("document.querySelectorAll('#search-results li').length === 1")
    assert page.input_value("#search-level") == "乡" and "level=%E4%B9%A1" in page.url


def test_region_counts_come_when_asked_and_fill_the_region_list(page, whoosh_dir):
    page.fill("#search-q", "枫桥经验")
    page.press("#search-q", "Enter")
    page.wait_for_selector("body[data-search-done]")
    assert not any(url.endswith("/regions.bin") for url in page.requests)  # a query does not need it
    assert page.query_selector("#search-facets [data-facet=region]") is None
    page.click("#search-facets .search-facet-load")
    page.wait_for_selector("#search-facets [data-facet=region]")
    shown = page.eval_on_selector_all("#search-facets [data-facet=region] a", "as => as.map(a => a.textContent)")
    counts = si.search(whoosh_dir, "枫桥经验", limit=1, facets=True).facets["region"]
    assert shown == [f"{name}（{n}）" for name, n in sorted(counts, key=lambda kv: (-kv[1], kv[0]))][:12]
    page.focus("#search-region")  # its options are made when the list is first used
    options = page.eval_on_selector_all("#search-region option", "os => os.slice(1).map(o => o.value)")
    assert sorted(options) == sorted(name for name, _ in counts)
    page.select_option("#search-region", "白沙县")
    page.press("#search-q", "Enter")
    page.wait_for_function("document.querySelectorAll('#search-results li').length === 2")
    assert page.query_selector("#search-facets [data-facet=region]")  # shown at once: the names are here


def test_excerpts_show_the_text_as_written_with_the_matches_marked(page):
    def excerpt(text, query):
        pieces = page.evaluate("([t, q]) => window.siteSearch.excerpt(t, q)", [text, query])
        return "".join(p["text"] for p in pieces), [p["text"] for p in pieces if p["marked"]]

    assert excerpt("２０２４年度，優化營商環境。", "营商环境") == ("２０２４年度，優化營商環境。", ["營商環境"])
    assert excerpt("12023年和2023年", "2023年") == ("12023年和2023年", ["2023年"])  # whole digit runs only
    assert excerpt("执法培训与执法监督", "执法 培训") == ("执法培训与执法监督", ["执法培训", "执法"])
    assert excerpt("根据 上级会议部署", "根据上级会议") == ("根据 上级会议部署", ["根据 上级会议"])
    text, marks = excerpt("前言" * 100 + "枫桥经验" + "后记" * 100, "枫桥经验")
    assert marks == ["枫桥经验"] and text.startswith("…") and text.endswith("…") and len(text) < 110
    text, _ = excerpt("前言" * 50 + "。本年度共办理案件1234567件，营商环境持续优化", "营商环境")
    assert text.startswith("…本年度")  # after the end of a sentence
    text, _ = excerpt("甲" * 50 + "收入" + "1234567890" * 4 + "元，营商环境", "营商环境")
    assert text.startswith("…元，")  # never inside a number
    assert excerpt("没有匹配", "营商") == ("没有匹配", [])


def test_python_and_javascript_cut_the_same_excerpts(page, site):
    from site_builder.search.query import parse_query, snippet

    for entry in site.entries:
        for query in ("营商环境", "枫桥经验", "2023年", "法治 宣传", "年度报告"):
            js = page.evaluate("([t, q]) => window.siteSearch.excerpt(t, q)", [entry.report.text, query])
            assert [(p["text"], p["marked"]) for p in js] == snippet(entry.report.text, parse_query(query)), \
                (entry.id, query)


def test_the_same_numbers_in_javascript_and_python(page):
    for x in (1.0000001, 1.5, 2.0, 3.7, 12345.678, 1e9, 0.25):
        assert page.evaluate("x => window.siteSearch.ln(x)", x) == ranking.ln(x)
    for tf in (1, 2, 3, 7, 40):
        for q in (0, 1, 5, 30, 63):
            assert page.evaluate("([t, q]) => window.siteSearch.weightCode(t, q)", [tf, q]) == ranking.weight_code(tf, q)


# --- the files ------------------------------------------------------------------------------

def reference_keys(report):
    """The keys of one report computed line by line from the stream: doc-level key ->
    [body occurrences, in title, part mask]; positional key -> [(region, line, offset)]."""
    lines, regions = analysis.searchable_lines(report), analysis.line_regions(report)
    docs, places, seen = defaultdict(lambda: [0, 0, 0]), defaultdict(list), defaultdict(int)
    for text, region in zip(lines, regions):
        line = seen[region]
        seen[region] += 1
        tokens = stream_.stream(normalize_.normalize(text))
        for p, token in enumerate(tokens):
            if token is None:
                continue
            keys = [analysis.WORD + token] + ([analysis.CHAR + token[0]] if chars_.is_han(token[0]) else [])
            if p + 1 < len(tokens) and tokens[p + 1]:
                keys.append(analysis.PAIR + analysis.key_text(tokens[p:p + 2]))
                if p + 2 < len(tokens) and tokens[p + 2]:
                    places[analysis.TRIPLE + analysis.key_text(tokens[p:p + 3])].append((region, line, p))
            for key in keys:
                if region == analysis.TITLE:
                    docs[key][1] = 1
                else:
                    docs[key][0] += 1
                if 1 <= region <= 5:
                    docs[key][2] |= 1 << (region - 1)
    return docs, places


def decoded_index(root: Path):
    """Every key's record and part masks, from the files, by report number."""
    meta = json.loads((root / "meta.json").read_bytes())
    docs, places = defaultdict(dict), defaultdict(dict)
    for bucket in range(meta["buckets"]):
        entries = fmt.decode_bucket((root / fmt.bucket_path(bucket)).read_bytes())
        group = root / fmt.parts_path(bucket >> meta["parts_shift"])
        masks = fmt.decode_parts(group.read_bytes()) if group.exists() else {}
        for k, entry in enumerate(entries):
            assert fmt.bucket_of(entry.key, meta["buckets"]) == bucket
            record = entry.record if not entry.external else fmt.decode_external(
                (root / fmt.external_path(bucket, entry.external - 1)).read_bytes())
            assert len(record) == entry.size
            if entry.key[0] == analysis.TRIPLE:
                for number, norm, occurrences in fmt.decode_pos_record(record, entry.documents):
                    places[number][entry.key] = (norm, occurrences)
            else:
                mask = masks.get((bucket & ((1 << meta["parts_shift"]) - 1), k), [0] * entry.documents)
                for (number, code, title), parts in zip(fmt.decode_doc_record(record, entry.documents), mask):
                    docs[number][entry.key] = (code, title, parts)
    return meta, docs, places


@pytest.mark.parametrize("shard_reports", [2000, 3])
def test_the_index_holds_each_reports_keys(site, tmp_path, monkeypatch, shard_reports):
    monkeypatch.setattr(static_search, "SHARD_REPORTS", shard_reports)
    monkeypatch.setattr(fmt, "EXTERNAL", 60)
    static_search.write_static_search(site, tmp_path)
    root = tmp_path / static_search.BUNDLE_DIR
    meta, docs, places = decoded_index(root)
    numbers = fmt.numbering((e.id, e.report.year, e.report.level) for e in site.entries).numbers
    ids = {}
    for path in root.glob("i/*.json"):
        ids.update({int(n): i for n, i in json.loads(path.read_bytes()).items()})
    assert ids == {n: i for i, n in numbers.items()} and meta["reports"] == len(site.entries)
    for entry in site.entries:
        number = numbers[entry.id]
        group = number >> meta["slot_bits"]
        year_rank, level = divmod(group, len(meta["levels"]))
        assert meta["levels"][level] == entry.report.level and meta["years"][year_rank - 1] == entry.report.year
        want_docs, want_places = reference_keys(entry.report)
        length = sum(tf for key, (tf, _, _) in want_docs.items() if key[0] == analysis.WORD)
        norm = ranking.length_class(length)
        assert docs[number] == {k: (ranking.weight_code(tf, norm), title, parts)
                                for k, (tf, title, parts) in want_docs.items()}, entry.id
        assert places[number] == {k: (norm, v) for k, v in want_places.items()}, entry.id
    regions = fmt.decode_regions((root / "regions.bin").read_bytes())
    assert regions == {numbers[e.id]: e.report.region for e in site.entries if e.report.region}


def test_numbers_stay_put_when_reports_come_and_go():
    reports = [(f"r{i}", 2020 + i % 3, ["镇", "乡", None][i % 3]) for i in range(40)]
    before = fmt.numbering(reports)
    after = fmt.numbering(reports[:-1] + [("new", 2021, "乡")])
    moved = {i for i, n in before.numbers.items() if i in after.numbers and after.numbers[i] != n}
    assert len(moved) <= 2 and before.slot_bits == after.slot_bits
    assert len(set(before.numbers.values())) == len(reports)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_builds_are_byte_identical_whatever_the_history(tmp_path, monkeypatch):
    """However the work folder came about (reports added, edited, removed), the files are
    those of a build from nothing; a build with nothing changed builds no shard."""
    monkeypatch.setattr(static_search, "SHARD_REPORTS", 3)
    work = tmp_path / "work"
    full = SPECS + RANKING_SPECS
    history = [make_site(full), make_site(full[:2]), make_site(full, edit={"jinshi-2021": "新增踏勘规程。"}),
               make_site(full[1:]), make_site(full)]
    for step, shown in enumerate(history):
        static_search.write_static_search(shown, tmp_path / f"step-{step}", work_dir=work)
        static_search.write_static_search(shown, tmp_path / f"fresh-{step}")
        assert _tree(tmp_path / f"step-{step}") == _tree(tmp_path / f"fresh-{step}"), step
    stamps = {p: p.stat().st_mtime_ns for p in (work / "shards").glob("*.seg")}
    static_search.write_static_search(history[-1], tmp_path / "again", work_dir=work)
    assert {p: p.stat().st_mtime_ns for p in (work / "shards").glob("*.seg")} == stamps


def _pages(site, work):
    from site_builder.workers import Pool

    with Pool() as pool, static_search.static_search_later(site, work, pool) as pages:
        return {p.path: p.fingerprint for p in pages}


def test_an_edit_rebuilds_its_shard_and_rewrites_only_the_files_of_the_keys_it_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(static_search, "SHARD_REPORTS", 4)
    before = make_site(SPECS + RANKING_SPECS)
    after = make_site(SPECS + RANKING_SPECS, edit={"sifaju-2022": "新增踏勘规程。"})
    work = tmp_path / "work"
    first = _pages(before, work)
    stamps = {p.name: p.stat().st_mtime_ns for p in (work / "shards").glob("*.seg")}
    second = _pages(after, work)
    rebuilt = {name for name, ns in stamps.items() if (work / "shards" / name).stat().st_mtime_ns != ns}
    assert len(rebuilt) == 1
    changed = {p for p in first.keys() | second.keys() if first.get(p) != second.get(p)}
    old, new = (reference_keys(next(e.report for e in s.entries if e.id == "sifaju-2022")) for s in (before, after))
    keys = {k for k in old[0].keys() | new[0].keys() if old[0].get(k) != new[0].get(k)} | \
        {k for k in old[1].keys() | new[1].keys() if old[1].get(k) != new[1].get(k)}
    buckets = fmt.bucket_count(len(before.entries))
    expected = {f"{static_search.BUNDLE_DIR}/{fmt.bucket_path(fmt.bucket_of(k, buckets))}" for k in keys}
    assert {p for p in changed if "/b/" in p} == expected
    assert {p.split("/")[2] for p in changed} <= {"b", "p"}  # no other file (ids, meta) changed


def test_varints_are_the_one_value_encoding_back_to_back():
    rng = np.random.default_rng(11)
    for high in (1, 128, 1 << 14, 1 << 21, (1 << 35) - 1):  # one byte to five
        values = np.append(rng.integers(0, high, 3000), [0, high - 1]).astype(np.int64)
        data, offsets = fmt.varints(values)
        one_by_one = [fmt.varint(v) for v in values.tolist()]
        assert data == b"".join(one_by_one), high
        assert offsets.tolist() == [0, *np.cumsum([len(b) for b in one_by_one])[:-1].tolist()], high
        assert fmt.decode_varints(data).tolist() == values.tolist()
    assert fmt.varints(np.zeros(0, dtype=np.int64))[0] == b""


def test_sorting_and_hashing_in_arrays_are_the_plain_ones():
    rng = np.random.default_rng(7)
    for high in (1, 300, 1 << 16, (1 << 16) + 1, 1 << 40):
        keys = rng.integers(0, high, 5000)
        assert np.array_equal(analysis.stable_order(keys), np.argsort(keys, kind="stable")), high
        values, inverse = analysis.dense(keys)
        assert np.array_equal(values, np.unique(keys)) and np.array_equal(values[inverse], keys)
    keys = ["\x01营商", "\x03法治政府", "\x022023\x1f年", "\x01a" * 40, "\x00镇"]
    assert fmt.buckets_of([k.encode() for k in keys], 8192).tolist() == [fmt.bucket_of(k, 8192) for k in keys]


def test_the_levels_of_a_number_are_the_parsers():
    from site_builder.content.parse import LEVELS

    assert fmt.LEVEL_SLOTS == ("", *LEVELS)
