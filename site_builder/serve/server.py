"""`site-builder serve`: build, serve the site under its production URLs, rebuild on change.

Three parts, each on its own thread:

* ``Preview`` (preview.py) owns the builds: it watches the inputs, builds once they
  settle, and publishes the state of the last build.
* The HTTP server (threaded) resolves every request against the *current* output folder,
  opens the file once and streams from that descriptor, so a request never mixes two builds.
  It refuses path traversal, serves the site under its configured ``base_path``, mounts the
  Whoosh search app for ``search/?q=``, and injects the live-reload script into HTML only.
* The live-reload channel (``/__livereload``, server-sent events) pushes the build state:
  a token that changes after each build that changed the site, a second one that changes
  only when a file besides the static search index changed (open tabs reload on the first
  if they search, else on the second), and the error list of the last build (tabs show it
  in an overlay; the next good build clears it).
"""
from __future__ import annotations

import argparse
import io
import ipaddress
import mimetypes
import os
import re
import signal
import socket
import stat
import sys
import threading
import time
import traceback
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote

from .preview import DEBOUNCE, BuildFn, BuildState, Preview

EVENTS_PATH = "/__livereload"
SCRIPT_PATH = "/__livereload.js"
SCRIPT_FILE = Path(__file__).with_name("livereload.js")
KEEPALIVE = 15.0  # seconds between comments on an idle event stream

_TEXT_TYPES = {"text/html", "text/css", "text/javascript", "application/javascript",
               "application/json", "application/xml", "text/xml", "image/svg+xml",
               "application/rss+xml", "application/atom+xml", "application/manifest+json"}
_EXTRA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
                ".xml": "application/xml", ".svg": "image/svg+xml", ".woff2": "font/woff2",
                ".webmanifest": "application/manifest+json", ".txt": "text/plain"}
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)


# --- request paths ---------------------------------------------------------------------

class BadPath(ValueError):
    """A request path that can never name a file of the site (answered with 400)."""


def decode_path(raw: str) -> str:
    """Percent-decode a request path (UTF-8), refusing anything that could leave the site.

    Refused: encoded separators (%2f, %5c) and NUL, backslashes, "." and ".." segments
    (plain or encoded, e.g. %2e%2e), empty segments ("//"), control characters, bytes that
    are not UTF-8, and paths not starting with "/".
    """
    if not raw.startswith("/") or "\\" in raw or _ENCODED_SEPARATOR.search(raw):
        raise BadPath(raw)
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise BadPath(raw) from exc
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path) or "\\" in path:
        raise BadPath(raw)
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        if segment in (".", "..") or (segment == "" and index != len(segments) - 1):
            raise BadPath(raw)
    return path


class NotFound(Exception):
    pass


class Redirect(Exception):
    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def open_site_file(output_dir: Path, rel: str) -> tuple[int, os.stat_result, str]:
    """Open the file serving `rel` (decoded, relative to the site root) in the output folder.

    Returns (fd, stat, file path). Symlinks are followed only while they stay inside the
    output folder. A directory URL without its trailing slash raises Redirect; anything
    missing, outside the output or not a regular file raises NotFound; a folder swapped away
    mid-request raises FileNotFoundError (the caller retries).
    """
    base = os.path.realpath(output_dir)
    if not os.path.isdir(base):
        raise FileNotFoundError(base)
    segments = [s for s in rel.split("/") if s]
    real = os.path.realpath(os.path.join(base, *segments))
    if not _inside(real, base):
        raise NotFound(rel)
    if os.path.isdir(real):
        if rel and not rel.endswith("/"):
            raise Redirect(rel + "/")
        real = os.path.realpath(os.path.join(real, "index.html"))
        if not _inside(real, base):
            raise NotFound(rel)
    elif rel.endswith("/"):
        raise NotFound(rel)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError):
        if os.path.realpath(output_dir) != base or not os.path.isdir(base):
            raise FileNotFoundError(real) from None  # the output folder was swapped meanwhile
        raise NotFound(rel) from None
    except OSError:  # a directory, a symlink swapped in (ELOOP), no permission
        raise NotFound(rel) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotFound(rel)
    return fd, info, real


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    kind = _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind in _TEXT_TYPES:
        kind += "; charset=utf-8"
    return kind


def inject_script(html: bytes, state: BuildState) -> bytes:
    """Insert the live-reload script tag before the last </body> (or at the end)."""
    tag = (f'<script src="{SCRIPT_PATH}" data-build="{state.token}" data-pages="{state.pages}" '
           f'data-events="{EVENTS_PATH}"></script>').encode("ascii")
    matches = list(_BODY_END.finditer(html))
    if not matches:
        return html + tag
    at = matches[-1].start()
    return html[:at] + tag + html[at:]


# --- HTTP ------------------------------------------------------------------------------

_NO_SITE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>预览：站点尚未构建成功</title></head>
<body><h1>站点尚未构建成功</h1><p>修正错误并保存后，本页会自动刷新。</p></body></html>
"""
_NOT_FOUND_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>404 未找到</title></head>
<body><h1>404 未找到</h1><p>没有这个页面。</p></body></html>
"""


class PreviewHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog of 5 drops connections when many arrive while the accept
    # loop waits for the GIL; dropped SYNs are retried after 1, 3, 7, 15 s... (timeouts).
    request_queue_size = 128

    def __init__(self, address, preview: Preview, quiet: bool = True):
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.preview = preview
        self.quiet = quiet
        super().__init__(address, PreviewHandler)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the browser went away (closed tab, reload)
        super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "site-builder-preview"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.server.quiet:
            super().log_message(format, *args)

    def do_GET(self):
        self._handle(head=False)

    def do_HEAD(self):
        self._handle(head=True)

    # -- dispatch ---------------------------------------------------------------------

    def _handle(self, head: bool) -> None:
        preview = self.server.preview
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            rest = target.split("://", 1)[1]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        raw, _, query = target.partition("#")[0].partition("?")
        if raw == EVENTS_PATH and not head:
            return self._events()
        if raw == SCRIPT_PATH:
            return self._send(HTTPStatus.OK, SCRIPT_FILE.read_bytes(), "text/javascript; "
                              "charset=utf-8", head)
        try:
            path = decode_path(raw)
        except BadPath:
            return self._send_text(HTTPStatus.BAD_REQUEST, "400 Bad Request: invalid path", head)
        root = preview.root
        if not path.startswith(root):
            if path == "/" or path + "/" == root:
                return self._redirect(root, query, head)
            return self._not_found(head)
        rel = path[len(root):]
        if rel == "search/" and query:
            app = preview.search_app()
            if app is not None:
                return self._wsgi(app, root, rel, query, head)
        self._serve_file(rel, query, head)

    # -- responses --------------------------------------------------------------------

    def _serve_file(self, rel: str, query: str, head: bool) -> None:
        preview = self.server.preview
        deadline = time.monotonic() + 2.0
        while True:
            try:
                fd, info, name = open_site_file(preview.output_dir, rel)
                break
            except Redirect as redirect:
                return self._redirect(preview.root + redirect.location, query, head)
            except NotFound:
                return self._not_found(head)
            except FileNotFoundError:
                # The output folder is being swapped by a build, or no build succeeded yet.
                if not preview.state.has_site or time.monotonic() > deadline:
                    return self._no_site(head)
                time.sleep(0.01)
        with os.fdopen(fd, "rb") as handle:
            kind = content_type(name)
            if kind.startswith("text/html"):
                body = inject_script(handle.read(), preview.state)
                return self._send(HTTPStatus.OK, body, kind, head)
            self.send_response(HTTPStatus.OK)
            self._common_headers(kind, info.st_size)
            self.end_headers()
            if not head:
                remaining = info.st_size
                while remaining > 0:
                    chunk = handle.read(min(remaining, 1 << 16))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)

    def _not_found(self, head: bool) -> None:
        preview = self.server.preview
        try:
            fd, _, _ = open_site_file(preview.output_dir, "404.html")
        except (NotFound, Redirect, OSError):
            body = _NOT_FOUND_PAGE.encode("utf-8")
        else:
            with os.fdopen(fd, "rb") as handle:
                body = handle.read()
        body = inject_script(body, preview.state)
        self._send(HTTPStatus.NOT_FOUND, body, "text/html; charset=utf-8", head)

    def _no_site(self, head: bool) -> None:
        body = inject_script(_NO_SITE_PAGE.encode("utf-8"), self.server.preview.state)
        self._send(HTTPStatus.SERVICE_UNAVAILABLE, body, "text/html; charset=utf-8", head)

    def _redirect(self, path: str, query: str, head: bool) -> None:
        location = quote(path, safe="/") + (f"?{query}" if query else "")
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self._common_headers("text/plain; charset=utf-8", 0)
        self.end_headers()

    def _send_text(self, status: HTTPStatus, text: str, head: bool) -> None:
        self._send(status, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8", head)

    def _send(self, status, body: bytes, kind: str, head: bool) -> None:
        self.send_response(status)
        self._common_headers(kind, len(body))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _common_headers(self, kind: str, length: int) -> None:
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")

    # -- live reload ------------------------------------------------------------------

    def _events(self) -> None:
        """Server-sent events: the build state now, then after every build."""
        preview = self.server.preview
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        seen = None
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while True:
                state = preview.wait_for_change(seen, KEEPALIVE)
                if state is None:
                    return
                if state is seen:
                    self.wfile.write(b": keep-alive\n\n")
                else:
                    self.wfile.write(f"data: {state.to_json()}\n\n".encode("utf-8"))
                    seen = state
                self.wfile.flush()
        except (ConnectionError, TimeoutError, OSError):
            return

    # -- search -----------------------------------------------------------------------

    def _wsgi(self, app, root: str, rel: str, query: str, head: bool) -> None:
        """Answer through the WSGI search app mounted at the site root."""
        host, port = self.server.server_address[:2]
        environ = {
            "REQUEST_METHOD": "GET",  # for HEAD the body is dropped below
            "SCRIPT_NAME": root.rstrip("/"),
            "PATH_INFO": ("/" + rel).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ["HTTP_" + name] = value
        response: dict[str, Any] = {}

        def start_response(status, headers, exc_info=None):
            response["status"], response["headers"] = status, headers
            return lambda data: None

        try:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception as exc:
            self.server.preview._log("".join(traceback.format_exception(exc)).rstrip())
            return self._send_text(HTTPStatus.INTERNAL_SERVER_ERROR, "500 search failed", head)
        code = int(response["status"].split(" ", 1)[0])
        headers = [(k, v) for k, v in response["headers"] if k.lower() != "content-length"]
        kind = next((v for k, v in headers if k.lower() == "content-type"), "")
        if kind.startswith("text/html"):
            body = inject_script(body, self.server.preview.state)
        self.send_response(code)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


# --- the whole preview ----------------------------------------------------------------

def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class PreviewServer:
    """Build, then serve and watch; ``with PreviewServer(...) as server: server.url``."""

    def __init__(self, content_dir: Path, output_dir: Path, config_path: Path | None = None,
                 strict: bool = False, host: str = "127.0.0.1", port: int = 8000,
                 build_fn: BuildFn | None = None, watch: bool = True,
                 debounce: float = DEBOUNCE, quiet: bool = True,
                 log: Callable[[str], None] | None = None):
        self.preview = Preview(content_dir, output_dir, config_path, strict, build_fn,
                               debounce, log)
        self.host, self.port, self.watch, self.quiet = host, port, watch, quiet
        self.httpd: PreviewHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The site's address (with its base path)."""
        host, port = self.httpd.server_address[:2] if self.httpd else (self.host, self.port)
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}{quote(self.preview.root, safe='/')}"

    def start(self) -> None:
        """Build once, bind (port 0 = any free port), then serve and watch in threads."""
        self.httpd = PreviewHTTPServer((self.host, self.port), self.preview, self.quiet)
        self.preview.build_now()
        self.preview.start(watch=self.watch)
        self._serve_thread = threading.Thread(target=self.httpd.serve_forever,
                                              kwargs={"poll_interval": 0.2},
                                              name="preview-http", daemon=True)
        self._serve_thread.start()

    def stop(self, wait: bool = True) -> None:
        self.preview.stop(wait)  # also wakes the event streams so their threads end
        if self.httpd is not None:
            if self._serve_thread is not None and self._serve_thread.is_alive():
                self.httpd.shutdown()
            self.httpd.server_close()
        if self._serve_thread is not None:
            self._serve_thread.join(timeout=5)

    def __enter__(self) -> "PreviewServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- command line --------------------------------------------------------------------

def run_serve(args: argparse.Namespace, build_fn: BuildFn | None = None) -> int:
    """Build, serve and rebuild on change until Ctrl-C; returns the exit status."""
    config = Path(args.config) if getattr(args, "config", None) else None
    server = PreviewServer(Path(args.content), Path(args.output), config,
                           bool(getattr(args, "strict", False)), args.host, args.port,
                           build_fn=build_fn, quiet=True)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine on port "
              f"{args.port} can read the preview (including unpublished reports). Use the "
              f"default --host 127.0.0.1 unless you mean it.", file=sys.stderr, flush=True)
    print(f"building {server.preview.content_dir} …", file=sys.stderr, flush=True)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
              file=sys.stderr)
        server.stop()
        return 2
    except KeyboardInterrupt:  # Ctrl-C during the first build
        server.stop(wait=False)
        return 130
    print(f"Serving {server.url}  (watching {server.preview.content_dir}; Ctrl-C to stop)",
          flush=True)
    if args.open:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…", file=sys.stderr, flush=True)
        server.stop(wait=False)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
