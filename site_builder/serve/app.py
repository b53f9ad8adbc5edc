"""The preview's one WSGI application: everything `site-builder serve` answers.

    <base_path>…         the files of output/, as a static host serves them (folders
                         redirected to their slash, the site's 404 page); the site's own
                         search page (search/) is one of them, searching its static index
    /__search/?q=…       the server search: the Whoosh index, a page in the site's look
    /__livereload        the build state as server-sent events: a token that changes after
                         each build that changed the site, and the errors of the last build
    /__livereload.js     the script injected into every HTML page served: it reloads the
                         tab on a new token and shows the errors in an overlay

Every request must name this machine in its Host header (see `HostCheck`): a page of any
other site that a DNS rebinding points at the preview gets 400, never a page, a search
result or the error stream.
"""
from __future__ import annotations

import html
import ipaddress
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol
from urllib.parse import quote
from wsgiref.util import FileWrapper

from ..config import SiteConfig
from ..state import WHOOSH, state_dir
from .files import BadPath, NotFound, Redirect, Tree, content_type, decode_path
from .preview import BuildState
from .search_page import Searchers, SearchUnavailable, search_page

EVENTS_PATH = "/__livereload"
SCRIPT_PATH = "/__livereload.js"
SEARCH_PATH = "/__search/"
SCRIPT_FILE = Path(__file__).with_name("livereload.js")
KEEPALIVE = 15.0  # seconds between comments on an idle event stream (a closed tab is noticed then)

_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
_HTML = "text/html; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"
_LOCAL_NAME = re.compile(r"(localhost|127\.0\.0\.1|\[::1\]|([a-z0-9-]+\.)+localhost)")
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?")


# --- what is served ------------------------------------------------------------------

class Builds(Protocol):
    """The builds the app serves: a Preview, or a FinishedBuild."""

    output_dir: Path
    live: bool  # rebuilt on change: the live-reload script and its event stream are served

    @property
    def state(self) -> BuildState: ...

    def wait_for_change(self, seen: BuildState | None, timeout: float) -> BuildState | None: ...


class FinishedBuild:
    """An output folder as a build left it: served as it is, never rebuilt (no live reload)."""

    live = False

    def __init__(self, output_dir: Path, config: SiteConfig | None = None):
        self.output_dir = Path(output_dir).absolute()
        self.state = BuildState("finished", True, True, (), 1, True, config or SiteConfig())


@dataclass(frozen=True)
class HostCheck:
    """Which Host headers name this preview.

    A DNS rebinding makes a page of another site talk to the preview under that site's own
    name, so only names no one else can point here are answered: localhost, 127.0.0.1,
    [::1] and *.localhost (which browsers resolve to this machine themselves, RFC 6761),
    with any port, as through a tunnel; and the address the server is bound to, with its
    port. Bound to every address (0.0.0.0, ::), any IP address with the port: an address,
    unlike a name, cannot be rebound."""

    port: int | None = None
    names: frozenset[str] = frozenset()  # the bound address, and the name it was given as
    any_address: bool = False

    @classmethod
    def bound(cls, given: str, address: tuple) -> "HostCheck":
        host, port = str(address[0]), int(address[1])
        shown = {f"[{h}]" if ":" in h else h for h in (given.lower().strip("[]"), host.lower())}
        return cls(port, frozenset(shown), host in ("0.0.0.0", "::"))

    def __call__(self, header: str | None) -> bool:
        found = _HOST.fullmatch((header or "").lower())
        if found is None:
            return False
        name, port = found[1], int(found[2] or 80)
        if _LOCAL_NAME.fullmatch(name):
            return True
        if port != self.port:
            return False
        if name in self.names:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(name.strip("[]"))
            except ValueError:
                return False
            return True
        return False


def make_app(output_dir: Path, index_dir: Path | None = None, config: SiteConfig | None = None) -> "PreviewApp":
    """The app over a finished build's output folder (its Whoosh index by default where the
    build keeps it), answering localhost names only."""
    return PreviewApp(FinishedBuild(output_dir, config), index_dir)


# --- the application ---------------------------------------------------------------------

class PreviewApp:
    """The WSGI callable: `builds` served, Whoosh searched in `index_dir` (by default where
    the build keeps it), Host headers checked by `hosts`."""

    def __init__(self, builds: Builds, index_dir: Path | None = None, hosts: HostCheck = HostCheck()):
        self.builds = builds
        self.hosts = hosts
        self.searchers = Searchers(Path(index_dir) if index_dir else state_dir(builds.output_dir) / WHOOSH)

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        head = method == "HEAD"
        if not self.hosts(environ.get("HTTP_HOST")):
            return _respond(start_response, "400 Bad Request", "400 错误的请求：预览只回答本机名称（localhost、127.0.0.1）"
                            "· Bad Request: the preview answers this machine's names only\n", _TEXT, head)
        if method not in ("GET", "HEAD"):
            return _respond(start_response, "405 Method Not Allowed", "405 Method Not Allowed\n", _TEXT, head,
                            [("Allow", "GET, HEAD")])
        raw, query = _target(environ)
        if raw == EVENTS_PATH and self.builds.live:
            return self._events(start_response, head)
        if raw == SCRIPT_PATH and self.builds.live:
            return _respond(start_response, "200 OK", SCRIPT_FILE.read_bytes(), content_type(SCRIPT_PATH), head)
        # The state is read before output/ is opened: a state is published after its site,
        # so the page never carries a newer token than its content (its tab would not reload).
        state = self.builds.state
        if raw == SEARCH_PATH.rstrip("/"):
            return _redirect(start_response, SEARCH_PATH, query)
        if raw == SEARCH_PATH:
            return self._search(start_response, state, query, head)
        try:
            path = decode_path(raw)
        except BadPath:
            return _respond(start_response, "400 Bad Request", "400 Bad Request: invalid path\n", _TEXT, head)
        if not path.startswith(state.root):
            if path == "/" or path + "/" == state.root:
                return _redirect(start_response, state.root, query)
            return self._not_found(start_response, state, head)
        return self._file(start_response, state, path[len(state.root):], query, environ, head)

    # -- files --------------------------------------------------------------------------

    def _file(self, start_response, state: BuildState, rel: str, query: str, environ, head: bool):
        deadline = time.monotonic() + 1.0
        while True:
            try:
                tree = Tree(self.builds.output_dir)
                break
            except FileNotFoundError:  # no site yet, or swapped by two renames (not Linux)
                if not state.has_site or time.monotonic() > deadline:
                    return self._no_site(start_response, state, head)
                time.sleep(0.01)
        with tree:
            try:
                fd, info = tree.open(rel)
            except Redirect as redirect:
                return _redirect(start_response, state.root + redirect.location, query)
            except NotFound:
                return self._not_found(start_response, state, head)
        kind = content_type("index.html" if rel == "" or rel.endswith("/") else rel)
        file = open(fd, "rb")
        if kind == _HTML:
            with file:
                return _respond(start_response, "200 OK", self._page(file.read(), state), kind, head)
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(info.st_size)), *_HEADERS])
        if head:
            file.close()
            return []
        return environ.get("wsgi.file_wrapper", FileWrapper)(file, 1 << 16)

    def _not_found(self, start_response, state: BuildState, head: bool):
        """The site's 404 page (or a plain one before there is a site), with status 404."""
        try:
            with Tree(self.builds.output_dir) as tree:
                fd, _ = tree.open("404.html")
        except (FileNotFoundError, NotFound, Redirect):
            body = _NOT_FOUND_PAGE.encode("utf-8")
        else:
            with open(fd, "rb") as file:
                body = file.read()
        return _respond(start_response, "404 Not Found", self._page(body, state), _HTML, head)

    def _no_site(self, start_response, state: BuildState, head: bool):
        """Before any build has published: a page that reloads when one does."""
        return _respond(start_response, "503 Service Unavailable", self._page(_NO_SITE_PAGE.encode("utf-8"), state),
                        _HTML, head)

    # -- live reload ------------------------------------------------------------------

    def _events(self, start_response, head: bool):
        """Server-sent events: the build state now, then after every build."""
        start_response("200 OK", [("Content-Type", "text/event-stream; charset=utf-8"), *_HEADERS])
        if head:
            return []
        return self._stream()

    def _stream(self) -> Iterator[bytes]:
        yield b"retry: 1000\n\n"
        seen = None
        while True:
            state = self.builds.wait_for_change(seen, KEEPALIVE)
            if state is None:  # the preview is stopping
                return
            if state is seen:
                yield b": keep-alive\n\n"
            else:
                yield f"data: {state.to_json()}\n\n".encode("utf-8")
                seen = state

    # -- server search --------------------------------------------------------------------

    def _search(self, start_response, state: BuildState, query_string: str, head: bool):
        try:
            with self.searchers.lend() as searcher:
                body = search_page(searcher, self.searchers.filter_values(searcher), state.config, SEARCH_PATH,
                                   query_string)
            status = "200 OK"
        except SearchUnavailable as exc:
            body = _UNAVAILABLE_PAGE.format(reason=html.escape(exc.reason)).encode("utf-8")
            status = "503 Service Unavailable"
        return _respond(start_response, status, self._page(body, state), _HTML, head)

    def _page(self, body: bytes, state: BuildState) -> bytes:
        return inject_script(body, state) if self.builds.live else body


def inject_script(page: bytes, state: BuildState) -> bytes:
    """The page with the live-reload script tag before its last </body> (or at its end)."""
    tag = (f'<script src="{SCRIPT_PATH}" data-build="{state.token}" '
           f'data-events="{EVENTS_PATH}"></script>').encode("ascii")
    at = page.lower().rfind(b"</body")
    return page + tag if at < 0 else page[:at] + tag + page[at:]


def _target(environ) -> tuple[str, str]:
    """(path, query) of the request as the client sent them, still percent-encoded.

    The server (server.py) passes the raw target as REQUEST_URI: PATH_INFO is decoded
    already, which hides an encoded separator. Under another server, PATH_INFO is encoded again."""
    raw = environ.get("REQUEST_URI")
    if raw is None:
        path = environ.get("PATH_INFO") or "/"
        try:
            data = path.encode("latin-1")
        except UnicodeEncodeError:
            data = path.encode("utf-8")
        return quote(data, safe="/"), environ.get("QUERY_STRING", "")
    path, _, query = raw.partition("?")
    return path, query


def _respond(start_response, status: str, body: bytes | str, kind: str, head: bool, extra=()):
    body = body.encode("utf-8") if isinstance(body, str) else body
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(body))), *_HEADERS, *extra])
    return [] if head else [body]


def _redirect(start_response, path: str, query: str):
    location = quote(path, safe="/") + (f"?{query}" if query else "")
    start_response("302 Found", [("Location", location), ("Content-Length", "0"), *_HEADERS])
    return []


# --- built-in pages ---------------------------------------------------------------------

_NO_SITE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>预览：站点尚未构建成功</title></head>
<body><h1>站点尚未构建成功</h1><p>修正错误并保存后，本页会自动刷新。（No build has succeeded yet: fix the errors and save,
and this page reloads.）</p></body></html>
"""
_NOT_FOUND_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>404 未找到</title></head>
<body><h1>404 未找到</h1><p>没有这个页面。（Not found.）</p></body></html>
"""
_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>服务器检索暂不可用</title></head>
<body><h1>服务器检索暂不可用</h1><p>{reason}</p></body></html>
"""
