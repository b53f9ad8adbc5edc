"""`site-builder serve`: build, serve the site under its production URLs, rebuild on change.

Three parts, each on its own thread:

* ``Preview`` owns the builds. A watchdog observer reports changes to the content, the
  templates, the static assets and the config; after a short quiet period (debounce) one
  build runs. Builds are serialised: a change during a build causes exactly one more build
  after it. ``build()`` is incremental (it caches parse results by content hash) and swaps
  the output folder atomically, so a failed build leaves the last good site in place.
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
import functools
import io
import ipaddress
import json
import mimetypes
import os
import re
import secrets
import signal
import socket
import stat
import sys
import threading
import time
import traceback
import webbrowser
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote

from .config import load_config
from .model import Problem

EVENTS_PATH = "/__livereload"
SCRIPT_PATH = "/__livereload.js"
SCRIPT_FILE = Path(__file__).with_name("livereload.js")
DEBOUNCE = 0.1  # seconds of quiet after a change before building (an editor's save takes milliseconds)
REFRESH_GRACE = 0.5  # seconds between publishing an edit and refreshing the static search behind it
MAX_DEBOUNCE = 1.0  # build at the latest this long after the first change of a burst
KEEPALIVE = 15.0  # seconds between comments on an idle event stream

# Called as build(content_dir, output_dir, config_path, strict, search_now); returns an
# object like site_builder.build.BuildResult: .ok, .problems and optionally .written,
# .search_stale and .site.
BuildFn = Callable[[Path, Path, "Path | None", bool, bool], Any]

_TEXT_TYPES = {"text/html", "text/css", "text/javascript", "application/javascript",
               "application/json", "application/xml", "text/xml", "image/svg+xml",
               "application/rss+xml", "application/atom+xml", "application/manifest+json"}
_EXTRA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
                ".xml": "application/xml", ".svg": "image/svg+xml", ".woff2": "font/woff2",
                ".webmanifest": "application/manifest+json", ".txt": "text/plain"}
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)
_EDITOR_TEMP = re.compile(r"(^\.#|~$|\.sw[a-p]$|^4913$|\.tmp$|^\.goutputstream)")


# --- build state ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BuildState:
    """What the last build left: the reload token, whether it succeeded, and its errors."""

    token: str  # changes after every build that changed the served site
    ok: bool  # False: the build failed and the previous site is still served
    errors: tuple[str, ...]  # "path:line: message"
    seq: int  # number of builds finished so far (successful or not)
    has_site: bool  # a built site exists in the output folder
    search_stale: bool = False  # the static search shows an earlier build (refresh running)
    pages: str = ""  # changes after every build that changed a file other than the static search index

    def to_json(self) -> str:
        return json.dumps({"build": self.token, "pages": self.pages, "ok": self.ok, "errors": list(self.errors)},
                          ensure_ascii=False)


def error_lines(problems) -> tuple[str, ...]:
    """The errors of a build as ``path:line: message`` (warnings are left to the terminal)."""
    return tuple(f"{p.path}:{p.line}: {p.message}" for p in problems if p.severity == "error")


def default_build() -> BuildFn:
    """`build`, keeping its memos in memory from one build to the next (see build.Warm)."""
    from .build import Warm, build  # imported lazily: the server module must load without it
    from .tokenizer import warm_up

    warm = Warm()

    def prepare() -> None:
        # The parser and pinyin load, jieba's dictionary and IDF table too, and the
        # templates compile, while the first build runs or the maintainer reads the page,
        # not when the first edit is saved.
        from . import clean, parse, urls  # noqa: F401 - parse: its modules load here

        clean.warm_up()
        urls.slugify("预览")
        warm_up()
        for name in warm.templates.list_templates():
            warm.templates.get_template(name)

    threading.Thread(target=prepare, name="preview-warm-up", daemon=True).start()
    return functools.partial(build, warm=warm)


class Preview:
    """Runs builds (serialised, debounced), watches the inputs and publishes the state."""

    def __init__(self, content_dir: Path, output_dir: Path, config_path: Path | None = None,
                 strict: bool = False, build_fn: BuildFn | None = None,
                 debounce: float = DEBOUNCE, log: Callable[[str], None] | None = None):
        self.content_dir = Path(content_dir).absolute()
        self.output_dir = Path(output_dir).absolute()
        self.config_path = Path(config_path).absolute() if config_path else None
        self.strict = strict
        self._build_fn = build_fn or default_build()
        self._debounce = debounce
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._instance = secrets.token_hex(4)
        self._cond = threading.Condition()
        first = f"{self._instance}-0"
        self._state = BuildState(first, True, (), 0, self.output_dir.is_dir(), pages=first)
        self._build_lock = threading.Lock()
        self._pending = threading.Event()
        self._last_change = 0.0
        self._first_change = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer = None
        self._search = None  # (token, app) of the mounted search app, made lazily
        self._search_lock = threading.Lock()
        self._stale_site = None  # the site whose static search awaits a background refresh
        self._refresher: threading.Thread | None = None
        self.config, _ = load_config(self.config_path, self.content_dir)

    # -- state ------------------------------------------------------------------------

    @property
    def state(self) -> BuildState:
        with self._cond:
            return self._state

    @property
    def root(self) -> str:
        """The URL prefix the site is served under ("/" or e.g. "/archive/")."""
        return self.config.root

    @property
    def refreshing_search(self) -> bool:
        """A background rebuild of the static search index is queued or running."""
        with self._cond:
            return self._refresher is not None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wait_for_change(self, seen: BuildState | None, timeout: float) -> BuildState | None:
        """The state once it differs from `seen` (or after `timeout`); None when stopping."""
        with self._cond:
            self._cond.wait_for(lambda: self._state is not seen or self._stopping.is_set(), timeout)
            return None if self._stopping.is_set() else self._state

    def wait_for_build(self, after_seq: int, timeout: float) -> BuildState:
        """Block until more than `after_seq` builds have finished (for tests and tools)."""
        with self._cond:
            self._cond.wait_for(lambda: self._state.seq > after_seq, timeout)
            return self._state

    # -- building ---------------------------------------------------------------------

    def build_now(self) -> BuildState:
        """Run one build (waiting for a running one to finish first) and publish its state."""
        from .static_search import SEARCH_FILES  # loaded by the build already

        with self._build_lock:
            started = time.monotonic()
            old_root = self.root
            try:
                # After the first build, an edit is published without waiting for the
                # static search index, which is refreshed in the background.
                result = self._build_fn(self.content_dir, self.output_dir, self.config_path,
                                        self.strict, self._state.seq == 0)
                ok, problems = bool(result.ok), tuple(result.problems)
                written = getattr(result, "written", None)
            except Exception as exc:  # a crash in a build must not take the preview down
                self._log("".join(traceback.format_exception(exc)).rstrip())
                ok, written = False, 0
                problems = (Problem("site-builder", 0, f"internal error: {exc!r}"),)
            if ok:
                self.config, _ = load_config(self.config_path, self.content_dir)
                if getattr(result, "search_stale", False):
                    self._refresh_search_later(result.site)
            errors = error_lines(problems)
            if not ok and not errors:
                errors = ("构建失败（详见终端输出）",)
            with self._cond:
                previous = self._state
                seq = previous.seq + 1
                changed = ok and (written is None or written > 0 or seq == 1
                                  or self.root != old_root or not previous.has_site)
                token = f"{self._instance}-{seq}" if changed else previous.token
                # Publishing the refreshed static search index reloads only the tabs that search it
                paths = getattr(result, "changed", None) if changed else None
                pages = previous.pages if not changed or (
                    paths and all(p.startswith(SEARCH_FILES) for p in paths) and seq > 1
                    and self.root == old_root and previous.has_site) else token
                stale = bool(getattr(result, "search_stale", False)) if ok else previous.search_stale
                self._state = BuildState(token, ok, errors, seq,
                                         previous.has_site or (ok and self.output_dir.is_dir()), stale, pages)
                self._cond.notify_all()
            elapsed = time.monotonic() - started
            for problem in problems:
                self._log(str(problem))
            if ok:
                count = "" if written is None else f", {written} file(s) changed"
                self._log(f"built in {elapsed:.2f} s{count}")
            else:
                self._log(f"build FAILED in {elapsed:.2f} s; still serving the last good site")
            return self._state

    def _refresh_search_later(self, site) -> None:
        """Rebuild the static search bundle for `site` in a background thread (the latest
        site wins if one is already being indexed), then build again to publish it."""
        with self._cond:
            self._stale_site = site
            if self._refresher is not None and self._refresher.is_alive():
                return
            self._refresher = threading.Thread(target=self._refresh_loop, name="preview-search",
                                               daemon=True)
            self._refresher.start()

    def _refresh_loop(self) -> None:
        from .build import refresh_static_search

        # the open tabs reload first (their requests are not kept waiting behind the
        # refresh), and the latest site is the one indexed
        while not self._stopping.wait(REFRESH_GRACE):
            with self._cond:
                site, self._stale_site = self._stale_site, None
                if site is None:
                    self._refresher = None
                    return
            started = time.monotonic()
            try:
                refresh_static_search(site, self.output_dir)
            except Exception as exc:  # noqa: BLE001 - the next edit tries again
                self._log(f"static search refresh failed: {exc!r}")
                continue
            self._log(f"static search index refreshed in {time.monotonic() - started:.2f} s")
            self.request_build()  # publishes the bundle if the site is still the same

    def request_build(self) -> None:
        """Note a change; the builder thread builds once the changes have settled."""
        now = time.monotonic()
        with self._cond:
            if not self._pending.is_set():
                self._first_change = now
            self._last_change = now
            self._pending.set()

    def _build_loop(self) -> None:
        while not self._stopping.is_set():
            if not self._pending.wait(0.5):
                continue
            while not self._stopping.is_set():  # debounce: wait for a quiet moment
                with self._cond:
                    now = time.monotonic()
                    quiet = now - self._last_change
                    burst = now - self._first_change
                if quiet >= self._debounce or burst >= MAX_DEBOUNCE:
                    break
                time.sleep(min(self._debounce - quiet, 0.05))
            if self._stopping.is_set():
                return
            with self._cond:
                self._pending.clear()
            self.build_now()

    # -- watching ---------------------------------------------------------------------

    def watched(self) -> list[tuple[Path, bool]]:
        """(directory, recursive) pairs to watch: content, templates, static, config."""
        paths: list[tuple[Path, bool]] = [(self.content_dir, True)]
        try:
            from . import render

            paths += [(Path(render.TEMPLATES_DIR), True), (Path(render.STATIC_DIR), True)]
        except (ImportError, AttributeError):
            pass
        if self.config_path is not None:
            paths.append((self.config_path.parent, False))
        unique: list[tuple[Path, bool]] = []
        for path, recursive in paths:
            path = Path(os.path.realpath(path))
            if not path.is_dir():
                continue
            if any(path == other or (rec and path.is_relative_to(other)) for other, rec in unique):
                continue
            unique.append((path, recursive))
        return unique

    def is_relevant(self, path: str) -> bool:
        """Whether a change to `path` can change the site (not output, caches or editor files)."""
        real = Path(os.path.realpath(path))
        out = Path(os.path.realpath(self.output_dir))
        for own in (out, out.parent / ".site-cache"):
            if real == own or real.is_relative_to(own):
                return False
        if real.parent == out.parent and real.name.startswith((out.name + ".", f".{out.name}.")):
            return False  # the build's staging folder beside the output
        if _EDITOR_TEMP.search(real.name):
            return False
        if self.config_path is not None and real.parent == Path(os.path.realpath(
                self.config_path.parent)) and not real.is_relative_to(
                os.path.realpath(self.content_dir)):
            return real == Path(os.path.realpath(self.config_path))
        return True

    def start(self, watch: bool = True) -> None:
        """Start the builder thread and (unless watch=False) the file watcher."""
        self._thread = threading.Thread(target=self._build_loop, name="preview-builder",
                                        daemon=True)
        self._thread.start()
        if watch:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            preview = self

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event):
                    if event.event_type not in ("created", "modified", "deleted", "moved",
                                                "closed"):
                        return  # "opened"/"closed_no_write": reads, e.g. by the build itself
                    if event.is_directory and event.event_type in ("modified", "closed"):
                        return
                    paths = [event.src_path, getattr(event, "dest_path", "")]
                    if any(p and preview.is_relevant(os.fsdecode(p)) for p in paths):
                        preview.request_build()

            self._observer = Observer()
            for path, recursive in self.watched():
                self._observer.schedule(Handler(), str(path), recursive=recursive)
            self._observer.daemon = True
            self._observer.start()

    def stop(self, wait: bool = True) -> None:
        """Stop watching and building. wait=True waits for a running build to finish, so no
        other build of the same output can start meanwhile; the command line passes False
        (Ctrl-C must be prompt, and a build killed with its process leaves output/ intact)."""
        self._stopping.set()
        self._pending.set()
        with self._cond:
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None and wait:
            self._thread.join()

    # -- search -----------------------------------------------------------------------

    def search_app(self):
        """The Whoosh-backed WSGI search app for the current build, or None if unavailable."""
        token = self.state.token
        with self._search_lock:
            if self._search is not None and self._search[0] == token:
                return self._search[1]
            app = None
            try:
                from . import wsgi
            except ImportError:
                wsgi = None
            if wsgi is not None and hasattr(wsgi, "make_app"):
                try:
                    app = wsgi.make_app(self.output_dir, search_index_dir(self.output_dir),
                                        self.config)
                except Exception as exc:  # no index yet, or a broken one: static search only
                    self._log(f"server search unavailable: {exc!r}")
            self._search = (token, app)
            return app


def search_index_dir(output_dir: Path) -> Path:
    """Where the build keeps the Whoosh index (beside the output, not served)."""
    try:
        from . import build

        if hasattr(build, "search_index_dir"):
            return Path(build.search_index_dir(output_dir))
        return Path(build.state_dir(output_dir)) / "whoosh"
    except (ImportError, AttributeError):
        return output_dir.parent / ".site-cache" / output_dir.name / "whoosh"


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
