"""Pickles a build keeps for the next one in its state dir (never published): written
atomically, and read as missing when absent, damaged or from another version of the
code, so a bad state file costs a slower build, never a wrong one."""
from __future__ import annotations

import os
import pickle
from pathlib import Path


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
