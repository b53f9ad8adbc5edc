"""The preview's builds: debounced, serialised, on every change to the inputs.

``Preview`` owns the builds, which all run in its one builder thread. A watchdog observer
reports changes to the content, the theme and the config; once the changes have been quiet
for a moment (the debounce) one build runs. A change during a build causes exactly one more
build after it. A build either publishes a whole new site (pages and search files swapped
into output/ in one step) or leaves output/ as it was, so the site served is always the
result of one build. After each build a ``BuildState`` is published, which the app
(app.py) serves and pushes to the open tabs.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import SiteConfig, load_config

DEBOUNCE = 0.1  # seconds of quiet after a change before building (an editor's save takes milliseconds)
MAX_DEBOUNCE = 1.0  # build at the latest this long after the first change of a burst

_EDITOR_TEMP = re.compile(r"(^\.#|~$|\.sw[a-p]$|^4913$|\.tmp$|^\.goutputstream)")


@dataclass(frozen=True, slots=True)
class BuildState:
    """What the last build left, as the app serves it."""

    token: str  # changes after every build that changed the served site (open tabs reload)
    ok: bool  # False: the last build failed
    published: bool  # the last build published a site (with --keep-going, also when it failed)
    errors: tuple[str, ...]  # "path:line: error: message"
    seq: int  # number of builds finished so far
    has_site: bool  # output/ holds a site
    config: SiteConfig = field(default_factory=SiteConfig)  # the config of the site served

    @property
    def root(self) -> str:
        """The URL prefix the site is served under ("/" or e.g. "/archive/")."""
        return self.config.root

    def to_json(self) -> str:
        return json.dumps({"build": self.token, "ok": self.ok, "published": self.published,
                           "errors": list(self.errors)}, ensure_ascii=False)


def _print(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Preview:
    """Builds `content_dir` into `output_dir` on every change and publishes the state."""

    live = True  # for the app: tabs are told of each build

    def __init__(self, content_dir: Path, output_dir: Path, config_path: Path | None = None, *,
                 strict: bool = False, keep_going: bool = False, allow_shrink: bool = False,
                 debounce: float = DEBOUNCE, log: Callable[[str], None] | None = None):
        self.content_dir = Path(content_dir).absolute()
        self.output_dir = Path(output_dir).absolute()
        self.config_path = Path(config_path).absolute() if config_path else None
        self._options = {"strict": strict, "keep_going": keep_going, "allow_shrink": allow_shrink}
        self._debounce = debounce
        self._log = log or _print
        self._instance = secrets.token_hex(4)  # a tab served by an earlier server reloads
        self._cond = threading.Condition()
        config, _ = load_config(self.config_path, self.content_dir)
        self._state = BuildState(f"{self._instance}-0", True, False, (), 0, self.output_dir.is_dir(), config)
        self._first_change: float | None = None  # of the changes not built yet
        self._last_change = 0.0
        self._building = False
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._observer = None

    # -- state ------------------------------------------------------------------------

    @property
    def state(self) -> BuildState:
        with self._cond:
            return self._state

    def wait_for_change(self, seen: BuildState | None, timeout: float) -> BuildState | None:
        """The state once it is not `seen` (or after `timeout`); None once stopping."""
        with self._cond:
            self._cond.wait_for(lambda: self._state is not seen or self._stopping, timeout)
            return None if self._stopping else self._state

    def wait_for_build(self, after_seq: int, timeout: float) -> BuildState:
        """The state once more than `after_seq` builds have finished (or after `timeout`)."""
        with self._cond:
            self._cond.wait_for(lambda: self._state.seq > after_seq or self._stopping, timeout)
            return self._state

    @property
    def building(self) -> bool:
        with self._cond:
            return self._building

    def idle(self) -> bool:
        """No build is running and no change is waiting for one."""
        with self._cond:
            return not self._building and self._first_change is None

    # -- building ---------------------------------------------------------------------

    def request_build(self) -> None:
        """Note a change: the builder thread builds once the changes have been quiet."""
        with self._cond:
            now = time.monotonic()
            if self._first_change is None:
                self._first_change = now
            self._last_change = now
            self._cond.notify_all()

    def _build_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._first_change is not None or self._stopping)
                while not self._stopping:  # the debounce
                    now = time.monotonic()
                    left = min(self._last_change + self._debounce, self._first_change + MAX_DEBOUNCE) - now
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stopping:
                    return
                self._first_change = None  # a change from now on is built after this build
                self._building = True
            try:
                self._build()
            finally:
                with self._cond:
                    self._building = False

    def _build(self) -> None:
        from ..build import build  # imported here: the app and its tests load without the build

        started = time.monotonic()
        try:
            result = build(self.content_dir, self.output_dir, self.config_path, **self._options)
            ok, published, problems, changed = result.ok, result.published, result.problems, bool(result.changed)
        except Exception as exc:  # a bug in a build must not take the preview down
            self._log("".join(traceback.format_exception(exc)).rstrip())
            ok, published, changed = False, False, False
            problems = ()
            errors: tuple[str, ...] = (f"site-builder:1: error: 内部错误（internal error）：{exc!r}",)
        else:
            errors = tuple(str(p) for p in problems if p.severity == "error")
            if not ok and not errors:  # failed by warnings under --strict
                errors = tuple(str(p) for p in problems)
        config = load_config(self.config_path, self.content_dir)[0] if published else None
        with self._cond:
            previous = self._state
            if config is None:  # nothing published: the site served is the previous one
                config = previous.config
            has_site = previous.has_site or (published and self.output_dir.is_dir())
            # A tab reloads when what it was served may have changed: files of the site, its
            # base path, or a first site after none.
            reload = published and (changed or config.root != previous.root or not previous.has_site)
            seq = previous.seq + 1
            token = f"{self._instance}-{seq}" if reload else previous.token
            self._state = BuildState(token, ok, published, errors, seq, has_site, config)
            self._cond.notify_all()
        elapsed = time.monotonic() - started
        for problem in problems:
            self._log(str(problem))
        if ok:
            self._log(f"已构建，用时 {elapsed:.2f} 秒，{result.written} 个文件有变化"
                      f"（built in {elapsed:.2f} s, {result.written} file(s) changed）")
        elif published:
            self._log(f"构建有错误，用时 {elapsed:.2f} 秒；有错误的文件未发布，其余已发布"
                      f"（build FAILED in {elapsed:.2f} s; the files in error were left out, the rest published）")
        else:
            self._log(f"构建失败，用时 {elapsed:.2f} 秒；仍提供上一次成功构建的站点"
                      f"（build FAILED in {elapsed:.2f} s; still serving the last good site）")

    # -- watching ---------------------------------------------------------------------

    def watched(self) -> list[tuple[Path, bool]]:
        """(folder, recursive) pairs to watch: the content, the theme, the config's folder."""
        from ..render.theme import TEMPLATES_DIR

        paths = [(self.content_dir, True), (TEMPLATES_DIR, True)]
        if self.state.config.theme:
            paths.append((Path(self.state.config.theme), True))
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
        """Whether a change to `path` can change the site (not output, state or editor files)."""
        real = Path(os.path.realpath(path))
        out = Path(os.path.realpath(self.output_dir))
        for own in (out, out.parent / ".site-cache"):
            if real == own or real.is_relative_to(own):
                return False
        if real.parent == out.parent and real.name.startswith((out.name + ".", f".{out.name}.")):
            return False  # the build's stage or swapped-out tree beside output/
        if _EDITOR_TEMP.search(real.name):
            return False
        if self.config_path is not None and real.parent == Path(os.path.realpath(
                self.config_path.parent)) and not real.is_relative_to(os.path.realpath(self.content_dir)):
            return real == Path(os.path.realpath(self.config_path))
        return True

    def _watch(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        preview = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type not in ("created", "modified", "deleted", "moved", "closed"):
                    return  # "opened", "closed_no_write": reads, such as the build's own
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

    # -- life ---------------------------------------------------------------------------

    def start(self) -> BuildState:
        """Start the watcher and the builder thread; returns once the first build is over."""
        self._watch()  # before the first build reads the inputs: no change goes unnoticed
        with self._cond:
            self._first_change = self._last_change = time.monotonic() - MAX_DEBOUNCE
        self._thread = threading.Thread(target=self._build_loop, name="preview-builder", daemon=True)
        self._thread.start()
        return self.wait_for_build(0, timeout=None)

    def stop(self, wait: bool = True) -> None:
        """Stop watching and building. wait=True waits for a running build to finish (so no
        other build of the same output can start meanwhile); the command line passes False,
        as Ctrl-C must be prompt and a build killed with its process leaves output/ as it was."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None and wait:
            self._thread.join()
