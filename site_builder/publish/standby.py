"""The standby tree and the manifests, for the write stage (write.py).

After a swap the previous output is not deleted: it stays in the state dir as the standby,
with its manifest. The next build stages into it (the Stage), touching only the files that
differ from what it holds, then swaps again: a rebuild costs what changed, not the size of
the site. Files shared with the output are hard links, so a changed file is always
replaced (unlink, write), never written in place.

A manifest maps each output path to [sha256 of its bytes, fingerprint of its inputs], and
holds the record of the tree's folders (see folders.py); the standby's says how it differs
from the output's. Both are written atomically in the state dir, never published.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import folders
from ..state import load_pickle

if TYPE_CHECKING:
    from .write import Page

MANIFEST = "manifest.marshal"  # kept in the state dir: output path -> [sha256, fingerprint], folders.Record
STANDBY = "standby"  # in the state dir: the output before the current one
STANDBY_MANIFEST = "standby.marshal"  # and what it holds (as it differs from the manifest)
# The manifests are plain values (dicts, lists, strings, numbers): marshal writes them in a
# quarter of pickle's time (0.014 s at 61,000 files) and reads them a quarter faster. Its
# format belongs to one Python version, which the tag says: another's is not read.
_STATE_TAG = ("site-builder manifest 1", tuple(sys.version_info[:2]))


class UnsafePath(ValueError):
    pass


def staging_dir(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.staging-{os.getpid()}"


def safe_join(root: Path, rel: str) -> Path:
    """root/rel, refusing anything that could land outside root."""
    check_path(rel)
    return root.joinpath(*rel.split("/"))


def check_path(rel: str) -> None:
    if (not rel or "\x00" in rel or "\\" in rel or rel.startswith("/")
            or any(part in ("", ".", "..") for part in rel.split("/"))):
        raise UnsafePath(f"unsafe output path {rel!r}")


def _take_standby(state_dir: Path, output_dir: Path, previous: dict[str, list], cache: dict
                  ) -> tuple[Path, dict[str, list], folders.Record | None]:
    """The folder to stage in, what it holds (path -> [sha256, fingerprint]) and the
    record of its folders. `previous`: the files of output/, as the manifest says."""
    standby = state_dir / STANDBY
    files, record = standby_files(state_dir, previous, cache) or (None, None)
    # From here on the standby is being changed: a build killed now leaves it unusable.
    (state_dir / STANDBY_MANIFEST).unlink(missing_ok=True)
    if files is not None and _same_device(standby, output_dir.parent):
        return standby, files, record
    shutil.rmtree(standby, ignore_errors=True)
    stage = standby if _same_device(state_dir, output_dir.parent) else staging_dir(output_dir)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage, {}, (0, {})


def keep_as_standby(old_tree: Path | None, record: folders.Record | None, state_dir: Path,
                     files: dict[str, list], cache: dict, over: dict[str, list] | None = None) -> None:
    """Keep `old_tree` (holding `files`, its folders as `record` says) as the standby, and
    describe it (see describe_standby)."""
    standby = state_dir / STANDBY
    if old_tree is None:
        return
    if old_tree != standby:
        try:
            os.rename(old_tree, standby)
        except OSError:  # another file system: no standby, the next build stages afresh
            shutil.rmtree(old_tree, ignore_errors=True)
            return
    describe_standby(state_dir, files, record, cache, over)


def describe_standby(state_dir: Path, files: dict[str, list], record: folders.Record | None, cache: dict,
                      over: dict[str, list] | None = None) -> None:
    """Write the standby's manifest: its files, or when they are mostly those of `over`
    (the output's manifest, just written: the standby is the output before it) only how
    they differ from it, with that file's identity. Read back as the output's manifest
    plus a few entries (0.08 s less than a second manifest of 61,000 files at 10k)."""
    data = {"inode": (state_dir / STANDBY).stat().st_ino, "folders": record}
    known = cache.get(state_dir / MANIFEST)
    if over is not None and known is not None and known[1].get("files") is over:
        data.update(base=known[0], delta=_delta(files, over))
    else:
        data["files"] = files
    _write_state(state_dir / STANDBY_MANIFEST, data, cache)


def standby_files(state_dir: Path, previous: dict[str, list], cache: dict
                   ) -> tuple[dict[str, list], folders.Record | None] | None:
    """What the standby holds and the record of its folders, as its manifest says; None
    when it says nothing one can trust (missing, damaged, not of this very folder, or
    relative to a manifest other than the one `previous` was read from)."""
    try:
        data = read_state(state_dir / STANDBY_MANIFEST, cache)
        if data["inode"] != (state_dir / STANDBY).stat().st_ino:
            return None
        if "delta" not in data:
            return dict(data["files"]), data.get("folders")
        known = cache.get(state_dir / MANIFEST)
        if known is None or known[0] != data["base"] or known[1].get("files") is not previous:
            return None
        files = dict(previous)
        for rel, value in data["delta"].items():
            if value is None:
                files.pop(rel, None)
            else:
                files[rel] = value
        return files, data.get("folders")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _delta(files: dict[str, list], over: dict[str, list]) -> dict[str, list | None]:
    """How `files` differs from `over`: its entries that are not the same there, and None
    for what only `over` has."""
    delta: dict[str, list | None] = {rel: value for rel, value in files.items() if over.get(rel) != value}
    delta.update((rel, None) for rel in over.keys() - files.keys())
    return delta


def linked_copy(output_dir: Path, state_dir: Path, files: dict[str, list]
                 ) -> tuple[Path | None, folders.Record | None]:
    """The standby for a first output, and the record of its folders: its files
    hard-linked, so that the next build touches only what changes (without it, that build
    would stage the whole site)."""
    standby = state_dir / STANDBY
    if not _same_device(state_dir, output_dir.parent):
        return None, None
    shutil.rmtree(standby, ignore_errors=True)
    root, copy, made = os.fspath(output_dir) + "/", os.fspath(standby) + "/", set()
    try:
        for rel in files:
            folder = folders.folder_of(rel)
            if folder not in made:
                os.makedirs(copy + folder, exist_ok=True)
                made.update(_with_parents(folder))
            os.link(root + rel, copy + rel)
    except OSError:  # no hard links here: the next build stages afresh
        shutil.rmtree(standby, ignore_errors=True)
        return None, None
    return standby, folders.take(os.fspath(standby), sorted(made), {})


def _with_parents(folder: str) -> list[str]:
    """`folder` and the folders above it, up to the root ("")."""
    found = [folder]
    while folder:
        folder = folders.folder_of(folder)
        found.append(folder)
    return found


def _same_device(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


class Stage:
    """The folder a build stages in (the standby, or a fresh folder), what it holds
    (path -> [sha256, fingerprint]) and how many staged files differ from the output.
    Every path placed is taken out of `staged`; what is left there at the end is dropped."""

    def __init__(self, path: str, staged: dict[str, list], output: str, previous: dict[str, list],
                 record: folders.Record | None):
        self.path, self.staged, self.output, self.previous = path, staged, output, previous
        # What the stage lacks of `staged` (removed from the old output by hand), and its
        # folders as verified: the base of the new output's record (see record).
        self.lost, self._verified = folders.verify(self.path, staged, record)
        self.written = 0
        self.changed: list[str] = []  # paths whose bytes differ from the output's
        self._folders: set[str] = set()  # folders known to exist in the stage
        self._touched: set[str] = set()  # folders whose entries this build changed
        self._gone: set[str] = set()  # folders this build removed

    @classmethod
    def take(cls, state_dir: Path, output_dir: Path, previous: dict[str, list],
             manifest: dict[str, list], cache: dict) -> "Stage":
        """The stage, caught up with the pages found unchanged so far (`manifest`)."""
        path, staged, record = _take_standby(state_dir, output_dir, previous, cache)
        stage = cls(os.fspath(path), staged, os.fspath(output_dir), previous, record)
        for rel, (digest, _) in manifest.items():
            have = stage.staged.pop(rel, None)
            if not (have is not None and have[0] == digest and rel not in stage.lost):
                stage._link(rel) or stage._write(rel, stage._read_output(rel))
        return stage

    def record(self) -> folders.Record:
        """The record of the stage's folders, once staging is done (see folders)."""
        cut = len(self.path) + 1
        return folders.take(self.path, sorted(f[cut:] for f in self._touched),
                            self._verified, sorted(f[cut:] for f in self._gone))

    def reuse(self, page: Page, manifest: dict[str, list]) -> bool:
        """Place `page` without producing it, when its fingerprint shows that the stage or
        the output already holds its bytes."""
        rel, fingerprint = page.path, page.fingerprint
        if fingerprint is None:
            return False
        old_digest, old_fingerprint = self.previous.get(rel, (None, None))
        have = self.staged.get(rel)
        if (have is not None and (fingerprint == have[1] or (fingerprint == old_fingerprint and have[0] == old_digest))
                and rel not in self.lost):
            del self.staged[rel]
            manifest[rel] = [have[0], fingerprint]
            self._count(rel, have[0] != old_digest)
            return True
        if fingerprint == old_fingerprint and self._link(rel):
            self.staged.pop(rel, None)
            manifest[rel] = [old_digest, fingerprint]
            return True
        return False

    def carry(self, files: tuple[tuple[str, str], ...], manifest: dict[str, list]) -> bool:
        """Place files that are as the previous build left them (see write.Carried), from the
        stage or else the output; False, placing none, when the previous manifest does not
        have one with its fingerprint, or one is in neither (removed from output/ by hand)."""
        staged, previous, lost = self.staged, self.previous, self.lost
        missing = []  # the files the stage does not hold as they are in the output
        nothing = (None, None)
        for rel, fingerprint in files:
            old = previous.get(rel, nothing)
            if old[1] != fingerprint:
                return False
            have = staged.get(rel)
            if have is None or have[0] != old[0] or rel in lost:
                if not present(self.output + "/" + rel):
                    return False
                missing.append(rel)
        carry_over(files, previous, manifest)
        for rel, _ in files:
            staged.pop(rel, None)
        for rel in missing:
            self._link(rel) or self._write(rel, self._read_output(rel))
        return True

    def put(self, rel: str, data: bytes, fingerprint: str | None, manifest: dict[str, list]) -> None:
        digest = hashlib.sha256(data).hexdigest()
        old_digest = self.previous.get(rel, (None,))[0]
        have = self.staged.pop(rel, None)
        manifest[rel] = [digest, fingerprint]
        self._count(rel, digest != old_digest)
        if have is not None and have[0] == digest and rel not in self.lost:
            return
        if not (digest == old_digest and self._link(rel)):
            self._write(rel, data)

    def _count(self, rel: str, differs: bool) -> None:
        if differs:
            self.written += 1
            self.changed.append(rel)

    def drop_leftovers(self) -> None:
        """Remove what the stage held that the site no longer has, and emptied folders."""
        stage = Path(self.path)
        for rel in sorted(self.staged, reverse=True):
            path = safe_join(stage, rel)
            if path.is_file() or path.is_symlink():
                path.unlink()
                self._touched.add(os.fspath(path.parent))
            parent = path.parent
            while parent != stage:
                try:
                    parent.rmdir()  # only when empty
                except OSError:
                    break
                self._gone.add(os.fspath(parent))
                self._touched.add(os.fspath(parent.parent))
                parent = parent.parent

    def _link(self, rel: str) -> bool:
        """Hard-link the output's file at `rel` into the stage."""
        existing = self.output + "/" + rel
        if not os.path.isfile(existing):
            return False
        target = self._make_room(rel)
        try:
            os.link(existing, target)
            return True
        except OSError:
            return False

    def _write(self, rel: str, data: bytes) -> None:
        with open(self._make_room(rel), "xb") as file:
            file.write(data)

    def _read_output(self, rel: str) -> bytes:
        try:
            return read_bytes(self.output + "/" + rel)
        except FileNotFoundError:
            raise UnsafePath(f"{rel!r} is missing from {self.output} (removed by hand?): "
                             "remove that folder and build again") from None

    def _make_room(self, rel: str) -> str:
        """Clear the way for a new file at `rel` and return its path: remove what is there
        (a file, or a folder where the site now has a file) and any file where the site now
        has a folder. Files shared with the output are hard links: never written in place."""
        target = self.path + "/" + rel
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
            self._folders.clear()
            self._gone.add(target)
        elif os.path.lexists(target):
            os.unlink(target)
        folder = os.path.dirname(target)
        if folder not in self._folders:
            self._touched.update(self.path + ("/" + f if f else "") for f in _with_parents(rel.rpartition("/")[0]))
            parent = folder
            while parent != self.path and not os.path.isdir(parent):
                if os.path.lexists(parent):
                    os.unlink(parent)
                    break
                parent = os.path.dirname(parent)
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        return target


def carry_over(files: tuple[tuple[str, str], ...], previous: dict[str, list], manifest: dict[str, list]) -> None:
    """Put `files` in `manifest` as `previous` has them (see write.Carried)."""
    for rel, _ in files:
        if rel in manifest:
            raise UnsafePath(f"two files render to {rel!r}")
        manifest[rel] = previous[rel]


def present(path: str) -> bool:
    """Whether a file the manifest lists is still there (not removed by hand), for the few
    files looked for one by one (see folders.py for the rest). Existence is enough: a build
    never leaves a folder where its manifest has a file (os.access costs half of isfile)."""
    return os.access(path, os.F_OK)


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def read_ahead(state_dir: Path, cache: dict) -> None:
    """Read the manifests of the output and of the standby into `cache` (see write.write_site),
    for a build that has time now and will need them later."""
    for name in (MANIFEST, STANDBY_MANIFEST):
        try:
            read_state(state_dir / name, cache)
        except OSError:
            pass


def load_manifest(state_dir: Path, output_dir: Path, cache: dict) -> tuple[dict[str, list], folders.Record | None]:
    """The digests of the files in output_dir and the record of its folders, if the
    manifest describes this very folder (same inode): after a build killed between swap
    and save it does not, and all is rewritten."""
    try:
        data = read_state(state_dir / MANIFEST, cache)
        if data["inode"] == output_dir.stat().st_ino:
            return data["files"], data.get("folders")
    except (OSError, KeyError, TypeError, AttributeError):
        pass
    return {}, None


def save_manifest(state_dir: Path, output_dir: Path, manifest: dict[str, list], cache: dict,
                   record: folders.Record | None) -> None:
    _write_state(state_dir / MANIFEST, {"inode": output_dir.stat().st_ino, "files": manifest, "folders": record},
                 cache)


def read_state(path: Path, cache: dict):
    """A manifest as the build stored it (see _STATE_TAG; the state dir is the build's own,
    never published). `cache` holds what this process read or wrote, by path, with the
    file's identity: taken while the file is still that one. Manifests are never changed
    in place (a build makes new dicts). One written by a version that used pickle (the
    same name, ending .pickle) is read once, so that upgrading does not rewrite output/."""
    try:
        file = open(path, "rb")
    except FileNotFoundError:
        return _read_pickled(path.with_suffix(".pickle"))
    with file:
        identity, known = _identity(os.fstat(file.fileno())), cache.get(path)
        if known is not None and known[0] == identity:
            return known[1]
        try:
            tag, data = marshal.loads(file.read())
        except (EOFError, ValueError, TypeError) as exc:
            raise OSError(f"unreadable {path.name}") from exc
        if tag != _STATE_TAG:
            raise OSError(f"{path.name} is from another version")
    cache[path] = (identity, data)
    return data


def _read_pickled(path: Path):
    data = load_pickle(path)  # None: missing or damaged
    if data is None:
        raise OSError(f"no readable {path.name}")
    return data


def _write_state(path: Path, data, cache: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        file.write(marshal.dumps((_STATE_TAG, data)))
        file.flush()
        identity = _identity(os.fstat(file.fileno()))
    os.replace(tmp, path)
    path.with_suffix(".pickle").unlink(missing_ok=True)  # what an earlier version wrote (see read_state)
    cache[path] = (identity, data)


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
