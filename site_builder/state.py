"""Pickles a build keeps for the next one in its state dir (never published): written
atomically, and read as missing when absent, damaged or from another version of the
code, so a bad state file costs a slower build, never a wrong one."""
from __future__ import annotations

import os
import pickle
from pathlib import Path


def load_pickle(path: Path):
    """The value stored at `path`, or None."""
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError,
            ValueError, IndexError, MemoryError):
        return None


def store_pickle(path: Path, value) -> None:
    """Store `value` at `path`: a reader sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
