"""The preview server (`site-builder serve`) and the WSGI search app withstand malformed
requests, huge query strings and query-syntax characters, and a bounded load test on
loopback (50 concurrent clients for a few seconds) with no failed request and bounded
memory. Each server runs in its own process, so its RSS can be measured."""
from __future__ import annotations

import http.client
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO, SAMPLES
from site_builder.build import build, state_dir

CLIENTS = 50
SECONDS = 3.0
MAX_GROWTH_KIB = 64 * 1024  # per-thread malloc arenas settle within the first rounds

WSGI_SERVER = r"""
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from site_builder.build import state_dir
from site_builder.serve.app import make_app

class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

output = sys.argv[1]
httpd = make_server("127.0.0.1", 0, make_app(output, state_dir(output) / "whoosh"),
                    server_class=Server, handler_class=Quiet)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
"""

QUERIES = ["法治政府", "行政执法", "营商环境 放管服", "AND OR NOT", '"法治" (政府)', "title:法治 content:*",
           "*?:^~[]{}\\/", "镇", "2023", "<script>alert(1)</script>", "%", "'; DROP TABLE x; --",
           "法" * 300, "\u202e\u200b", "q&year=2023&place=x"]


class Server:
    def __init__(self, args: list[str], ready: re.Pattern):
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.errors: list[str] = []
        self.port = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            found = ready.search(line)
            if found:
                self.port = int(found[1])
                break
        assert self.port, self.proc.stderr.read() if self.proc.poll() is not None else "server did not start"
        self._stderr = threading.Thread(target=self._drain, daemon=True)
        self._stderr.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.errors.append(line)

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1])

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.join(timeout=5)
        return "".join(self.errors)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    top = tmp_path_factory.mktemp("load")
    content, output = top / "content", top / "output"
    shutil.copytree(SAMPLES, content)
    result = build(content, output)
    assert result.ok
    assert (state_dir(output) / "whoosh").is_dir()
    pages = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()
                   and not p.relative_to(output).as_posix().startswith("search/index/"))
    return content, output, pages


@pytest.fixture(scope="module", params=["preview", "wsgi"])
def server(request, site):
    content, output, _ = site
    if request.param == "preview":
        srv = Server([sys.executable, "-m", "site_builder.cli", "serve", "--content", str(content),
                      "--output", str(output), "--port", "0"], re.compile(r"Serving http://127\.0\.0\.1:(\d+)/"))
    else:
        srv = Server([sys.executable, "-c", WSGI_SERVER, str(output)], re.compile(r"^(\d+)$"))
    srv.kind = request.param
    yield srv
    log = srv.stop()
    assert "Traceback" not in log, log[-3000:]


def _raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if len(b"".join(chunks)) > 4_000_000:
                    break
        except (socket.timeout, ConnectionResetError):
            pass
    return b"".join(chunks)


def _status(response: bytes) -> int | None:
    found = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(found[1]) if found else None


MALFORMED = [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /search/?q=" + urllib.parse.quote("法" * 30_000).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"v" * 70_000 + b"\r\n\r\n",
    b"GET /%zz%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /search/?q=%ff%fe%zz&year=%00&page=-99999999999999999999&part=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /search/?q=" + b"&q=".join([b"x"] * 2000) + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"POST /search/?q=x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    b"DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),  # a TLS ClientHello
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
]


def test_malformed_requests_get_an_answer_or_a_close_never_a_crash(server):
    for request in MALFORMED:
        response = _raw(server.port, request)
        status = _status(response)
        refused = (501, 505)  # method not implemented, HTTP version not supported: proper answers
        assert status is None or status < 500 or status in refused, (request[:80], response[:200])
        assert b"root:" not in response  # /etc/passwd never served
    # A half-sent request held open does not block anyone else.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert _status(_raw(server.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) == 200


def test_query_syntax_and_huge_queries_are_answered(server):
    for query in QUERIES + ["法" * 5_000, "a" * 20_000]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        conn.request("GET", "/search/?" + urllib.parse.urlencode({"q": query, "page": "2", "year": query[:20]}))
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200, (query[:40], response.status)
        assert b"<script>alert(1)</script>" not in body


def _client(port: int, urls: list[str], seed: int, stop: float, counts: list, failures: list) -> None:
    rng = random.Random(seed)
    conn = None
    while time.monotonic() < stop:
        url = rng.choice(urls)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", url)
            response = conn.getresponse()
            response.read()
            if response.status >= 500 or response.status not in (200, 301, 302, 404):
                failures.append((url, response.status))
            counts.append(1)
            if response.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            failures.append((url, repr(exc)))
            conn = None
    if conn is not None:
        conn.close()


def test_fifty_concurrent_clients_no_failures_bounded_memory(server, site):
    _, _, pages = site
    urls = ["/" + p.removesuffix("index.html") for p in pages[:60]]
    urls += ["/search/?" + urllib.parse.urlencode({"q": q}) for q in QUERIES]
    urls += ["/no/such/page", "/reports/", "/static/site.css"]
    def load(seconds: float, seed: int) -> tuple[int, list]:
        counts: list = []
        failures: list = []
        stop = time.monotonic() + seconds
        threads = [threading.Thread(target=_client, args=(server.port, urls, seed + n, stop, counts, failures))
                   for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        return len(counts), failures

    # A first round at full concurrency reaches the working set (threads, index readers,
    # caches); memory is bounded if a second, longer round adds little to it.
    start = server.rss_kib()
    warm, failures = load(SECONDS / 2, 0)
    assert failures == [], failures[:10]
    before = server.rss_kib()
    count, failures = load(SECONDS, 1000)
    after = server.rss_kib()
    assert failures == [], failures[:10]
    assert count >= CLIENTS * 2, count
    assert after - before < MAX_GROWTH_KIB, (server.kind, start, before, after)
    print(f"{server.kind}: {warm + count} requests, RSS {start} -> {before} -> {after} KiB")
