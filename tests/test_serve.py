"""`site-builder serve`: a real build, the real server on an ephemeral loopback port, a real
watchdog observer and a real headless Chromium."""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from browser_site import CHROMIUM, CHROMIUM_ARGS, require
from site_builder.search import static_format as static_index
from site_builder.search.static_shards import BUNDLE_DIR
from site_builder.serve.app import EVENTS_PATH, SCRIPT_PATH, SEARCH_PATH, HostCheck, inject_script
from site_builder.serve.files import BadPath, decode_path
from site_builder.serve.preview import BuildState
from site_builder.serve.server import PreviewServer, is_loopback
from site_builder.state import state_dir

REPORTS = {
    "yanpi-zhen-2024.txt": "演陂镇2024年法治政府建设年度报告\n一、主要举措和成效\n"
                           "演陂镇深入推进依法行政，完善行政执法三项制度。\n"
                           "二、存在的不足和原因\n法治宣传的针对性有待加强。\n",
    "jinshi-zhen-2023.txt": "金石镇2023年法治政府建设年度报告\n一、主要举措和成效\n"
                            "金石镇坚持依法决策，落实合法性审查。\n"
                            "二、存在的不足和原因\n执法人员培训不足。\n",
}
EMPTY_ERROR = "jinshi-zhen-2023.txt:1: error: 文件为空，请补充内容或删除（file is empty）"
EVIL = "evil.example"


def report_text(place: str, year: int, body: str) -> str:
    return (f"{place}{year}年法治政府建设年度报告\n一、主要举措和成效\n{body}\n"
            f"二、存在的不足和原因\n基层执法力量仍然薄弱。\n")


def get(server: PreviewServer, path: str, method: str = "GET", host: str | None = "default"):
    """(status, headers, body) for a raw request target, no redirects followed. `host`: the
    Host header to send (None: none at all)."""
    address, port = server.address
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=host != "default", skip_accept_encoding=True)
        if host not in ("default", None):
            conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def page(server: PreviewServer, rel: str) -> tuple[int, str]:
    status, _, body = get(server, quote(server.preview.state.root) + rel)
    return status, body.decode("utf-8")


def first_event(server: PreviewServer) -> dict:
    """The state the live-reload stream sends first (the current build state)."""
    conn = http.client.HTTPConnection(*server.address, timeout=10)
    try:
        conn.request("GET", EVENTS_PATH)
        response = conn.getresponse()
        assert response.status == 200
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
    with PreviewServer(content, tmp_path / "output", port=0, log=lambda message: None) as running:
        assert running.preview.state.ok, running.preview.state.errors
        yield running


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that change no content."""
    root = tmp_path_factory.mktemp("shared")
    folder = root / "content"
    folder.mkdir()
    for name, text in REPORTS.items():
        write(folder / name, text)
    with PreviewServer(folder, root / "output", port=0, log=lambda message: None) as running:
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
    wait_until(lambda: "建立重大行政决策目录管理" in page(server, "reports/yanpi-zhen-2024/")[1], timeout=2.0)
    assert time.monotonic() - saved < 2.0
    assert "完善行政执法三项制度" not in page(server, "reports/yanpi-zhen-2024/")[1]
    # Open tabs are told to reload: the state is published just after the site.
    wait_until(lambda: server.preview.state.token != before.token, timeout=2.0)
    assert first_event(server)["build"] == server.preview.state.token


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
    assert not state.ok and not state.published
    assert state.errors == (EMPTY_ERROR,)
    assert first_event(server) == {"build": state.token, "ok": False, "published": False, "errors": [EMPTY_ERROR]}
    assert page(server, "reports/jinshi-zhen-2023/") == (200, good)  # the last good site, unchanged

    write(content / "jinshi-zhen-2023.txt", REPORTS["jinshi-zhen-2023.txt"] + "补充一段。\n")
    wait_until(lambda: first_event(server)["errors"] == [], timeout=10)
    assert first_event(server)["ok"] is True
    assert "补充一段" in page(server, "reports/jinshi-zhen-2023/")[1]


def test_keep_going_publishes_the_rest_and_lists_the_errors(content: Path, tmp_path: Path):
    with PreviewServer(content, tmp_path / "output", keep_going=True, port=0, log=lambda m: None) as server:
        (content / "jinshi-zhen-2023.txt").write_bytes(b"")
        write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "同时修改了这一篇。"))
        wait_until(lambda: "同时修改了这一篇" in page(server, "reports/yanpi-zhen-2024/")[1], timeout=10)
        wait_until(lambda: server.preview.idle() and server.preview.state.errors, timeout=10)
        state = server.preview.state
        assert not state.ok and state.published and state.errors == (EMPTY_ERROR,)
        assert first_event(server)["published"] is True
        assert page(server, "reports/jinshi-zhen-2023/")[0] == 404


def test_requests_never_see_a_half_built_site(server: PreviewServer, content: Path):
    seen: list[tuple[int, bool]] = []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            for rel in ("reports/yanpi-zhen-2024/", "", "static/site.css"):
                status, _, body = get(server, server.preview.state.root + rel)
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
    """One build publishes the page and the static search files that find it."""
    seq = server.preview.state.seq
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "新增踏勘验收规程。"))
    assert server.preview.wait_for_build(seq, timeout=30).ok
    assert "踏勘验收规程" in page(server, "reports/yanpi-zhen-2024/")[1]
    output = server.preview.output_dir
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


def test_changes_during_a_build_cause_one_more_build(server: PreviewServer, content: Path):
    seq = server.preview.state.seq
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "第一次保存。"))
    wait_until(lambda: server.preview.building, timeout=5, interval=0.005)
    for n in range(5):  # five saves while it runs
        write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, f"构建中的第{n}次保存。"))
    wait_until(lambda: server.preview.state.seq > seq and server.preview.idle(), timeout=20)
    time.sleep(0.5)  # no build is left to start
    assert server.preview.state.seq == seq + 2
    assert server.preview.state.ok
    assert "构建中的第4次保存" in page(server, "reports/yanpi-zhen-2024/")[1]


def test_the_server_never_forks(server: PreviewServer, content: Path):
    forks = []
    os.register_at_fork(before=lambda: forks.append(threading.current_thread().name))
    seq = server.preview.state.seq
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "检查是否分叉。"))
    state = server.preview.wait_for_build(seq, timeout=10)
    assert state.ok and "检查是否分叉" in page(server, "reports/yanpi-zhen-2024/")[1]
    assert forks == []


# --- what is served ----------------------------------------------------------------------

def test_script_injected_in_served_html_only(shared: PreviewServer):
    server = shared
    status, headers, body = get(server, "/reports/yanpi-zhen-2024/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert body.count(f'src="{SCRIPT_PATH}"'.encode()) == 1
    assert body.index(SCRIPT_PATH.encode()) < body.rindex(b"</body>")
    status, headers, css = get(server, "/static/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b"livereload" not in css
    status, headers, script = get(server, SCRIPT_PATH)
    assert status == 200 and b"EventSource" in script
    assert headers["Content-Type"] == "text/javascript; charset=utf-8"
    for path in server.preview.output_dir.rglob("*"):  # nothing of the preview is in output/
        if path.is_file():
            assert b"__livereload" not in path.read_bytes(), path
    assert get(server, "/reports/yanpi-zhen-2024", "HEAD")[0] == 302
    status, headers, body = get(server, "/reports/yanpi-zhen-2024/", "HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert get(server, "/", "POST")[0] == 405


def test_the_search_page_is_served_as_deployed(shared: PreviewServer):
    """The site's /search/ is its static search page, byte for byte but the script tag."""
    server = shared
    output = server.preview.output_dir
    status, _, body = get(server, "/search/")
    assert status == 200
    tag = re.search(rb'<script src="/__livereload\.js"[^>]*></script>', body)[0]
    assert body.replace(tag, b"") == (output / "search" / "index.html").read_bytes()
    assert get(server, "/search/?q=" + quote("合法性审查"))[2] == body  # the query is the page script's
    for name in ("search/index/meta.json", "static/search.js"):
        assert get(server, "/" + name)[2] == (output / name).read_bytes()
    assert get(server, "/search")[1]["Location"] == "/search/"


def test_inject_script_places_tag_before_last_body_end():
    html = b"<html><body><p>&lt;/body&gt;</p></BODY ></html>"
    state = BuildState("abc-1", True, True, (), 1, True)
    out = inject_script(html, state)
    assert out.endswith(b'<script src="/__livereload.js" data-build="abc-1" data-events="/__livereload">'
                        b'</script></BODY ></html>')
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
    "http://127.0.0.1/../../etc/passwd",
    "/__search/../../etc/passwd",
])
def test_traversal_is_refused(shared: PreviewServer, target: str):
    status, _, body = get(shared, target)
    assert status in (400, 404)
    assert b"root:" not in body


def test_no_symlink_is_followed_and_no_fifo_blocks(shared: PreviewServer, tmp_path: Path):
    server = shared
    secret = tmp_path / "secret.txt"
    write(secret, "top secret")
    output = server.preview.output_dir
    os.symlink(secret, output / "leak.txt")
    os.symlink(tmp_path, output / "up")
    os.symlink(output / "static" / "site.css", output / "inside.css")
    os.mkfifo(output / "pipe.txt")
    try:
        for target in ("/leak.txt", "/up/secret.txt", "/up/", "/up", "/inside.css", "/pipe.txt",
                       f"/{secret}", "/reports/yanpi-zhen-2024/index.html/x"):
            status, _, body = get(server, target)
            assert status == 404 and b"top secret" not in body, target
        assert get(server, "//" + str(secret).lstrip("/"))[0] in (400, 404)
    finally:
        for name in ("leak.txt", "up", "inside.css", "pipe.txt"):
            (output / name).unlink()


def test_decode_path():
    assert decode_path("/%E6%BC%94%E9%99%82/a%20b/") == "/演陂/a b/"
    for bad in ("/a/../b", "/%2e%2E/b", "/a%2Fb", "/a%5cb", "/a//b", "/%ff", "/a%00", "a/b", "http://x/"):
        with pytest.raises(BadPath):
            decode_path(bad)


def test_non_ascii_base_path_and_redirects(content: Path, tmp_path: Path):
    write(content / "site.toml", 'base_path = "/档案/"\n')
    with PreviewServer(content, tmp_path / "output", port=0, log=lambda message: None) as server:
        assert server.preview.state.root == "/档案/"
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
        assert status == 404 and SCRIPT_PATH.encode() in body
        status, _, body = get(server, SEARCH_PATH + "?q=" + quote("依法行政"))
        assert status == 200
        assert b'href="../%E6%A1%A3%E6%A1%88/reports/yanpi-zhen-2024/?hl=' in body  # /__search/ -> the site
        assert b'href="../%E6%A1%A3%E6%A1%88/static/site.css"' in body


def test_config_outside_content_is_watched(content: Path, tmp_path: Path):
    config = tmp_path / "site.toml"
    write(config, 'base_path = "/a/"\n')
    with PreviewServer(content, tmp_path / "output", config, port=0, log=lambda message: None) as server:
        assert server.preview.state.root == "/a/" and get(server, "/a/")[0] == 200
        from site_builder.render.theme import TEMPLATES_DIR

        assert Path(TEMPLATES_DIR).resolve() in [path for path, _ in server.preview.watched()]
        write(config, 'base_path = "/b/"\n')
        wait_until(lambda: server.preview.state.root == "/b/", timeout=10)
        assert get(server, "/b/reports/yanpi-zhen-2024/")[0] == 200
        assert get(server, "/a/")[0] == 404
        # Other files beside the config, and the build's own folders there, are ignored.
        seq = server.preview.state.seq
        write(tmp_path / "notes.txt", "not part of the site")
        time.sleep(0.6)
        assert server.preview.state.seq == seq


def test_first_build_failing_serves_a_waiting_page_then_the_site(content: Path, tmp_path: Path):
    (content / "jinshi-zhen-2023.txt").write_bytes(b"")
    with PreviewServer(content, tmp_path / "output", port=0, log=lambda message: None) as server:
        status, _, body = get(server, "/")
        assert status == 503 and SCRIPT_PATH.encode() in body
        assert first_event(server)["errors"] == [EMPTY_ERROR]
        status, _, body = get(server, SEARCH_PATH + "?q=x")
        assert status == 503 and "还没有检索索引".encode() in body
        write(content / "jinshi-zhen-2023.txt", REPORTS["jinshi-zhen-2023.txt"])
        wait_until(lambda: first_event(server)["ok"], timeout=10)
        state = server.preview.state
        assert first_event(server) == {"build": state.token, "ok": True, "published": True, "errors": []}
        assert get(server, "/reports/jinshi-zhen-2023/")[0] == 200
        assert get(server, SEARCH_PATH + "?q=" + quote("合法性审查"))[0] == 200


# --- the Host check -----------------------------------------------------------------------

def test_host_check_rules():
    local = HostCheck.bound("127.0.0.1", ("127.0.0.1", 8000))
    for host in ("localhost", "localhost:8000", "localhost:9999", "LocalHost:8000", "127.0.0.1:8000",
                 "127.0.0.1", "[::1]:8000", "preview.localhost:8000", "a.b.localhost"):
        assert local(host), host
    for host in (None, "", EVIL, f"{EVIL}:8000", "localhost.evil.example", "127.0.0.1.nip.io:8000",
                 "localhost.", "localhost:80x", "localhost:8000, evil.example", "127.0.0.2:8000",
                 "0.0.0.0:8000", "::1", "[::1", "192.168.1.5:8000", "localhost:8000/", "local host"):
        assert not local(host), host

    lan = HostCheck.bound("192.168.1.5", ("192.168.1.5", 8000))
    assert lan("192.168.1.5:8000") and lan("localhost:8000")
    assert not lan("192.168.1.5:8001") and not lan("192.168.1.6:8000") and not lan("192.168.1.5")

    anywhere = HostCheck.bound("0.0.0.0", ("0.0.0.0", 8000))
    assert anywhere("192.168.1.5:8000") and anywhere("[fe80::1]:8000") and anywhere("10.0.0.1:8000")
    assert not anywhere("192.168.1.5:8001") and not anywhere(f"{EVIL}:8000") and not anywhere("fe80::1")

    named = HostCheck.bound("devbox.lan", ("192.168.1.5", 8000))
    assert named("devbox.lan:8000") and named("192.168.1.5:8000") and not named("devbox.lan:8001")


def test_host_check_on_every_address(shared: PreviewServer):
    server = shared
    port = server.address[1]
    targets = ["/", "/reports/yanpi-zhen-2024/", "/static/site.css", "/search/", EVENTS_PATH, SCRIPT_PATH,
               SEARCH_PATH + "?q=" + quote("依法行政"), "/no/such/page", "/../etc/passwd"]
    for target in targets:
        for host in (EVIL, f"{EVIL}:{port}", f"localhost.{EVIL}:{port}", None, ""):
            status, _, body = get(server, target, host=host)
            assert status == 400, (target, host, status)
            assert "演陂镇".encode() not in body and b"data:" not in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"preview.localhost:{port}"):
        assert get(server, "/reports/yanpi-zhen-2024/", host=host)[0] == 200
        assert get(server, SEARCH_PATH + "?q=x", host=host)[0] == 200


def test_cli_warns_off_loopback_and_stops_on_ctrl_c(content: Path, tmp_path: Path):
    process = subprocess.Popen(
        [sys.executable, "-m", "site_builder.cli", "serve", "--content", str(content),
         "--output", str(tmp_path / "output"), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        line = process.stdout.readline()
        match = re.search(r"Serving http://0\.0\.0\.0:(\d+)/", line)
        assert match, line
        port = int(match.group(1))
        assert f"Server search http://0.0.0.0:{port}{SEARCH_PATH}" in process.stdout.readline()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/reports/yanpi-zhen-2024/")
        assert conn.getresponse().status == 200
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/reports/yanpi-zhen-2024/", headers={"Host": f"{EVIL}:{port}"})
        assert conn.getresponse().status == 400
        conn.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        err = process.stderr.read()
        assert "警告：正在监听 0.0.0.0" in err and "warning: listening on 0.0.0.0" in err
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


# --- the server search ---------------------------------------------------------------------

def test_server_search_finds_a_new_report_after_the_rebuild(server: PreviewServer, content: Path):
    query = SEARCH_PATH + "?q=" + quote("合法性审查")
    status, headers, body = get(server, query)
    html = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'href="../reports/jinshi-zhen-2023/?hl=' in html and "yanpi-zhen-2024" not in html
    assert SCRIPT_PATH in html and '<option value="2022"' not in html
    assert get(server, SEARCH_PATH.rstrip("/") + "?q=x")[1]["Location"] == SEARCH_PATH + "?q=x"
    write(content / "citangxu-zhen-2022.txt", report_text("茨塘圩镇", 2022, "开展合法性审查培训。"))
    wait_until(lambda: "reports/citangxu-zhen-2022/" in get(server, query)[2].decode(), timeout=10)
    html = get(server, query)[2].decode()
    assert '<option value="2022"' in html and '<option value="茨塘圩镇"' in html  # the filters too


def test_server_search_refuses_a_state_folder_not_safely_ours(server: PreviewServer):
    """Whoosh's files hold pickles: they are read only from a state folder the build would
    use, never through a symlink another user could have planted."""
    cache = state_dir(server.preview.output_dir).parent
    moved = cache.with_name("elsewhere")
    cache.rename(moved)
    os.symlink(moved, cache)
    status, _, body = get(server, SEARCH_PATH + "?q=" + quote("合法性审查"))
    assert status == 503 and "符号链接".encode() in body and b"jinshi-zhen-2023" not in body


# --- a real browser ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def chromium():
    """Chromium that resolves evil.example to this machine, as a DNS rebinding would. Its
    own guard against that (Private Network Access) is off, as other browsers have none: the
    preview's Host check is what is tested."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "playwright")
    require(os.path.exists(CHROMIUM) or bool(shutil.which("chromium")), "chromium")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {EVIL} 127.0.0.1",
                  "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
                  "PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks"])
        yield launched
        launched.close()


@pytest.fixture
def tab(chromium):
    context = chromium.new_context(locale="zh-CN")
    yield context.new_page()
    context.close()


def test_open_page_reloads_itself_and_shows_errors(server: PreviewServer, content: Path, tab):
    tab.goto(server.url + "reports/yanpi-zhen-2024/")
    tab.evaluate("window.__notReloaded = true")
    # No need to wait for the event stream: a tab that connects late still sees a newer
    # build token than the one its page was served with, and reloads.
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "浏览器自动刷新。"))
    tab.wait_for_function("() => !window.__notReloaded && document.body.innerText.includes('浏览器自动刷新')",
                          timeout=10_000)

    # A broken file: an overlay lists the error, as text (the file name is hostile).
    hostile = content / "<img src=x onerror=window.__xss=1>.txt"
    hostile.write_bytes(b"")
    tab.wait_for_selector("#site-builder-preview-overlay", timeout=10_000)
    overlay = tab.inner_text("#site-builder-preview-overlay")
    assert "<img src=x onerror=window.__xss=1>.txt:1: error: 文件为空，请补充内容或删除（file is empty）" in overlay
    assert "构建失败" in overlay
    assert tab.evaluate("window.__xss") is None
    assert "浏览器自动刷新" in tab.inner_text("body")  # the last good page stays

    hostile.unlink()
    write(content / "yanpi-zhen-2024.txt", report_text("演陂镇", 2024, "错误已修正。"))
    tab.wait_for_function("() => document.body.innerText.includes('错误已修正')", timeout=10_000)
    tab.wait_for_selector("#site-builder-preview-overlay", state="detached", timeout=10_000)


def test_static_search_page_works_in_preview(shared: PreviewServer, tab):
    tab.goto(shared.url + "search/")
    tab.fill("#search-q", "合法性审查")
    tab.press("#search-q", "Enter")
    tab.wait_for_selector("body[data-search-done]", timeout=10_000)
    links = tab.eval_on_selector_all("#search-results a", "els => els.map(e => e.href)")
    assert any(link.split("?")[0].endswith("/reports/jinshi-zhen-2023/") for link in links), links
    assert not any("yanpi-zhen-2024" in link for link in links)


def test_server_search_page_in_the_sites_look(shared: PreviewServer, tab):
    failed = []
    tab.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and failed.append(r.url))
    tab.goto(shared.url_of(SEARCH_PATH) + "?q=" + quote("依法决策"))
    assert tab.locator(".site-header .site-name").inner_text() == "法治政府建设年度报告公开档案"
    assert tab.evaluate("getComputedStyle(document.querySelector('.site-header')).display") != "inline"
    assert tab.eval_on_selector_all(".search-result", "els => els.map(e => e.dataset.id)") == ["jinshi-zhen-2023"]
    # Its form searches the server again; a result opens the report.
    tab.fill("main #search-q", "依法行政")
    tab.press("main #search-q", "Enter")
    tab.wait_for_url(re.compile(r"/__search/\?q="))
    assert tab.eval_on_selector_all(".search-result", "els => els.map(e => e.dataset.id)") == ["yanpi-zhen-2024"]
    tab.click(".search-result a")
    tab.wait_for_url(re.compile(r"/reports/yanpi-zhen-2024/\?hl="))
    assert "演陂镇" in tab.locator("h1").inner_text()
    assert failed == []


def test_a_dns_rebinding_page_gets_nothing(shared: PreviewServer, tab):
    """A page of evil.example, whose name now points at this machine, reads nothing from
    the preview: its requests name evil.example in Host."""
    port = shared.address[1]
    origin = f"http://{EVIL}:{port}"
    assert tab.goto(origin + "/reports/yanpi-zhen-2024/").status == 400
    tab.route(origin + "/attack.html", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>x</title>"))
    tab.goto(origin + "/attack.html")
    statuses = tab.evaluate("""async (paths) => {
        const out = [];
        for (const p of paths) out.push((await fetch(p)).status);
        return out;
    }""", ["/reports/yanpi-zhen-2024/", "/__livereload", "/__livereload.js", "/__search/?q=x", "/search/"])
    assert statuses == [400] * 5
    stream = tab.evaluate("""() => new Promise(done => {
        const source = new EventSource("/__livereload");
        source.onmessage = e => { source.close(); done("message: " + e.data); };
        source.onerror = () => { const state = source.readyState; source.close(); done("error " + state); };
    })""")
    assert stream == "error 2"  # CLOSED: refused for good, no state read
