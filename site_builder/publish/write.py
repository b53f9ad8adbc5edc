"""Publish: make output/ hold exactly the rendered pages, atomically.

The manifest (in the state) records, for each file of output/, the sha256 of its bytes,
the fingerprint of its inputs and the identity it was written with (size, mtime, inode). A
page whose fingerprint is unchanged and whose file is still as written is not even
rendered; a build in which every page is as output/ holds it touches nothing.

Otherwise a stage is made and swapped with output/ in one step (renameat2 RENAME_EXCHANGE
on Linux, two renames elsewhere). The stage is the standby: the tree output/ replaced last
time, kept in the state folder with its own manifest, so that only what changed since then
is written. Unchanged files are hard links to output/'s (same inode and mtime, so a deploy
syncs only what changed); a file is never written in place, only replaced. A file of
output/ (or of the standby) found changed or removed by hand is written again.

A build that fails or is killed leaves output/ as it was: the next one removes what a
killed build left behind.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..model import Page
from ..state import Store

STANDBY = "standby"  # in the state folder: the tree output/ replaced last time
# A manifest: {"inode": of its tree's folder, "files": {path: [sha256, fingerprint, size, mtime_ns, inode]}}
OUTPUT_MANIFEST, STANDBY_MANIFEST = "output", "standby"


class UnsafePath(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PublishStats:
    files: int
    written: int  # new or changed
    rendered: int  # pages whose bytes had to be produced
    removed: int  # in the previous output, gone now
    changed: tuple[str, ...] = ()  # the paths written (new or changed) and removed, sorted


def check_path(rel: str) -> None:
    """Refuse an output path that could land outside output/."""
    if (not rel or "\x00" in rel or "\\" in rel or rel.startswith("/")
            or any(part in ("", ".", "..") for part in rel.split("/"))):
        raise UnsafePath(f"unsafe output path {rel!r}")


def publish(pages: Iterable[Page], output_dir: Path, state_dir: Path, store: Store) -> PublishStats:
    """Make `output_dir` hold `pages` and nothing else (see the module's docstring)."""
    output_dir = Path(output_dir).absolute()
    recover(output_dir)
    space = store.space("publish")
    previous = _manifest(space.get_json(OUTPUT_MANIFEST), output_dir)
    root = os.fspath(output_dir)
    files: dict[str, list] = {}
    stage: _Stage | None = None
    rendered = 0
    try:
        for page in pages:
            rel = page.path
            check_path(rel)
            if rel in files:
                raise UnsafePath(f"two files render to {rel!r}")
            old = previous.get(rel)
            intact = old is not None and _intact(f"{root}/{rel}", old)
            data = None
            if intact and page.fingerprint is not None and page.fingerprint == old[1]:
                if stage is not None:
                    stage.place(rel, old, None)
                files[rel] = old
                continue
            if stage is None and intact:
                data, rendered = page.produce(), rendered + 1
                if _sha(data) == old[0]:
                    files[rel] = [old[0], page.fingerprint, *old[2:]]
                    continue
            if stage is None:
                stage = _Stage.take(state_dir, output_dir, store, previous)
                for done, record in files.items():
                    stage.place(done, record, None)
            if data is None:
                data, rendered = page.produce(), rendered + 1
            files[rel] = stage.put(rel, data, page.fingerprint, old, intact)
        if stage is None:
            if files.keys() == previous.keys():  # every page as output/ holds it
                if files != previous:  # new fingerprints for the same bytes
                    space.put_json([(OUTPUT_MANIFEST, {"inode": _inode(output_dir), "files": files})])
                return PublishStats(len(files), 0, rendered, 0)
            stage = _Stage.take(state_dir, output_dir, store, previous)  # pages were removed
            for done, record in files.items():
                stage.place(done, record, None)
        stage.drop_others(files)
        old_tree = _swap(stage.path, output_dir)
    except BaseException:
        if stage is not None:
            stage.abandon()
        raise
    removed = previous.keys() - files.keys()
    manifests = [(OUTPUT_MANIFEST, {"inode": _inode(output_dir), "files": files})]
    kept = _keep_as_standby(old_tree, state_dir)
    if kept is not None and previous:  # the standby is the output the previous manifest described
        manifests.append((STANDBY_MANIFEST, {"inode": _inode(kept), "files": previous}))
    space.put_json(manifests)
    return PublishStats(len(files), len(stage.changed), rendered, len(removed),
                        tuple(sorted(removed.union(stage.changed))))


def recover(output_dir: Path) -> None:
    """Undo what a killed build left: stale staging folders, a half-done swap."""
    parent, name = output_dir.parent, output_dir.name
    if not parent.exists():
        return
    old = parent / f".{name}.old"
    if not output_dir.exists() and old.exists():
        os.rename(old, output_dir)  # killed between the two renames of the fallback swap
    for stale in sorted(parent.glob(f".{name}.staging")) + ([old] if old.exists() else []):
        shutil.rmtree(stale, ignore_errors=True)


class _Stage:
    """The tree being made into the next output/: the standby brought up to date, or a
    new folder. `have`: what it holds as the standby's manifest says (empty for a new one)."""

    def __init__(self, path: str, output: str, have: dict[str, list]):
        self.path, self.output, self.have = path, output, have
        self.changed: list[str] = []
        self._folders: set[str] = set()

    @classmethod
    def take(cls, state_dir: Path, output_dir: Path, store: Store, previous: dict[str, list]) -> "_Stage":
        space = store.space("publish")
        standby = state_dir / STANDBY
        held = _manifest(space.get_json(STANDBY_MANIFEST), standby)
        # From here on the standby is changed: a build killed now leaves no manifest to trust.
        with store.transaction():
            space.delete_many([STANDBY_MANIFEST])
        if _same_device(state_dir, output_dir.parent):
            if not held:
                shutil.rmtree(standby, ignore_errors=True)
                standby.mkdir()
            return cls(os.fspath(standby), os.fspath(output_dir), held)
        shutil.rmtree(standby, ignore_errors=True)  # no hard links across devices: stage beside output/
        stage = output_dir.parent / f".{output_dir.name}.staging"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir()
        return cls(os.fspath(stage), os.fspath(output_dir), {})

    def place(self, rel: str, record: list, fingerprint) -> None:
        """Make the stage hold output/'s file at `rel` (as `record` describes it, intact)."""
        have = self.have.get(rel)
        if have is not None and have[0] == record[0] and _intact(f"{self.path}/{rel}", have):
            return
        if not self._link(rel):
            self._write(rel, _read(f"{self.output}/{rel}"))

    def put(self, rel: str, data: bytes, fingerprint: str | None, old: list | None, intact: bool) -> list:
        """Make the stage hold `data` at `rel`; its record. `old`: the manifest's record of
        output/'s file (`intact`: the file is still as written). A file is changed (for a
        deploy) when its bytes differ from what the manifest says was published."""
        sha = _sha(data)
        if old is None or old[0] != sha:
            self.changed.append(rel)
        have = self.have.get(rel)
        if have is not None and have[0] == sha and _intact(f"{self.path}/{rel}", have):
            return [sha, fingerprint, *have[2:]]
        if intact and old[0] == sha and self._link(rel):
            return [sha, fingerprint, *old[2:]]
        return [sha, fingerprint, *self._write(rel, data)]

    def drop_others(self, keep: dict[str, list]) -> None:
        """Remove what the standby held that the site no longer has, and emptied folders."""
        for rel in sorted(self.have.keys() - keep.keys(), reverse=True):
            path = f"{self.path}/{rel}"
            if os.path.isdir(path) and not os.path.islink(path):  # the site has a file there now
                continue
            try:
                os.unlink(path)
            except (FileNotFoundError, NotADirectoryError):  # gone with a folder the site replaced by a file
                continue
            folder = os.path.dirname(path)
            while folder != self.path:
                try:
                    os.rmdir(folder)  # only when empty
                except OSError:
                    break
                folder = os.path.dirname(folder)

    def abandon(self) -> None:
        """After a failure: a new stage is removed; the standby stays, without a manifest
        (the next build starts it afresh)."""
        if not self.path.endswith("/" + STANDBY):
            shutil.rmtree(self.path, ignore_errors=True)

    def _link(self, rel: str) -> bool:
        target = self._make_room(rel)
        try:
            os.link(f"{self.output}/{rel}", target)
            return True
        except OSError:
            return False

    def _write(self, rel: str, data: bytes) -> list:
        target = self._make_room(rel)
        with open(target, "xb") as file:
            file.write(data)
            file.flush()
            info = os.fstat(file.fileno())
        return [info.st_size, info.st_mtime_ns, info.st_ino]

    def _make_room(self, rel: str) -> str:
        """Clear the way for a new file at `rel` and return its path: remove what is there
        (a file, or a folder where the site now has a file) and any file where the site now
        has a folder. Files shared with output/ are hard links: never written in place."""
        target = f"{self.path}/{rel}"
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
            self._folders.clear()
        elif os.path.lexists(target):
            os.unlink(target)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            parent = folder
            while parent != self.path and not os.path.isdir(parent):
                if os.path.lexists(parent):
                    os.unlink(parent)
                    break
                parent = os.path.dirname(parent)
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return target


def _manifest(stored, tree: Path) -> dict[str, list]:
    """The files of a stored manifest if it describes this very folder (same inode): after
    a build killed between swap and save it does not, and nothing of it is trusted."""
    try:
        if stored["inode"] == _inode(tree) and isinstance(stored["files"], dict):
            return stored["files"]
    except (OSError, TypeError, KeyError):
        pass
    return {}


def _intact(path: str, record: list) -> bool:
    """Whether the file is still as written: same size, modification time and inode."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return [info.st_size, info.st_mtime_ns, info.st_ino] == record[2:]


def _keep_as_standby(old_tree: Path | None, state_dir: Path) -> Path | None:
    """Keep the output just replaced as the standby (it may be there already)."""
    standby = state_dir / STANDBY
    if old_tree is None:
        return None
    if old_tree != standby:
        try:
            shutil.rmtree(standby, ignore_errors=True)
            os.rename(old_tree, standby)
        except OSError:  # another file system: no standby, the next build stages afresh
            shutil.rmtree(old_tree, ignore_errors=True)
            return None
    return standby


def _swap(stage: str, output_dir: Path) -> Path | None:
    """Put `stage` in place of output_dir; return where the old output now is."""
    if output_dir.exists() and _exchange(stage, os.fspath(output_dir)):
        return Path(stage)
    if output_dir.exists():
        old = output_dir.parent / f".{output_dir.name}.old"
        os.rename(output_dir, old)
        os.rename(stage, output_dir)
        return old
    os.rename(stage, output_dir)
    return None


def _exchange(a: str, b: str) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def _inode(path: Path) -> int:
    return os.stat(path).st_ino


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()

