"""Stage 5, write: publish rendered files atomically.

The new site is staged in the standby folder of the state dir (the output before the
current one: only the files that differ from it are touched), then swapped with output/
in one step (renameat2 RENAME_EXCHANGE on Linux, two renames elsewhere); the old output
becomes the standby. Files whose bytes did not change are hard-linked from the previous
output, so they keep their inode and mtime and a deploy syncs only what changed. A page whose fingerprint (a digest of everything it is
made from) matches the previous build's is not even rendered, and a build in which every
page matches leaves output/ alone (no staging, no swap). A build that fails or is killed
leaves output/ as it was; the next build removes what a killed one left behind.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MANIFEST = "manifest.json"  # kept in the state dir: output path -> [sha256, fingerprint]
STANDBY = "standby"  # in the state dir: the output before the current one
STANDBY_MANIFEST = "standby.json"  # and what it holds
PRODUCED_BUDGET = 64 << 20  # bytes of pages kept between the unchanged check and staging


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


class UnsafePath(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class WriteStats:
    files: int
    written: int  # new or changed
    linked: int  # unchanged: hard-linked from the previous output, or left in place
    rendered: int  # pages whose bytes had to be produced
    removed: int  # in the previous output, gone now


def staging_dir(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.staging-{os.getpid()}"


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


def safe_join(root: Path, rel: str) -> Path:
    """root/rel, refusing anything that could land outside root."""
    parts = rel.split("/")
    if (not rel or "\x00" in rel or "\\" in rel or PurePosixPath(rel).is_absolute()
            or any(part in ("", ".", "..") for part in parts)):
        raise UnsafePath(f"unsafe output path {rel!r}")
    return root.joinpath(*parts)


def write_site(pages: Iterable[Page] | Callable[[], Iterable[Page]], output_dir: Path,
               state_dir: Path) -> WriteStats:
    """Stage every page, then swap the staging folder in as output_dir; or, when every
    page is what output_dir already holds, leave it alone. `pages` may be a function
    giving a fresh iterator each time: the pages are then gone through twice (check,
    then stage) without holding them all in memory."""
    recover(output_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    previous = _load_manifest(state_dir, output_dir)
    if not callable(pages):
        pages = (lambda listed: lambda: listed)(list(pages))
    produced: dict[str, bytes] = {}
    same = _unchanged(pages(), previous, output_dir, produced) if previous else None
    if same is not None:
        if same != previous:  # new fingerprints for the same bytes (e.g. a new version of the code)
            _save_manifest(state_dir, output_dir, same)
        return WriteStats(files=len(same), written=0, linked=len(same), rendered=len(produced), removed=0)
    stage, staged = _take_standby(state_dir, output_dir)
    manifest: dict[str, list] = {}
    written = linked = rendered = 0
    try:
        for page in pages():
            if page.path in manifest:
                raise UnsafePath(f"two files render to {page.path!r}")
            target = safe_join(stage, page.path)
            have = staged.pop(page.path, None)  # what the stage already holds there
            old_digest, old_fingerprint = previous.get(page.path, (None, None))
            old_file = output_dir / page.path
            if page.fingerprint and have and page.fingerprint == have[1] and target.is_file():
                manifest[page.path] = have
                written, linked = (written, linked + 1) if have[0] == old_digest else (written + 1, linked)
                continue
            if page.fingerprint and page.fingerprint == old_fingerprint and _link(old_file, target, stage):
                manifest[page.path] = [old_digest, page.fingerprint]
                linked += 1
                continue
            data = produced.pop(page.path, None)
            data = page.produce() if data is None else data
            rendered += 1
            digest = hashlib.sha256(data).hexdigest()
            manifest[page.path] = [digest, page.fingerprint]
            if have and have[0] == digest and target.is_file():
                written, linked = (written, linked + 1) if digest == old_digest else (written + 1, linked)
            elif digest == old_digest and _link(old_file, target, stage):
                linked += 1
            else:
                _make_room(target, stage)
                target.write_bytes(data)
                written += 1
        _drop(stage, staged)  # what the stage held that the site no longer has
        old_tree = _swap(stage, output_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _keep_as_standby(old_tree, state_dir, previous)
    _save_manifest(state_dir, output_dir, manifest)
    removed = len(set(previous) - set(manifest))
    return WriteStats(files=len(manifest), written=written, linked=linked, rendered=rendered, removed=removed)


# --- the standby tree ---------------------------------------------------------------------
#
# After a swap the previous output is not deleted: it stays in the state dir as the
# standby, with its manifest. The next build stages into it, touching only the files
# that differ from what it holds, then swaps again: a rebuild costs what changed, not the
# size of the site. Files shared with the output are hard links, so a changed file is
# always replaced (unlink, write), never written in place.

def _take_standby(state_dir: Path, output_dir: Path) -> tuple[Path, dict[str, list]]:
    """The folder to stage in and what it holds (path -> [sha256, fingerprint])."""
    standby = state_dir / STANDBY
    try:
        data = json.loads((state_dir / STANDBY_MANIFEST).read_text(encoding="utf-8"))
        files = data["files"] if data["inode"] == standby.stat().st_ino else None
    except (OSError, ValueError, KeyError, TypeError):
        files = None
    # From here on the standby is being changed: a build killed now leaves it unusable.
    (state_dir / STANDBY_MANIFEST).unlink(missing_ok=True)
    if files is not None and _same_device(standby, output_dir.parent):
        return standby, dict(files)
    shutil.rmtree(standby, ignore_errors=True)
    stage = standby if _same_device(state_dir, output_dir.parent) else staging_dir(output_dir)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage, {}


def _keep_as_standby(old_tree: Path | None, state_dir: Path, files: dict[str, list]) -> None:
    standby = state_dir / STANDBY
    if old_tree is None:
        return
    if old_tree != standby:
        try:
            os.rename(old_tree, standby)
        except OSError:  # another file system: no standby, the next build stages afresh
            shutil.rmtree(old_tree, ignore_errors=True)
            return
    tmp = state_dir / (STANDBY_MANIFEST + ".tmp")
    tmp.write_text(json.dumps({"inode": standby.stat().st_ino, "files": files}, sort_keys=True),
                   encoding="utf-8")
    os.replace(tmp, state_dir / STANDBY_MANIFEST)


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _make_room(target: Path, stage: Path) -> None:
    """Clear the way for a new file at `target`: what is there (a file, or a folder where
    the site now has a file) and any file where the site now has a folder."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    parent = target.parent
    while parent != stage and not parent.is_dir():
        if parent.exists() or parent.is_symlink():
            parent.unlink()
            break
        parent = parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)


def _drop(stage: Path, leftovers: dict[str, list]) -> None:
    for rel in sorted(leftovers, reverse=True):
        path = safe_join(stage, rel)
        if path.is_file() or path.is_symlink():
            path.unlink()
        parent = path.parent
        while parent != stage:
            try:
                parent.rmdir()  # only when empty
            except OSError:
                break
            parent = parent.parent


def _unchanged(pages: Iterable[Page], previous: dict[str, list], output_dir: Path,
               produced: dict[str, bytes]) -> dict[str, list] | None:
    """The manifest of `pages` when the output already holds exactly them (same paths,
    each with the previous fingerprint or, failing that, the previous bytes, and still on
    disk); None at the first difference. Bytes it had to produce are kept in `produced`
    (up to PRODUCED_BUDGET bytes) so the staging pass need not produce them again."""
    manifest: dict[str, list] = {}
    budget = PRODUCED_BUDGET
    root = os.fspath(output_dir)
    for page in pages:
        old = previous.get(page.path)
        if old is None or page.path in manifest or not os.path.isfile(os.path.join(root, page.path)):
            return None
        if page.fingerprint is not None and page.fingerprint == old[1]:
            manifest[page.path] = old
            continue
        data = page.produce()
        if len(data) <= budget:
            produced[page.path] = data
            budget -= len(data)
        digest = hashlib.sha256(data).hexdigest()
        if digest != old[0]:
            return None
        manifest[page.path] = [digest, page.fingerprint]
    return manifest if len(manifest) == len(previous) else None


def kept_pages(output_dir: Path, state_dir: Path, prefixes: tuple[str, ...]) -> list[Page]:
    """The files of the current output whose paths start with one of `prefixes`, as pages
    that stay as they are (same fingerprint: hard-linked, never read)."""
    previous = _load_manifest(state_dir, output_dir)
    return [Page(rel, fingerprint or digest, (output_dir / rel).read_bytes)
            for rel, (digest, fingerprint) in sorted(previous.items()) if rel.startswith(prefixes)]


def _link(existing: Path, target: Path, stage: Path) -> bool:
    if not existing.is_file():
        return False
    _make_room(target, stage)
    try:
        os.link(existing, target)
        return True
    except OSError:
        return False


def _load_manifest(state_dir: Path, output_dir: Path) -> dict[str, list]:
    """The digests of the files in output_dir, if the manifest describes this very folder
    (same inode): after a build killed between swap and save it does not, and all is rewritten."""
    try:
        data = json.loads((state_dir / MANIFEST).read_text(encoding="utf-8"))
        return data["files"] if data["inode"] == output_dir.stat().st_ino else {}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _save_manifest(state_dir: Path, output_dir: Path, manifest: dict[str, list]) -> None:
    tmp = state_dir / (MANIFEST + ".tmp")
    data = {"inode": output_dir.stat().st_ino, "files": manifest}
    tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(tmp, state_dir / MANIFEST)


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
