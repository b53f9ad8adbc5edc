"""Pickles a build keeps for the next one in its state dir (never published): written
atomically, and read as missing when absent, damaged or from another version of the
code, so a bad state file costs a slower build, never a wrong one."""
from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


# The collector's thresholds during a build (see build._fewer_collections); a parser
# process started before the build sets them for itself and its helpers.
GC_THRESHOLDS = (50_000, 20, 20)


def state_dir(output_dir: Path) -> Path:
    """Where a build keeps what is not published: caches, manifest, Whoosh index."""
    output_dir = Path(output_dir).absolute()
    return output_dir.parent / ".site-cache" / output_dir.name


def load_pickle(path: Path, skip: int = 0):
    """The value stored at `path` (after the first `skip` values stored with it), or None."""
    try:
        with open(path, "rb") as handle:
            for _ in range(skip):
                pickle.load(handle)
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
            ValueError, IndexError, MemoryError):
        return None


def store_pickle(path: Path, value, *more) -> None:
    """Store `value` (then each of `more`, read with load_pickle's `skip`) at `path`: a
    reader sees the old file or the new one, never a part."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        handle = open(tmp, "wb")
    except FileNotFoundError:  # the folder is made when first needed, not checked each time
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(tmp, "wb")
    with handle:
        for item in (value, *more):
            pickle.dump(item, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


@contextmanager
def kept_to_the_end() -> Iterator[None]:
    """Around the reading of state that a build keeps to its end (the parse and render
    memos, the manifests): the cyclic collector is held off while it is read, and what was
    read is then frozen (gc.freeze), so that no later collection walks it again. None of it
    is garbage (plain trees of values), yet a one-report rebuild at 10,000 reports spent
    0.1 s in collections it set off, which found nothing. No process may be forked inside
    (it would start with the collector off); build() unfreezes at its end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
