"""The preview's builds: debounced, serialised, on every change to the inputs.

``Preview`` owns the builds. A watchdog observer reports changes to the content, the
templates, the static assets and the config; after a short quiet period (debounce) one
build runs. Builds are serialised: a change during a build causes exactly one more build
after it. ``build()`` is incremental (it caches parse results by content hash) and swaps
the output folder atomically, so a failed build leaves the last good site in place. Each
build publishes a ``BuildState``, which the server (serve.py) pushes to the open tabs.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..config import load_config
from ..model import Problem

DEBOUNCE = 0.1  # seconds of quiet after a change before building (an editor's save takes milliseconds)
MAX_DEBOUNCE = 1.0  # build at the latest this long after the first change of a burst

# Called as build(content_dir, output_dir, config_path, strict); returns an object like
# site_builder.build.BuildResult: .ok, .problems and optionally .written and .changed.
BuildFn = Callable[[Path, Path, "Path | None", bool], Any]

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
    pages: str = ""  # changes after every build that changed a file other than the static search index

    def to_json(self) -> str:
        return json.dumps({"build": self.token, "pages": self.pages, "ok": self.ok, "errors": list(self.errors)},
                          ensure_ascii=False)


def error_lines(problems) -> tuple[str, ...]:
    """The errors of a build as ``path:line: message`` (warnings are left to the terminal)."""
    return tuple(f"{p.path}:{p.line}: {p.message}" for p in problems if p.severity == "error")


def default_build() -> BuildFn:
    """`build`, as the preview runs it."""
    from ..build import build  # imported lazily: the server module must load without it

    def run(content_dir, output_dir, config_path, strict):
        return build(content_dir, output_dir, config_path, strict=strict)
    return run


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
        from ..search.static_shards import SEARCH_FILES

        with self._build_lock:
            started = time.monotonic()
            old_root = self.root
            try:
                result = self._build_fn(self.content_dir, self.output_dir, self.config_path, self.strict)
                ok, problems = bool(result.ok), tuple(result.problems)
                written = getattr(result, "written", None)
            except Exception as exc:  # a crash in a build must not take the preview down
                self._log("".join(traceback.format_exception(exc)).rstrip())
                ok, written = False, 0
                problems = (Problem("site-builder", 0, f"internal error: {exc!r}"),)
            if ok:
                self.config, _ = load_config(self.config_path, self.content_dir)
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
                self._state = BuildState(token, ok, errors, seq,
                                         previous.has_site or (ok and self.output_dir.is_dir()), pages)
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
        from ..render.theme import TEMPLATES_DIR

        paths = [(self.content_dir, True), (TEMPLATES_DIR, True)]
        if self.config.theme:
            paths.append((Path(self.config.theme), True))
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
            from ..state import WHOOSH, state_dir
            from .app import make_app

            try:
                app = make_app(self.output_dir, state_dir(self.output_dir) / WHOOSH, self.config)
            except Exception as exc:  # no index yet, or a broken one: static search only
                self._log(f"server search unavailable: {exc!r}")
                app = None
            self._search = (token, app)
            return app
