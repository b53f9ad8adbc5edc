"""Hostile content is inert everywhere: markup and script in report text, metadata and file
names never become markup in pages, feeds, the sitemap, JSON, CSV, search excerpts (server
and static) or highlights. Checked by parsing every output file, and by loading the pages
in headless Chromium where each payload, if it ever ran, would set window.__pwned."""
from __future__ import annotations

import csv
import functools
import html
import http.server
import io
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from conftest import report_text, write_archive
from site_builder.content import stage as parse_cache
from site_builder.search import whoosh_index as si
from site_builder.search.whoosh_update import update_index
from site_builder.build import build, state_dir
from site_builder.config import SiteConfig

XSS = {
    "script": "<script>window.__pwned=1</script>",
    "img": '"><img src=x onerror="window.__pwned=2">',
    "svg": "'><svg onload=window.__pwned=3>",
    "js": "javascript:window.__pwned=4",
    "endscript": "</script><script>window.__pwned=5</script>",
    "attr": '" onmouseover="window.__pwned=6" x="',
}
ALL = "".join(XSS.values())
FORMULAS = ('=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)")
EVIL_NAME = "evil<svg onload=window.__pwned=7>.txt"
SIDECAR_TITLE = XSS["endscript"] + "演陂镇2024年法治政府建设年度报告"

DANGEROUS_TAGS = {"script", "svg", "img", "iframe", "object", "embed", "math", "base", "frame",
                  "frameset", "applet", "link", "meta", "style", "form", "input", "textarea"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
BAD_SCHEME = re.compile(r"^\s*(?:javascript|vbscript|data):", re.IGNORECASE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _archive(root: Path) -> Path:
    body_md = (
        "---\n"
        f"title: {XSS['script']}青山乡2023年法治政府建设年度报告\n"
        f"region: {FORMULAS[0]}\n"
        f"issuer: {FORMULAS[1]}\n"
        "---\n"
        + report_text("青山乡", 2023, XSS["img"])
        + f"\n[点击查看]({XSS['js']}) <img src=x onerror=window.__pwned=2> {XSS['endscript']}\n"
        + f"五、其他需要报告的情况\n{XSS['attr']}{XSS['svg']}\n"
    )
    paragraphs = "".join(f"<p onclick=\"window.__pwned=8\">{html.escape(line)}</p>\n"
                         for line in report_text("白山镇", 2022, ALL).splitlines())
    page = (
        "<!DOCTYPE html><html><head>"
        f"<title>{html.escape(XSS['script'])}白山镇2022年法治政府建设年度报告</title>"
        f'<meta name="ArticleTitle" content="{html.escape(XSS["svg"])}白山镇2022年法治政府建设年度报告">'
        "<script>window.__pwned=9</script></head><body>"
        f'<div class="article">{paragraphs}<a href="{XSS["js"]}">附件</a>'
        "<img src=x onerror=window.__pwned=2></div></body></html>\n"
    )
    return write_archive(root, {
        "txt/yanpi-2024.txt": report_text("演陂镇", 2024, ALL),
        "txt/yanpi-2024.meta.toml": "\n".join([
            f"title = {json.dumps(SIDECAR_TITLE, ensure_ascii=False)}",
            f"issuer = {json.dumps(XSS['img'], ensure_ascii=False)}",
            f"region = {json.dumps(XSS['svg'], ensure_ascii=False)}",
            'place = "演陂镇"', "",
        ]),
        "md/qingshan-2023.md": body_md,
        "html/baishan-2022.html": page,
        EVIL_NAME: report_text("黑山镇", 2021, XSS["attr"]),
        "formula.txt": report_text("红山镇", 2020),
        "formula.meta.toml": "\n".join([
            f"title = {json.dumps(FORMULAS[2] + '红山镇2020年法治政府建设年度报告', ensure_ascii=False)}",
            f"region = {json.dumps(FORMULAS[3], ensure_ascii=False)}",
            f"issuer = {json.dumps(FORMULAS[0], ensure_ascii=False)}", "",
        ]),
    })


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    top = tmp_path_factory.mktemp("hostile")
    content, output = _archive(top / "content"), top / "output"
    result = build(content, output)
    assert result.ok, [str(p) for p in result.problems if p.severity == "error"]
    report_of = functools.partial(parse_cache.report_at, state_dir(output) / "state.sqlite")
    update_index(result.site, state_dir(output) / "whoosh", report_of)
    return output, result, report_of


def _files(output: Path, suffix: str) -> list[Path]:
    return sorted(p for p in output.rglob(f"*{suffix}") if p.is_file())


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[list[str]] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))
        if tag == "script":
            self.scripts.append([])
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1].append(data)


def inert_html_problems(text: str, allowed_scripts: tuple[str, ...] = ("static/", "search/",
                                                                         "/__livereload")) -> list[str]:
    """What in an HTML document could run script: a payload element, handler attribute,
    script URL, or a script that is not one of the site's own files."""
    parser = _Elements()
    parser.feed(text)
    parser.close()
    found = []
    for tag, attrs in parser.elements:
        names = {name for name, _ in attrs}
        if tag in DANGEROUS_TAGS - {"script", "link", "meta", "form", "input", "style"}:
            if not (tag == "svg" and dict(attrs).get("class") == "chart"):  # the site's own charts
                found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in URL_ATTRS and value and BAD_SCHEME.match(html.unescape(value)):
                found.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not any(part in src for part in allowed_scripts) or "src" not in names:
                found.append(f"<script src={src!r}>")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            found.append("<meta refresh>")
    found += [f"inline script {''.join(s)[:40]!r}" for s in parser.scripts if "".join(s).strip()]
    return found


def test_no_page_contains_markup_from_the_content(built):
    output, _, _ = built
    pages = _files(output, ".html")
    assert len(pages) > 10
    for page in pages:
        assert inert_html_problems(page.read_text(encoding="utf-8")) == [], page.relative_to(output)


def test_the_hostile_text_is_shown_as_text(built):
    """The payloads are not silently dropped: where the page shows the text, it is escaped."""
    output, result, _ = built
    ids = {e.report.source: e.id for e in result.site.entries}
    assert set(ids) == {"txt/yanpi-2024.txt", "md/qingshan-2023.md", "html/baishan-2022.html",
                        EVIL_NAME, "formula.txt"}
    report = (output / "reports" / ids["txt/yanpi-2024.txt"] / "index.html").read_text(encoding="utf-8")
    assert html.escape(XSS["endscript"], quote=False) in report  # the sidecar title, as text
    original = (output / "reports" / ids["md/qingshan-2023.md"] / "original.html").read_text(encoding="utf-8")
    assert XSS["img"] not in original and XSS["img"] in html.unescape(original)
    evil = (output / "reports" / ids[EVIL_NAME] / "index.html").read_text(encoding="utf-8")
    assert "evil&lt;svg onload=window.__pwned=7&gt;.txt" in evil
    assert re.fullmatch(r"[a-z0-9-]+", ids[EVIL_NAME])


def test_feed_and_sitemap_are_well_formed_and_carry_text_only(built):
    output, _, _ = built
    for name in ("feed.xml", "sitemap.xml"):
        root = ET.fromstring((output / name).read_bytes())
        namespaces = {el.tag.split("}")[0] + "}" for el in root.iter()}
        assert namespaces <= {"{http://www.w3.org/2005/Atom}", "{http://www.sitemaps.org/schemas/sitemap/0.9}"}, name
        for el in root.iter():
            assert not el.attrib or set(el.attrib) <= {"href", "rel", "type"}, (name, el.attrib)
            for value in el.attrib.values():
                assert not BAD_SCHEME.match(value)
    titles = [el.text for el in ET.fromstring((output / "feed.xml").read_bytes()).iter("{http://www.w3.org/2005/Atom}title")]
    assert SIDECAR_TITLE in titles  # round-trips exactly, as text


def test_json_round_trips_the_hostile_values(built):
    output, result, _ = built
    entry = next(e for e in result.site.entries if e.report.source == "txt/yanpi-2024.txt")
    data = json.loads((output / "reports" / entry.id / "report.json").read_text(encoding="utf-8"))
    assert data["title"] == SIDECAR_TITLE and data["region"] == XSS["svg"]
    assert XSS["img"] in data["issuer"]
    for path in _files(output, ".json"):
        json.loads(path.read_text(encoding="utf-8"))  # every JSON file parses


def test_csv_cells_never_start_a_formula(built):
    output, _, _ = built
    files = _files(output, ".csv")
    assert files, "no CSV export in the site"
    seen = set()
    for path in files:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert len({len(r) for r in rows}) == 1, path  # no cell broke the row structure
        for row in rows:
            for cell in row:
                assert not cell.startswith(FORMULA_START), (path.name, cell)
                seen.add(cell)
    for formula in FORMULAS:
        assert any(cell.startswith("'" + formula) or ("'" + formula) in cell for cell in seen), formula


def _wsgi_get(app, query: str) -> tuple[str, str]:
    status_headers = {}

    def start_response(status, headers, exc_info=None):
        status_headers["status"] = status
        return lambda data: None

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/__search/", "SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1",
               "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b"")}
    body = b"".join(app(environ, start_response))
    return status_headers["status"], body.decode("utf-8")


@pytest.mark.parametrize("query", ["演陂镇", "依法行政", "pwned", "window", ALL, XSS["img"], XSS["attr"],
                                   "onerror", "script 青山乡", '"><svg onload=window.__pwned=3> 白山镇'])
def test_server_search_results_and_highlights_are_inert(built, query):
    from site_builder.serve.app import make_app

    output, _, _ = built
    app = make_app(output, state_dir(output) / "whoosh", SiteConfig())
    status, page = _wsgi_get(app, urllib.parse.urlencode({"q": query}))
    assert status.startswith("200")
    assert inert_html_problems(page) == []
    # Highlights are <mark> around escaped text, nothing else.
    for marked in re.findall(r"<mark>(.*?)</mark>", page, flags=re.S):
        assert "<" not in marked and ">" not in marked


def test_highlight_html_escapes_every_piece(built):
    output, _, _ = built
    results = si.search(state_dir(output) / "whoosh", "演陂镇 依法行政")
    assert results.hits
    for hit in results.hits:
        rendered = hit.snippet_html()
        assert inert_html_problems(rendered) == []
        text = html.unescape(re.sub(r"</?mark>", "", rendered))
        assert text == "".join(piece for piece, _ in hit.snippet)


# --- in the browser ---------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def test_nothing_runs_in_the_browser(built, tmp_path):
    """Every page of the hostile site, the server search and the static search
    in headless Chromium: no payload runs, no dialog opens."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    from site_builder.search import static_shards as static_search
    from site_builder.serve.app import make_app

    output, result, report_of = built
    static_search.write_static_search(result.site, output, report_of, work_dir=tmp_path)
    search_page = output / "search" / "index.html"
    if not search_page.exists():  # until the build renders the search page itself
        from site_builder.render.pages import make_environment

        search_page.write_text(make_environment().get_template("search.html").render(
            config=SiteConfig(), root="../", page_url="search/"), encoding="utf-8")
    app = make_app(output, state_dir(output) / "whoosh", SiteConfig())
    wsgi_server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    file_server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(output)))
    threads = [_serve(wsgi_server), _serve(file_server)]
    server_url = f"http://127.0.0.1:{wsgi_server.server_address[1]}/"
    static_url = f"http://127.0.0.1:{file_server.server_address[1]}/"
    # Every page that shows report text or metadata (all pages are parsed statically above).
    pages = [p.relative_to(output).as_posix() for p in _files(output, ".html")
             if p.relative_to(output).as_posix().startswith(("reports/", "places/", "catalogue/", "index.html"))]
    pages = [p[: -len("index.html")] if p.endswith("index.html") else p for p in pages]
    try:
        with sync_api.sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context()
            page = context.new_page()
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for rel in pages:
                page.goto(static_url + rel, wait_until="load")
                page.hover("body")
                assert page.evaluate("window.__pwned") is None, rel
            for query in ("演陂镇", "白山镇", ALL):
                page.goto(server_url + "__search/?" + urllib.parse.urlencode({"q": query}), wait_until="load")
                page.hover("body")
                assert page.evaluate("window.__pwned") is None, query
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(static_url + "search/", wait_until="load")
            page.wait_for_function("window.siteSearch !== undefined")
            for query in ("演陂镇", "白山镇", "依法行政", ALL):
                page.evaluate("() => document.body.removeAttribute('data-search-done')")
                page.fill("#search-q", query)
                page.press("#search-q", "Enter")
                page.wait_for_selector("body[data-search-done]", timeout=15000)
                if query != ALL:
                    assert page.query_selector_all("#search-results li"), (query, page.inner_text("#search-status"))
                for link in page.query_selector_all("main a"):
                    href = link.get_attribute("href") or ""
                    assert not BAD_SCHEME.match(href), href
                assert page.evaluate("window.__pwned") is None, query
                assert inert_html_problems(page.content()) == []
            assert dialogs == [] and errors == []
            browser.close()
    finally:
        for server in (wsgi_server, file_server):
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join(timeout=5)
