"""The WSGI search app (served by wsgiref on loopback) and `site-builder search`."""
from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from site_builder.search.whoosh_update import update_index
from site_builder.build import state_dir
from site_builder.cli import main
from site_builder.config import SiteConfig
from site_builder.serve.app import SEARCH_PATH, make_app

from search_fixtures import make_site, truth


@pytest.fixture(scope="module")
def site():
    return make_site()


@pytest.fixture(scope="module")
def output(site, tmp_path_factory) -> Path:
    """A built-looking output folder and the index where the build keeps it."""
    out = tmp_path_factory.mktemp("build") / "output"
    (out / "reports" / "jinshi-2021").mkdir(parents=True)
    (out / "reports" / "jinshi-2021" / "index.html").write_text("<!DOCTYPE html><h1>金石镇</h1>", encoding="utf-8")
    (out / "404.html").write_text("<!DOCTYPE html><h1>页面不存在</h1>", encoding="utf-8")
    (out / "static").mkdir()
    (out / "static" / "site.css").write_text("body{}", encoding="utf-8")
    (out.parent / "secret.txt").write_text("secret", encoding="utf-8")
    update_index(site, state_dir(out) / "whoosh")
    return out


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(output):
    app = make_app(output, state_dir(output) / "whoosh", SiteConfig())
    httpd = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()


def get(url: str, method: str = "GET"):
    request = urllib.request.Request(url, method=method)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode("utf-8", "replace")


def result_ids(html: str) -> list[str]:
    return re.findall(r'<li class="search-result" data-id="([^"]+)"', html)


def search_url(base: str, **params) -> str:
    return base + SEARCH_PATH + "?" + urllib.parse.urlencode(params)


def test_results_page_without_javascript(server, site):
    status, headers, html = get(search_url(server, q="楓橋經驗"))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert sorted(result_ids(html)) == sorted(truth(site, "枫桥经验"))
    assert "<mark>枫桥经验</mark>" in html and "<mark>楓橋經驗</mark>" in html
    assert 'href="../reports/jinshi-2021/?hl=%E6%9E%AB%E6%A1%A5%E7%BB%8F%E9%AA%8C"' in html  # marked there
    assert "摘录为原文繁体" in html  # jinshi-2021's excerpt is in its own script
    assert "search.js" not in html  # the server page needs no script
    assert 'value="楓橋經驗"' in html


def test_facets_filters_and_pagination(server, site):
    status, _, html = get(search_url(server, q="镇"))
    expected = truth(site, "镇")
    assert f"共找到 {len(expected)} 篇报告" in html
    assert len(result_ids(html)) == min(10, len(expected))
    assert "2023（" in html and "镇（" in html  # facet counts
    status, _, html = get(search_url(server, q="营商", year="2023"))
    assert sorted(result_ids(html)) == sorted(truth(site, "营商", year="2023"))
    status, _, html = get(search_url(server, q="放管服", part="4"))
    assert sorted(result_ids(html)) == ["anhua-2023", "jinshi-2022"]


def test_pagination_links(server, output, site, tmp_path):
    # Eleven reports with the same word: two pages of ten.
    specs = [(f"r{i:02d}", "甲镇", "镇", 2020, None, "simplified", {1: "推行首违不罚。"}) for i in range(11)]
    index_dir = tmp_path / "whoosh"
    update_index(make_site(specs), index_dir)
    app = make_app(output, index_dir, SiteConfig())
    pages = []
    for query in ("q=%E9%A6%96%E8%BF%9D", "q=%E9%A6%96%E8%BF%9D&page=2", "q=%E9%A6%96%E8%BF%9D&page=99",
                  "q=%E9%A6%96%E8%BF%9D&page=-3&part=x&year=%FF"):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": SEARCH_PATH, "QUERY_STRING": query, "SCRIPT_NAME": "",
                   "HTTP_HOST": "127.0.0.1"}
        status = []
        body = b"".join(app(environ, lambda s, h: status.append(s)))
        assert status == ["200 OK"]
        pages.append(body.decode("utf-8"))
    assert len(result_ids(pages[0])) == 10 and len(result_ids(pages[1])) == 1
    assert set(result_ids(pages[0])) | set(result_ids(pages[1])) == {s[0] for s in specs}
    assert 'rel="next"' in pages[0] and "page=2" in pages[0]
    assert result_ids(pages[2]) == result_ids(pages[1])  # past the end: the last page
    assert len(result_ids(pages[3])) == 0  # year=\ufffd matches nothing, page=-3 is page 1


@pytest.mark.parametrize("q", ["", "\x00\x01\x1b", "营" * 10_000, "a" * 10_000, "*?:()[]{}^~\"",
                               "AND OR NOT", "<script>alert(1)</script>", "%FF%FE", "%ZZ", "q=&q=&&"])
def test_hostile_queries_render_cleanly(output, q):
    # Called directly: wsgiref itself refuses request lines over 64 KiB (414).
    app = make_app(output, state_dir(output) / "whoosh", SiteConfig())
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": SEARCH_PATH, "SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1",
               "QUERY_STRING": "q=" + urllib.parse.quote(q, safe="%=&")}
    status = []
    html = b"".join(app(environ, lambda s, h: status.append(s))).decode("utf-8")
    assert status == ["200 OK"]
    assert "<script>alert(1)</script>" not in html


def test_serves_the_built_site_safely(server):
    assert get(server + "/reports/jinshi-2021/")[0] == 200
    status, headers, _ = get(server + "/reports/jinshi-2021")
    assert status == 302 and headers["Location"].endswith("/reports/jinshi-2021/")
    status, headers, _ = get(server + SEARCH_PATH.rstrip("/"))
    assert status == 302 and headers["Location"] == SEARCH_PATH
    status, headers, body = get(server + "/static/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/static/../../secret.txt", "/nope/"):
        status, _, body = get(server + path)
        assert status in (400, 404) and "secret" not in body
        assert status == 400 or "页面不存在" in body
    status, _, body = get(search_url(server, q="营商"), method="HEAD")
    assert status == 200 and body == ""
    assert get(search_url(server, q="营商"), method="POST")[0] == 405


def test_cli_search_json_and_text(output, site, capsys):
    assert main(["search", "--output", str(output), "--json", "--all", "營商環境"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"] for r in rows} == truth(site, "营商环境")
    assert set(rows[0]) == {"id", "url", "title", "place", "year", "score", "snippet"}
    assert rows[0]["url"] == f"/reports/{rows[0]['id']}/" and isinstance(rows[0]["year"], int)
    # marked in the text as the original has it: traditional reports in their own script
    assert all(re.search("<mark>(营商 ?环境|營商環境)</mark>", r["snippet"]) for r in rows), rows
    assert any("<mark>營商環境</mark>" in r["snippet"] for r in rows)

    assert main(["search", "--output", str(output), "--limit", "2", "镇"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{len(truth(site, '镇'))} reports match, showing 2")
    assert "【镇】" in out

    terms = " ".join(f"词{i}" for i in range(14))
    assert main(["search", "--output", str(output), terms]) == 0
    captured = capsys.readouterr()
    assert "词12 词13" in captured.err and "0 reports match" in captured.out

    assert main(["search", "--output", str(output), "--json", "--year", "2022", "--level", "部门", "复议"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["sifaju-2022"]
    assert main(["search", "--output", str(output), "--json", "--part", "1", "--place", "金石镇", "放管服"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["jinshi-2021"]


def test_cli_search_errors(output, tmp_path, capsys):
    assert main(["search", "--output", str(tmp_path / "never-built"), "营商"]) == 2
    assert "no search index" in capsys.readouterr().err
    assert main(["search", "--output", str(output), "\x00 ()"]) == 2
    assert main(["search", "--output", str(output), "--json", "\x00"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_cli_search_names_a_filter_that_can_match_nothing(output, capsys):
    assert main(["search", "--output", str(output), "--year", "abc", "复议"]) == 2
    assert "--year abc: 年度应为四位数字" in capsys.readouterr().err
    assert main(["search", "--output", str(output), "--place", "金石", "--level", "村", "复议"]) == 2
    err = capsys.readouterr().err
    assert "--place 金石: 检索索引中没有地区或部门为“金石”的报告；相近的有：金石镇" in err
    assert "--level 村: 检索索引中没有层级为“村”的报告" in err
    assert main(["search", "--output", str(output), "--year", "1999", "复议"]) == 2
    assert "--year 1999" in capsys.readouterr().err


def test_app_sees_a_rebuilt_index_without_restart(output, tmp_path):
    from search_fixtures import SPECS

    index_dir = tmp_path / "whoosh"
    update_index(make_site(SPECS[:2]), index_dir)
    app = make_app(output, index_dir, SiteConfig())

    def ids(q):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": SEARCH_PATH, "SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1",
                   "QUERY_STRING": urllib.parse.urlencode({"q": q})}
        return result_ids(b"".join(app(environ, lambda s, h: None)).decode("utf-8"))

    assert ids("诉源治理") == []
    update_index(make_site(SPECS), index_dir)
    assert ids("诉源治理") == ["sifaju-2022"]
