"""The Whoosh index of a build: written from the model (never from HTML), kept outside the
published output, updated incrementally, and searched by `site-builder search` and the
server search.

A document is one report. Its keys are those of the static index (search/analysis.py):
field `keys` holds the doc-level ones (CHAR, WORD, PAIR; a posting's weight is the key's
weight code | in the title << 4 | its mandated parts << 5), field `triples` the
positional ones (a posting's value: its occurrences, encoded as in static_format.py).
Searching is search/engine.py over these postings: the same matches and the same order
as the static search, with the same ranking (search/ranking.py).

`search` is safe to call from many threads at once: each thread has its own searcher of
an index folder (refreshed when a build commits), and results are kept per query.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, FieldType, Schema
from whoosh.formats import Format, Frequency

from . import engine
from .analysis import searchable_lines
from .query import Clause, Parsed, original_script, parse, snippet
from .documents import fingerprint
from .whoosh_segments import DOC_FIELD, POS_FIELD, KeySource
from ..model import Entry, Report

FILTER_FIELDS = ("year", "place", "level", "region")
FACET_FIELDS = ("year", "place", "level", "region")
PART_NUMBERS = (1, 2, 3, 4, 5)
CACHE_QUERIES = 256  # results kept per searcher


def report_url(entry_id: str) -> str:
    from ..site import urls

    return urls.report(entry_id)


# --- schema --------------------------------------------------------------------------------

class Occurrences(Format):
    """A positional key's postings: the value is its occurrences in the report, encoded
    as in a static positional record (varint(count), then (line, region) and offset
    varints), the weight the report's length class. Written and read by whoosh_segments
    only."""

    def __init__(self, field_boost: float = 1.0):
        self.field_boost = field_boost

    def word_values(self, value, analyzer, **kwargs):
        raise NotImplementedError("written by whoosh_segments only")

    def decode_frequency(self, valuestring):
        from .static_format import Reader

        return Reader(valuestring).varint()

    def decode_weight(self, valuestring):
        return float(self.decode_frequency(valuestring))


class KeysField(FieldType):
    """A field whose postings whoosh_segments writes from search/analysis.py's arrays."""

    def __init__(self, format_: Format):
        self.format = format_
        self.vector = None
        self.scorable = False
        self.stored = False
        self.unique = False
        self.analyzer = None
        self.column_type = None

    def index(self, value, **kwargs):
        raise NotImplementedError("written by whoosh_segments only")


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        fingerprint=ID(stored=True, sortable=True),
        number=ID(stored=True, sortable=True),  # the static index's number: the last sort key
        place=ID(stored=True, sortable=True),
        level=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        region=ID(stored=True, sortable=True),
        published=ID(stored=True),
        title=STORED,
        text=STORED,
        script=STORED,
        t2s=STORED,  # [[after, before], ...]: the lines the cleaner made simplified
        url=STORED,
        **{DOC_FIELD: KeysField(Frequency()), POS_FIELD: KeysField(Occurrences())},
    )


# --- what is indexed -----------------------------------------------------------------------

def searchable_text(report: Report) -> str:
    """What a search looks in: the title, then the cleaned body."""
    return "\n".join(searchable_lines(report))


def stamp(entry: Entry, number: int) -> str:
    """What a document is made from: its report (documents.fingerprint) and its number."""
    return f"{fingerprint(entry)} {number}"


def document(entry: Entry, r: Report, number: int) -> dict:
    """The stored and column fields of one report (its keys are written from
    search/analysis.py by whoosh_segments)."""
    return dict(
        id=entry.id,
        fingerprint=stamp(entry, number),
        number=str(number),
        place=r.place or "",
        level=r.level or "",
        year=str(r.year) if r.year is not None else "",
        region=r.region or "",
        published=r.published or "",
        title=r.title,
        text=r.text,
        script=r.script,
        t2s=[[c.after, c.before] for c in r.changes if c.kind == "t2s"],
        url=report_url(entry.id),
    )


def open_index(index_dir: Path):
    """Open an existing index for searching (raises if there is none)."""
    return whoosh_index.open_dir(str(index_dir))


# --- searching -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    url: str
    title: str
    place: str
    level: str
    year: str
    published: str
    score: float  # the second sort key (ranking.score); `titles` is the first
    snippet: tuple[tuple[str, bool], ...]  # (text, highlighted) pieces of the text
    title_snippet: tuple[tuple[str, bool], ...] = ()  # the title, its matches highlighted
    titles: int = 0  # clauses found in the title
    region: str = ""
    script: str = "simplified"  # the script the snippet shows: "original" (traditional) or "simplified"
    original_script: str = "simplified"  # the report's original: "simplified" or "traditional"
    marks: tuple[str, ...] = ()  # the query's clauses as the report page marks them (?hl=)

    def snippet_html(self) -> str:
        return _pieces_html(self.snippet)

    def title_html(self) -> str:
        return _pieces_html(self.title_snippet) if self.title_snippet else _pieces_html(((self.title, False),))

    def snippet_text(self) -> str:
        return "".join(f"【{t}】" if m else t for t, m in self.snippet)


def _pieces_html(pieces) -> str:
    from markupsafe import escape

    return "".join(f"<mark>{escape(t)}</mark>" if m else str(escape(t)) for t, m in pieces)


@dataclass(frozen=True, slots=True)
class Results:
    query: str
    clauses: tuple[Clause, ...]
    total: int
    hits: tuple[Hit, ...]  # the requested page
    facets: dict = field(default_factory=dict)  # field -> ((value, count), ...), most first
    dropped: tuple[str, ...] = ()  # query terms beyond MAX_QUERY_TERMS, left out


def open_searcher(index_dir_or_ix):
    """A Searcher for one thread (see `search`); `searcher.refresh()` picks up a newer build."""
    ix = index_dir_or_ix if hasattr(index_dir_or_ix, "searcher") else open_index(Path(index_dir_or_ix))
    return _Searcher(ix)


def search(target, query: str, *, filters: dict | None = None, part: int | None = None,
           limit: int | None = 10, offset: int = 0, facets: bool = False) -> Results:
    """Search `target` (an index folder, an index, or a searcher from open_searcher);
    every clause of the query must match (inside mandated part `part` when given).
    Never raises on odd input: a query with nothing searchable finds nothing. An index
    folder is searched with this thread's own searcher, kept between calls."""
    parsed = parse(query)
    if part is not None and part not in PART_NUMBERS:
        part = None
    if not parsed.clauses:
        return Results(query, (), 0, (), {}, parsed.dropped)
    if isinstance(target, _Searcher):
        return target.search(query, parsed, filters or {}, part, limit, offset, facets)
    if hasattr(target, "searcher"):  # an Index
        return _Searcher(target).search(query, parsed, filters or {}, part, limit, offset, facets)
    return _thread_searcher(Path(target)).search(query, parsed, filters or {}, part, limit, offset, facets)


def filter_values(index_dir: Path, name: str) -> list[str]:
    """The values filter field `name` takes in the index in `index_dir` (see _Searcher)."""
    return _thread_searcher(index_dir).filter_values(name)


_local = threading.local()


def _thread_searcher(index_dir: Path) -> "_Searcher":
    """This thread's searcher of `index_dir`, refreshed when the index has a newer commit."""
    held = getattr(_local, "searchers", None)
    if held is None:
        held = _local.searchers = {}
    key = str(index_dir.resolve())
    searcher = held.get(key)
    if searcher is None:
        searcher = held[key] = _Searcher(open_index(index_dir))
    else:
        searcher.refresh()
    return searcher


class _Searcher:
    """A Whoosh searcher, the index's columns as arrays, and the results of recent
    queries. One thread's: Whoosh searchers are not shared between threads."""

    def __init__(self, ix):
        self.ix = ix
        self._open()

    def _open(self) -> None:
        self.searcher = self.ix.searcher()
        self.source = KeySource(self.searcher.reader())
        self.columns = self.source.columns(("number", *FACET_FIELDS))
        self.cache: OrderedDict = OrderedDict()

    def refresh(self) -> "_Searcher":
        if not self.searcher.up_to_date():
            self.searcher.close()
            self.ix = open_index(Path(self.ix.storage.folder))
            self._open()
        return self

    def filter_values(self, name: str) -> list[str]:
        """The values filter field `name` takes in the index's live documents, sorted (the
        newest year first). The filter fields are columns, not terms (whoosh_segments.py)."""
        values: set = set()
        for leaf, _ in self.source.leaves:
            column = leaf.column_reader(name)
            values.update(column[docnum] for docnum in leaf.all_doc_ids())
        names = {v.decode("utf-8") if isinstance(v, bytes) else v for v in values}
        return sorted((v for v in names if v), reverse=(name == "year"))

    def close(self) -> None:
        self.searcher.close()

    def reader(self):
        return self.searcher.reader()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def search(self, query: str, parsed: Parsed, filters: dict, part: int | None, limit: int | None,
               offset: int, facets: bool) -> Results:
        key = (parsed.clauses, tuple(sorted((k, str(v)) for k, v in filters.items() if v)), part)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._match(parsed.clauses, filters, part)
            if len(self.cache) > CACHE_QUERIES:
                self.cache.popitem(last=False)
        else:
            self.cache.move_to_end(key)
        docs, titles, score, tie = found
        count = len(docs) - offset if limit is None else min(limit, len(docs) - offset)
        page = engine.best(titles, score, tie, offset + max(count, 0))[offset:] if count > 0 else []
        hits = tuple(self._hit(int(docs[i]), float(score[i]), int(titles[i]), parsed.clauses) for i in page)
        counts = self._facets(key, docs) if facets else {}
        return Results(query, parsed.clauses, len(docs), hits, counts, parsed.dropped)

    def _match(self, clauses, filters: dict, part: int | None):
        found = engine.search(self.source, clauses)
        docs = found.numbers
        keep = np.ones(len(docs), dtype=bool)
        for name in FILTER_FIELDS:
            value = filters.get(name)
            if value not in (None, ""):
                keep &= self.columns[name][docs] == str(value)
        if part is not None:
            for masks in found.parts:
                keep &= (masks >> (part - 1)) & 1 == 1
        tie = -self.columns["number"][docs].astype(np.int64)  # the highest number first (ranking.py)
        return docs[keep], found.titles[keep], found.score[keep], tie[keep]

    def _facets(self, key, docs: np.ndarray) -> dict:
        out = {}
        for name in FACET_FIELDS:
            values, counts = np.unique(self.columns[name][docs], return_counts=True)
            pairs = [(str(v), int(c)) for v, c in zip(values.tolist(), counts.tolist()) if v]
            out[name] = tuple(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
        return out

    def _hit(self, docnum: int, score: float, titles: int, clauses) -> Hit:
        f = self.searcher.stored_fields(docnum)
        text, original = original_script(f["text"], f.get("script", "simplified"), _T2S(f.get("t2s", ())))
        return Hit(
            id=f["id"], url=f["url"], title=f["title"], place=f["place"], level=f["level"], year=f["year"],
            published=f["published"], score=round(score, 6), snippet=tuple(snippet(text, clauses)),
            title_snippet=tuple(snippet(f["title"], clauses, whole=True)), titles=titles, region=f.get("region", ""),
            script="original" if original else "simplified", original_script=f.get("script", "simplified"),
            marks=tuple(c.text for c in clauses))


class _Change:
    __slots__ = ("kind", "after", "before")

    def __init__(self, after: str, before: str):
        self.kind, self.after, self.before = "t2s", after, before


def _T2S(pairs) -> list[_Change]:
    return [_Change(after, before) for after, before in pairs]
