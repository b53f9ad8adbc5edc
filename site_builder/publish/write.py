"""Stage 5, write: publish rendered files atomically.

The pages are checked against the output in one pass. A page whose fingerprint (a digest
of everything it is made from) matches the previous build's is not even rendered; while
every page is what output/ holds nothing is touched, and a build in which all match
leaves output/ alone. At the first difference the standby folder of the state dir (the
output before the current one) becomes the stage: only the files that differ from what it
holds are touched, files whose bytes did not change are hard links to the output's (same
inode and mtime, so a deploy syncs only what changed). Then the stage is swapped with
output/ in one step (renameat2 RENAME_EXCHANGE on Linux, two renames elsewhere) and the old
output becomes the standby. A build that fails or is killed leaves output/ as it was; the
next build removes what a killed one left behind. The standby, the stage and the manifests
are in standby.py; each tree's manifest holds a record of its folders (see folders.py): a
file removed by hand is found without looking for every file.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import chain
from dataclasses import dataclass
from pathlib import Path

from . import folders
from .standby import (Stage, UnsafePath, carry_over, check_path, describe_standby, keep_as_standby,
                      linked_copy, load_manifest, present, read_bytes, safe_join, save_manifest, standby_files)

__all__ = ["Carried", "Page", "UnsafePath", "WriteStats", "expand", "recover", "safe_join", "write_site"]



@dataclass(frozen=True, slots=True)
class Page:
    """One output file: its path, a fingerprint of its inputs (None: unknown), and how to
    make its bytes, called only when the fingerprint does not match the previous build."""

    path: str
    fingerprint: str | None
    produce: Callable[[], bytes]

    @classmethod
    def of(cls, path: str, data: bytes) -> "Page":
        return cls(path, None, lambda: data)


@dataclass(frozen=True, slots=True)
class Carried:
    """Files a caller knows to be unchanged since the previous build: (path, fingerprint)
    pairs. When the previous build's manifest has every one with that fingerprint they
    are carried over, otherwise `pages()` gives them as Pages. Each is found in the stage
    or the output, and a group with a file in neither (removed from output/ by hand) is
    made from its pages (see write_site's `look`)."""

    files: tuple[tuple[str, str], ...]
    pages: Callable[[], Iterable[Page]]


@dataclass(frozen=True, slots=True)
class WriteStats:
    files: int
    written: int  # new or changed
    linked: int  # unchanged: hard-linked from the previous output, or left in place
    rendered: int  # pages whose bytes had to be produced
    removed: int  # in the previous output, gone now
    changed: tuple[str, ...] = ()  # the paths written (new or changed) and removed, sorted


def recover(output_dir: Path) -> None:
    """Undo what a killed build left: stale staging folders, a half-done swap."""
    parent, name = output_dir.parent, output_dir.name
    if not parent.exists():
        return
    old = parent / f".{name}.old"
    if not output_dir.exists() and old.exists():
        os.rename(old, output_dir)  # killed between the two renames of the fallback swap
    for stale in sorted(parent.glob(f".{name}.staging-*")) + ([old] if old.exists() else []):
        shutil.rmtree(stale, ignore_errors=True)


def write_site(pages: Iterable[Page | Carried], output_dir: Path, state_dir: Path, keep: tuple[str, ...] = (),
               cache: dict | None = None, look: bool = True) -> WriteStats:
    """Write `pages` as the new content of output_dir, atomically, with the current
    output's files whose paths start with one of `keep` carried over as they are. Pages
    are checked against the output in one pass: while each is what output_dir already
    holds nothing is touched; at the first difference the standby is taken as the stage
    and caught up, and the rest are staged. A build in which every page matches leaves
    output/ alone. A process that writes again and again passes a `cache` dict, where the
    manifests it read or wrote are kept (used again while their files are unchanged).
    With `look` False, Carried groups are not looked at while nothing has changed (the
    preview server, for speed: a file removed from output/ by hand comes back with the
    next change)."""
    cache = {} if cache is None else cache
    recover(output_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    previous, record = load_manifest(state_dir, output_dir, cache)
    if keep:
        pages = chain(pages, _kept(previous, output_dir, keep))
    root = os.fspath(output_dir)
    manifest: dict[str, list] = {}
    stage: Stage | None = None
    rendered = 0
    lost: frozenset[str] | None = None  # what the output lacks of `previous` (see folders)
    items = iter(pages)
    try:
        while (page := next(items, None)) is not None:
            if type(page) is Carried:
                if stage is None:
                    if look and lost is None:
                        lost = folders.verify(root, previous, record)[0]
                    placed = _carry(page.files, previous, manifest, lost if look else None)
                else:
                    placed = stage.carry(page.files, manifest)
                if not placed:  # not as the previous build left them, or removed by hand:
                    items = chain(page.pages(), items)  # the group's pages are made
                continue
            rel = page.path
            check_path(rel)
            if rel in manifest:
                raise UnsafePath(f"two files render to {rel!r}")
            old = previous.get(rel)
            data = None
            if stage is None and old is not None and present(root + "/" + rel):
                if page.fingerprint is not None and page.fingerprint == old[1]:
                    manifest[rel] = old
                    continue
                data, rendered = page.produce(), rendered + 1
                digest = hashlib.sha256(data).hexdigest()
                if digest == old[0]:
                    manifest[rel] = [digest, page.fingerprint]
                    continue
            if stage is None:
                stage = Stage.take(state_dir, output_dir, previous, manifest, cache)
            if data is None and not stage.reuse(page, manifest):
                data, rendered = page.produce(), rendered + 1
            if data is not None:
                stage.put(rel, data, page.fingerprint, manifest)
        if stage is None and len(manifest) == len(previous):  # every page as it was
            if manifest != previous:  # new fingerprints for the same bytes (a new version of the code)
                standby = standby_files(state_dir, previous, cache)
                save_manifest(state_dir, output_dir, manifest, cache, record)
                if standby is not None:  # described again, from the manifest it now differs from
                    describe_standby(state_dir, *standby, cache, manifest)
            return WriteStats(len(manifest), 0, len(manifest), rendered, 0)
        if stage is None:  # pages were removed, nothing else changed
            stage = Stage.take(state_dir, output_dir, previous, manifest, cache)
        stage.drop_leftovers()
        staged_record = stage.record()
        old_tree = _swap(stage.path, output_dir)
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage.path, ignore_errors=True)
        raise
    save_manifest(state_dir, output_dir, manifest, cache, staged_record)
    if old_tree is None:  # a first output: its standby starts as a copy of it in hard links
        keep_as_standby(*linked_copy(output_dir, state_dir, manifest), state_dir, manifest, cache, over=manifest)
    else:  # the old output, as the manifest read at the start describes it (if it does)
        keep_as_standby(old_tree, record, state_dir, previous, cache, over=manifest if previous else None)
    removed = set(previous) - set(manifest)
    return WriteStats(len(manifest), stage.written, len(manifest) - stage.written, rendered, len(removed),
                      tuple(sorted(removed.union(stage.changed))))


def expand(items: Iterable[Page | Carried]) -> Iterator[Page]:
    """Pages, each Carried given as its pages."""
    for item in items:
        yield from item.pages() if type(item) is Carried else (item,)


def _carry(files: tuple[tuple[str, str], ...], previous: dict[str, list], manifest: dict[str, list],
           lost: frozenset[str] | None) -> bool:
    """Place Carried files in `manifest` as the output holds them, when the previous
    manifest has each with its fingerprint and none is `lost`; else place none."""
    nothing = (None, None)
    for rel, fingerprint in files:
        if previous.get(rel, nothing)[1] != fingerprint or (lost and rel in lost):
            return False
    carry_over(files, previous, manifest)
    return True


def _kept(previous: dict[str, list], output_dir: Path, prefixes: tuple[str, ...]) -> list[Page | Carried]:
    """The files of the current output whose paths start with one of `prefixes`, carried
    over as they are (never read)."""
    root = os.fspath(output_dir) + "/"
    rels = sorted(rel for rel in previous if rel.startswith(prefixes))
    known = tuple((rel, previous[rel][1]) for rel in rels if previous[rel][1] is not None)
    unknown = [Page(rel, previous[rel][0], partial(read_bytes, root + rel)) for rel in rels if previous[rel][1] is None]
    return [Carried(known, lambda: [Page(rel, fp, partial(read_bytes, root + rel)) for rel, fp in known]), *unknown]


def _swap(stage: Path, output_dir: Path) -> Path | None:
    """Put `stage` in place of output_dir; return where the old output now is."""
    if output_dir.exists() and _exchange(stage, output_dir):
        return stage
    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old"
        os.rename(output_dir, old)
        os.rename(stage, output_dir)
        return old
    os.rename(stage, output_dir)
    return None


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0
