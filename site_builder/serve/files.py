"""The output folder's files as the preview serves them: request paths decoded and checked,
files opened inside one tree of output/, and the one table of content types.

A build swaps output/ for a new tree in one step (see publish/write.py). A request opens
output/ once and finds its file from that folder's descriptor, segment by segment, so the
file it serves comes from one tree even while a build swaps another one in. No symlink is
followed (the build writes none), so nothing outside output/ can be reached through one.
"""
from __future__ import annotations

import mimetypes
import os
import re
import stat
from urllib.parse import unquote

_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)
# Opening a FIFO or a device must not block a request thread; O_NONBLOCK does nothing to a regular file.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

# The types of the files a build writes, so that every machine answers the same; anything
# else is looked up in the standard library's table. Only files the build writes as UTF-8
# are labelled so: a report's original (original.txt) keeps its own bytes and encoding.
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain",
    ".bin": "application/octet-stream",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    return TYPES.get(suffix) or mimetypes.guess_type(name, strict=True)[0] or "application/octet-stream"


class BadPath(ValueError):
    """A request path that can never name a file of the site (answered with 400)."""


def decode_path(raw: str) -> str:
    """Percent-decode a request path (UTF-8), refusing anything that could leave the site.

    Refused: encoded separators (%2f, %5c) and NUL, backslashes, "." and ".." segments
    (plain or encoded, e.g. %2e%2e), empty segments ("//"), control characters, bytes that
    are not UTF-8, and paths not starting with "/" (such as an absolute-form target).
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
    """A folder asked for without its trailing slash: `location` (relative to the site root) has it."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


class Tree:
    """One tree of output/, held open for the length of a request.

    Raises FileNotFoundError when output/ does not exist (no build has published yet)."""

    def __init__(self, output_dir: str | os.PathLike):
        self.fd = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> "Tree":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self, rel: str) -> tuple[int, os.stat_result]:
        """(descriptor, stat) of the regular file serving `rel`, a decoded path relative to
        the site root ("" or ending in "/" for a folder's index.html).

        Raises Redirect for a folder named without its trailing slash, NotFound for
        anything missing, not a regular file, or reached through a symlink."""
        fd = os.dup(self.fd)
        try:
            for segment in (s for s in rel.split("/") if s):
                folder, fd = fd, -1
                fd = _open_in(folder, segment)  # fails inside a file: not a folder
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                if rel and not rel.endswith("/"):
                    raise Redirect(rel + "/")
                folder, fd = fd, -1
                fd = _open_in(folder, "index.html")
                info = os.fstat(fd)
            elif rel.endswith("/"):
                raise NotFound(rel)
            if not stat.S_ISREG(info.st_mode):
                raise NotFound(rel)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        return fd, info


def _open_in(folder_fd: int, name: str) -> int:
    """Open `name` inside the folder `folder_fd`, which is closed (whatever happens)."""
    try:
        return os.open(name, _OPEN_FLAGS, dir_fd=folder_fd)
    except OSError:  # missing, a symlink (ELOOP), a name too long, no permission
        raise NotFound(name) from None
    finally:
        os.close(folder_fd)
