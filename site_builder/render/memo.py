"""What rendering remembers between builds (see RenderMemo): kept in memory by a process
that builds again and again (the preview server), in the state dir by the command line."""
from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..model import Entry, entry_inputs
from ..state import load_pickle, store_pickle


TOKEN_CHARS = 32  # the length of every token


def inputs_token(inputs: tuple) -> str:
    """A short digest standing for an entry's inputs (see model.entry_inputs) in the inputs
    of the pages that list it: cheap to compare and to store, however much the entry holds
    (storing the inputs themselves made the memo of 4,000 listing pages 0.2 s to write)."""
    return hashlib.sha256(repr(inputs).encode("utf-8")).hexdigest()[:TOKEN_CHARS]


MEMO_FORMAT = "render-memo 5"
# Each table of the memo is stored in this many files, by a hash of its keys: an edit
# rewrites the few parts it changed, not the whole memo (30 MB at 10,000 reports).
MEMO_PARTS = 32
# The data files' lines are remembered in chunks of about this many entries (see chunks).
CHUNK = 256


@dataclass
class RenderMemo:
    """What rendering remembers between builds: kept in memory by a process that builds
    again and again (the preview server), in the state dir by the command line. Every
    entry is keyed by all its value is made from, so none is ever stale: at worst it is
    not used. It holds the current site's pages only (see forget_others)."""

    fingerprints: dict = field(default_factory=dict)  # url -> (design version, inputs, fingerprint); not reports'
    reports: dict = field(default_factory=dict)  # entry id -> (design version, inputs, ((path, fingerprint), ...))
    tokens: dict = field(default_factory=dict)  # entry id -> (entry inputs, token): see token
    # chunk key -> (design version, {data file kind: (its entries' tokens, their lines)}): see chunks
    lines: dict = field(default_factory=dict)
    dirty: set = field(default_factory=set)  # (table, part) changed since loaded or stored
    loaded: bool = False
    saved: bool = False  # stored (or found unchanged) at least once since loaded

    TABLES = ("fingerprints", "reports", "tokens", "lines")

    def load(self, folder: Path) -> None:
        """Take the memo stored in `folder`, if any (once: a memo in use is never replaced).
        A part that is missing, damaged or of another format is empty: its pages are
        fingerprinted again, and it is stored again (else one of an earlier version would
        be read, and ignored, on every build until an edit happened to touch it)."""
        if self.loaded:
            return
        self.loaded = True
        for name in self.TABLES:
            table = getattr(self, name)
            for n in range(MEMO_PARTS):
                stored = load_pickle(_memo_part_path(folder, name, n))
                if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == MEMO_FORMAT:
                    table.update(stored[1])
                else:
                    self.dirty.add((name, n))

    def save(self, folder: Path) -> None:
        """Store the parts of the memo that changed in `folder`."""
        for name in self.TABLES:
            wanted = {n for table, n in self.dirty if table == name}
            if wanted:
                parts: dict[int, dict] = {n: {} for n in wanted}
                for key, value in getattr(self, name).items():
                    part = parts.get(_memo_part(key))
                    if part is not None:
                        part[key] = value
                for n, part in sorted(parts.items()):
                    store_pickle(_memo_part_path(folder, name, n), (MEMO_FORMAT, part))
        self.dirty.clear()
        self.saved = True

    def put(self, name: str, key: str, value) -> None:
        getattr(self, name)[key] = value
        self.dirty.add((name, _memo_part(key)))

    def token(self, entry: Entry) -> str:
        """The entry's token (see inputs_token), the one stored while its inputs are the same."""
        inputs = entry_inputs(entry)
        hit = self.tokens.get(entry.id)
        if hit is not None and hit[0] == inputs:
            return hit[1]
        token = inputs_token(inputs)
        self.put("tokens", entry.id, (inputs, token))
        return token

    def data_lines(self, kind: str, version: str, layout: list[tuple[str, int, str]], entries,
                   make: Callable[[Entry], bytes]) -> list[bytes]:
        """Each entry's line of a data file, chunk by chunk of `layout` (see chunks): a chunk
        whose entries (their tokens) and design version are as they were is taken whole;
        in another, only the entries whose tokens are new are made again. Per chunk, not
        per entry: 10,000 entries' lines read back as 40 tuples of bytes."""
        lines: list[bytes] = []
        for key, start, tokens in layout:
            hit = self.lines.get(key)
            kinds = hit[1] if hit is not None and hit[0] == version else {}
            known = kinds.get(kind)
            if known is not None and known[0] == tokens:
                lines += known[1]
                continue
            old = dict(zip(_split_tokens(known[0]), known[1])) if known is not None else {}
            made = tuple(old.get(tokens[i:i + TOKEN_CHARS]) or make(entries[start + n])
                         for n, i in enumerate(range(0, len(tokens), TOKEN_CHARS)))
            self.put("lines", key, (version, {**kinds, kind: (tokens, made)}))
            lines += made
        return lines

    def forget_others(self, urls: set[str], ids: set[str], chunks: set[str] | None) -> None:
        """Drop what is not of these pages, reports and chunks (gone from the site); the
        chunks are left as they are when None (the data files were not made)."""
        for name, keep in (("fingerprints", urls), ("reports", ids), ("tokens", ids), ("lines", chunks)):
            if keep is None:
                continue
            table = getattr(self, name)
            for key in table.keys() - keep:
                del table[key]
                self.dirty.add((name, _memo_part(key)))


def chunks(ids: list[str], tokens: list[str]) -> list[tuple[str, int, str]]:
    """The site's entries (their `ids`, in order, and tokens) cut into chunks of about
    CHUNK: (key, index of its first entry, the chunk's tokens end to end). A chunk starts at each entry
    whose id hashes to 0 modulo CHUNK and is keyed by that id (the first by "" when its
    first entry is no such one), so the cut depends on the ids alone: adding or removing
    a report changes its own chunk only."""
    starts = [i for i, name in enumerate(ids) if zlib.crc32(name.encode("utf-8")) % CHUNK == 0]
    keys = [ids[i] for i in starts]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
        keys.insert(0, "")
    ends = starts[1:] + [len(ids)]
    return [(key, start, "".join(tokens[start:end])) for key, start, end in zip(keys, starts, ends) if end > start]


def _split_tokens(joined: str) -> list[str]:
    return [joined[i:i + TOKEN_CHARS] for i in range(0, len(joined), TOKEN_CHARS)]


def _memo_part(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % MEMO_PARTS


def _memo_part_path(folder: Path, table: str, n: int) -> Path:
    return folder / f"{table}-{n:02x}.pickle"
