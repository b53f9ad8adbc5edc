"""`site-builder serve`: a real build, a real HTTP server on an ephemeral loopback port,
a real watchdog observer and a real headless Chromium."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from site_builder.search import static_format as static_index
from site_builder.search.static_shards import BUNDLE_DIR
from site_builder.serve.preview import BuildState
from site_builder.serve.server import (
    EVENTS_PATH,
    BadPath,
    PreviewServer,
    decode_path,
    inject_script,
    is_loopback,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

REPORTS = {
    "yanpi-zhen-2024.txt": "演陂镇2024年法治政府建设年度报告\n一、主要举措和成效\n"
                           "演陂镇深入推进依法行政，完善行政执法三项制度。\n"
                           "二、存在的不足和原因\n法治宣传的针对性有待加强。\n",
    "jinshi-zhen-2023.txt": "金石镇2023年法治政府建设年度报告\n一、主要举措和成效\n"
                            "金石镇坚持依法决策，落实合法性审查。\n"
                            "二、存在的不足和原因\n执法人员培训不足。\n",
}


def report_text(place: str, year: int, body: str) -> str:
    return (f"{place}{year}年法治政府建设年度报告\n一、主要举措和成效\n{body}\n"
            f"二、存在的不足和原因\n基层执法力量仍然薄弱。\n")


def get(server: PreviewServer, path: str, method: str = "GET"):
    """(status, headers, body) for a raw request target, no redirects followed."""
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def page(server: PreviewServer, rel: str) -> tuple[int, str]:
    status, _, body = get(server, server.preview.root + rel)
    return status, body.decode("utf-8")


def first_event(server: PreviewServer) -> dict:
    """The state the live-reload stream sends first (the current build state)."""
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", EVENTS_PATH)
        response = conn.getresponse()
        assert response.getheader("Content-Type").startswith("text/event-stream")
        while True:
            line = response.fp.readline().decode("utf-8")
            assert line, "event stream closed"
            if line.startswith("data: "):
                return json.loads(line[6:])
    finally:
        conn.close()


def wait_until(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    for name, text in REPORTS.items():
        write(folder / name, text)
    return folder


@pytest.fixture
def server(content: Path, tmp_path: Path):
    with PreviewServer(content, tmp_path / "output", host="127.0.0.1", port=0,
                       log=lambda message: None) as running:
        assert running.preview.state.ok, running.preview.state.errors
        yield running


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that only read (no content changes)."""
    root = tmp_path_factory.mktemp("shared")
    folder = root / "content"
    folder.mkdir()
    for name, text in REPORTS.items():
        write(folder / name, text)
    with PreviewServer(folder, root / "output", port=0,
                       log=lambda message: None) as running:
        assert running.preview.state.ok, running.preview.state.errors
        yield running


# --- live rebuilds over HTTP --------------------------------------------------------------

def test_edit_shows_within_two_seconds(server: PreviewServer, content: Path):
    status, html = page(server, "reports/yanpi-zhen-2024/")
    assert status == 200 and "完善行政执法三项制度" in html
    before = server.preview.state

    saved = time.monotonic()
    write(content / "yanpi-zhen-2024.txt", REPORTS["yanpi-zhen-2024.txt"].replace(
        "完善行政执法三项制度", "建立重大行政决策目录管理"))
    wait_until(lambda: "建立重大行政决策目录管理" in page(server, "reports/yanpi-zhen-2024/")[1],
               timeout=2.0)
    assert time.monotonic() - saved < 2.0
    html = page(server, "reports/yanpi-zhen-2024/")[1]
    assert "完善行政执法三项制度" not in html
    # Open tabs are told to reload (the state is published just after the swap).
    wait_until(lambda: server.preview.state.token != before.token, timeout=2.0)


def test_add_and_delete_a_report(server: PreviewServer, content: Path):
    assert page(server, "reports/citangxu-zhen-2022/")[0] == 404
    write(content / "citangxu-zhen-2022.txt", report_text("茨塘圩镇", 2022, "推行柔性执法。"))
    wait_until(lambda: page(server, "reports/citangxu-zhen-2022/")[0] == 200, timeout=10)
    assert "推行柔性执法" in page(server, "reports/citangxu-zhen-2022/")[1]
    assert "reports/citangxu-zhen-2022/" in page(server, "")[1]  # the home page lists it

    (content / "citangxu-zhen-2022.txt").unlink()
    wait_until(lambda: page(server, "reports/citangxu-zhen-2022/")[0] == 404, timeout=10)
    assert "reports/citangxu-zhen-2022/" not in page(server, "")[1]
    assert page(server, "reports/yanpi-zhen-2024/")[0] == 200


def test_broken_file_keeps_last_good_site_until_fixed(server: PreviewServer, content: Path):
    good = page(server, "reports/jinshi-zhen-2023/")[1]
    seq = server.preview.state.seq
    (content / "jinshi-zhen-2023.txt").write_bytes(b"")  # an empty report is an error
    state = server.preview.wait_for_build(seq, timeout=10)
    assert not state.ok
    assert state.errors == ("jinshi-zhen-2023.txt:1: file is empty",)
    event = first_event(server)
    assert event["ok"] is False and event["errors"] == list(state.errors)
    # The last good site is still served, unchanged.
    assert page(server, "reports/jinshi-zhen-2023/") == (200, good)

    write(content / "jinshi-zhen-2023.txt", REPORTS["jinshi-zhen-2023.txt"] + "补充一段。\n")
    wait_until(lambda: first_event(server)["errors"] == [], timeout=10)
    assert first_event(server)["ok"] is True
    assert "补充一段" in page(server, "reports/jinshi-zhen-2023/")[1]


def test_requests_never_see_a_half_built_site(server: PreviewServer, content: Path):
    seen: list[tuple[int, bool]] = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            for rel in ("reports/yanpi-zhen-2024/", "", "static/site.css"):
                status, _, body = get(server, server.preview.root + rel)
                seen.append((status, body.rstrip().endswith((b"</html>", b"}"))))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        for round_ in range(4):
            seq = server.preview.state.seq
            write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, f"第{round_}次修改。"))
            server.preview.wait_for_build(seq, timeout=10)
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 10
    assert all(status == 200 and complete for status, complete in seen), seen


def test_an_edit_is_served_with_its_static_search(server: PreviewServer, content: Path):
    output = server.preview.output_dir
    seq = server.preview.state.seq
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "新增踏勘验收规程。"))
    server.preview.wait_for_build(seq, timeout=30)
    assert "踏勘验收规程" in page(server, "reports/yanpi-zhen-2024/")[1]
    ids = [i for p in (output / BUNDLE_DIR / "i").iterdir() for i in json.loads(p.read_bytes()).values()]
    assert "yanpi-zhen-2024" in ids
    buckets = [p.read_bytes() for p in (output / BUNDLE_DIR / "b").iterdir()]
    assert any(e.key == "\x01踏勘" for data in buckets for e in static_index.decode_bucket(data))


def test_builds_reading_files_do_not_trigger_rebuilds(server: PreviewServer, content: Path):
    seq = server.preview.state.seq
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "只改一次。"))
    seq = server.preview.wait_for_build(seq, timeout=10).seq
    for _ in range(3):
        assert page(server, "reports/yanpi-zhen-2024/")[0] == 200
    time.sleep(0.6)  # several debounce periods: the build's own reads must not rebuild
    assert server.preview.state.seq == seq


# --- what is served ----------------------------------------------------------------------

def test_script_injected_in_served_html_only(shared: PreviewServer):
    server = shared
    status, headers, body = get(server, "/reports/yanpi-zhen-2024/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.count(b'src="/__livereload.js"') == 1
    assert body.index(b"/__livereload.js") < body.rindex(b"</body>")
    status, headers, css = get(server, "/static/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b"livereload" not in css
    status, headers, script = get(server, "/__livereload.js")
    assert status == 200 and b"EventSource" in script
    # Nothing of the preview is written into the output folder.
    for path in server.preview.output_dir.rglob("*"):
        if path.is_file():
            assert b"__livereload" not in path.read_bytes(), path
    assert get(server, "/reports/yanpi-zhen-2024", "HEAD")[0] == 302


def test_inject_script_places_tag_before_last_body_end():
    html = b"<html><body><p>&lt;/body&gt;</p></BODY ></html>"
    state = BuildState("abc-1", True, (), 1, True, pages="abc-0")
    out = inject_script(html, state)
    assert out.endswith(b'data-build="abc-1" data-pages="abc-0" data-events="/__livereload"></script></BODY ></html>')
    assert inject_script(b"<p>no body</p>", state).startswith(b"<p>no body</p><script")


@pytest.mark.parametrize("target", [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/",
    "/reports/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/reports%2f..%2f..%2fetc%2fpasswd",
    "/reports/..%5c..%5cetc/passwd",
    "/reports\\..\\..\\etc\\passwd",
    "/%c0%ae%c0%ae/etc/passwd",
    "/index.html%00.txt",
    "http://example.org/../../etc/passwd",
])
def test_traversal_is_refused(shared: PreviewServer, target: str):
    server = shared
    status, _, body = get(server, target)
    assert status in (400, 404)
    assert b"root:" not in body


def test_absolute_paths_and_symlinks_out_of_output_are_not_served(shared: PreviewServer,
                                                                   tmp_path: Path):
    server = shared
    secret = tmp_path / "secret.txt"
    write(secret, "top secret")
    output = server.preview.output_dir
    os.symlink(secret, output / "leak.txt")
    os.symlink(tmp_path, output / "up")
    os.symlink(output / "static" / "site.css", output / "inside.css")
    assert get(server, "/leak.txt")[0] == 404
    assert get(server, "/up/secret.txt")[0] == 404
    assert get(server, "/up/")[0] == 404
    assert get(server, f"/{secret}")[0] == 404  # an absolute path names nothing in output
    assert get(server, "//" + str(secret).lstrip("/"))[0] in (400, 404)
    assert get(server, "/inside.css")[0] == 200  # a symlink that stays inside is fine


def test_decode_path():
    assert decode_path("/%E6%BC%94%E9%99%82/a%20b/") == "/演陂/a b/"
    for bad in ("/a/../b", "/%2e%2E/b", "/a%2Fb", "/a%5cb", "/a//b", "/%ff", "/a%00", "a/b"):
        with pytest.raises(BadPath):
            decode_path(bad)


def test_non_ascii_base_path_and_redirects(content: Path, tmp_path: Path):
    write(content / "site.toml", 'base_path = "/档案/"\n')
    with PreviewServer(content, tmp_path / "output", port=0,
                       log=lambda message: None) as server:
        assert server.preview.root == "/档案/"
        assert server.url.endswith("/%E6%A1%A3%E6%A1%88/")
        status, headers, _ = get(server, "/")
        assert status == 302 and headers["Location"] == "/%E6%A1%A3%E6%A1%88/"
        status, headers, _ = get(server, "/%E6%A1%A3%E6%A1%88/reports/yanpi-zhen-2024")
        assert status == 302
        assert headers["Location"] == "/%E6%A1%A3%E6%A1%88/reports/yanpi-zhen-2024/"
        status, _, body = get(server, headers["Location"])
        assert status == 200 and "演陂镇".encode() in body
        assert get(server, "/reports/yanpi-zhen-2024/")[0] == 404  # not outside the prefix
        status, _, body = get(server, "/%E6%A1%A3%E6%A1%88/%E4%B8%8D%E5%AD%98%E5%9C%A8/")
        assert status == 404 and b"__livereload.js" in body


def test_config_outside_content_is_watched(content: Path, tmp_path: Path):
    config = tmp_path / "site.toml"
    write(config, 'base_path = "/a/"\n')
    with PreviewServer(content, tmp_path / "output", config, port=0,
                       log=lambda message: None) as server:
        assert server.preview.root == "/a/" and get(server, "/a/")[0] == 200
        from site_builder.render import pages as render

        watched = [path for path, _ in server.preview.watched()]
        assert Path(render.TEMPLATES_DIR).resolve() in watched
        seq = server.preview.state.seq
        write(config, 'base_path = "/b/"\n')
        wait_until(lambda: server.preview.root == "/b/", timeout=10)
        assert get(server, "/b/reports/yanpi-zhen-2024/")[0] == 200
        assert get(server, "/a/")[0] == 404
        # Other files beside the config, and the build's own staging folder there, are ignored.
        seq = server.preview.state.seq
        write(tmp_path / "notes.txt", "not part of the site")
        time.sleep(0.6)
        assert server.preview.state.seq == seq


def test_first_build_failing_serves_a_waiting_page_then_the_site(content: Path,
                                                                  tmp_path: Path):
    (content / "jinshi-zhen-2023.txt").write_bytes(b"")
    with PreviewServer(content, tmp_path / "output", port=0,
                       log=lambda message: None) as server:
        status, _, body = get(server, "/")
        assert status == 503 and b"__livereload.js" in body
        assert first_event(server)["errors"] == ["jinshi-zhen-2023.txt:1: file is empty"]
        write(content / "jinshi-zhen-2023.txt", REPORTS["jinshi-zhen-2023.txt"])
        wait_until(lambda: first_event(server)["ok"], timeout=10)
        state = server.preview.state
        assert first_event(server) == {"build": state.token, "pages": state.pages, "ok": True, "errors": []}
        assert get(server, "/reports/jinshi-zhen-2023/")[0] == 200


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_cli_warns_off_loopback_and_stops_on_ctrl_c(content: Path, tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder.cli", "serve", "--content", str(content),
         "--output", str(tmp_path / "output"), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        line = process.stdout.readline()
        match = re.search(r"http://[^:]+:(\d+)/", line)
        assert match, line
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        conn.request("GET", "/reports/yanpi-zhen-2024/")
        assert conn.getresponse().status == 200
        conn.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "warning: listening on 0.0.0.0" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- a real browser ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                          headless=True)
        try:
            yield launched
        finally:
            launched.close()


def test_open_page_reloads_itself_and_shows_errors(server: PreviewServer, content: Path,
                                                   browser):
    tab = browser.new_page()
    try:
        tab.goto(server.url + "reports/yanpi-zhen-2024/")
        tab.evaluate("window.__notReloaded = true")
        # No need to wait for the event stream: a tab that connects late still sees a
        # newer build token than the one its page was served with, and reloads.
        write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "浏览器自动刷新。"))
        tab.wait_for_function(
            "() => !window.__notReloaded && document.body.innerText.includes('浏览器自动刷新')",
            timeout=10_000)

        # A broken file: an overlay lists the error, as text (the file name is hostile).
        hostile = content / "<img src=x onerror=window.__xss=1>.txt"
        hostile.write_bytes(b"")
        tab.wait_for_selector("#site-builder-preview-overlay", timeout=10_000)
        overlay = tab.inner_text("#site-builder-preview-overlay")
        assert "<img src=x onerror=window.__xss=1>.txt:1: file is empty" in overlay
        assert tab.evaluate("window.__xss") is None
        assert "浏览器自动刷新" in tab.inner_text("body")  # the last good page stays

        hostile.unlink()
        write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "错误已修正。"))
        tab.wait_for_function("() => document.body.innerText.includes('错误已修正')",
                              timeout=10_000)
        tab.wait_for_selector("#site-builder-preview-overlay", state="detached",
                              timeout=10_000)
    finally:
        tab.close()


def test_static_search_page_works_in_preview(shared: PreviewServer, browser):
    server = shared
    tab = browser.new_page()
    try:
        tab.goto(server.url + "search/")
        tab.fill("#search-q", "合法性审查")
        tab.press("#search-q", "Enter")
        tab.wait_for_selector("body[data-search-done]", timeout=10_000)
        links = tab.eval_on_selector_all("#search-results a", "els => els.map(e => e.href)")
        assert any(link.split("?")[0].endswith("/reports/jinshi-zhen-2023/") for link in links), links
        assert not any("yanpi-zhen-2024" in link for link in links)
    finally:
        tab.close()


# --- search -------------------------------------------------------------------------------

def test_static_search_page_and_server_search(server: PreviewServer, content: Path):
    status, html = page(server, "search/")  # the static search page, as on a static host
    assert status == 200 and "__livereload.js" in html
    query = "/search/?q=" + quote("合法性审查")
    status, headers, body = get(server, query)
    html = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "reports/jinshi-zhen-2023/" in html and "reports/yanpi-zhen-2024/" not in html
    assert "__livereload.js" in html

    # A new report is found by the server search after the rebuild.
    write(content / "citangxu-zhen-2022.txt", report_text("茨塘圩镇", 2022, "开展合法性审查培训。"))
    wait_until(lambda: "reports/citangxu-zhen-2022/" in get(server, query)[2].decode(),
               timeout=10)
