"""The Whoosh index of a build: written from the model (never from HTML), kept outside the
published output, updated incrementally, and searched by the CLI and the WSGI app.

A document is one report. Matching uses the token stream of site_builder.tokenizer (every
query clause is a phrase of consecutive tokens, so a clause matches exactly the reports
that contain it); ranking is BM25F with a boost for the title and for segmenter words.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from . import tokenizer
from .model import Entry, Report, Site

SCHEMA_VERSION = "2"
FILTER_FIELDS = ("year", "place", "level")
PART_NUMBERS = (1, 2, 3, 4, 5)
TITLE_BOOST = 3.0
WORD_BOOST = 0.5


def report_url(entry_id: str) -> str:
    from . import urls

    return urls.report(entry_id)


# --- analysers (pickled into the index schema, so plain and stateless) --------------------

class _WordsTokenizer(Tokenizer):
    """Yields the words `words(value)` gives, at sequential positions; None is a gap that
    takes a position and yields nothing."""

    def __eq__(self, other):
        return other.__class__ is self.__class__

    def words(self, value: str):
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text in enumerate(self.words(value)):
            if text is None:
                continue
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token


class StreamTokenizer(_WordsTokenizer):
    """The tokenizer stream of a text."""

    def words(self, value: str):
        return tokenizer.stream(tokenizer.normalize(value))


class SpaceTokenizer(_WordsTokenizer):
    """Tokens already computed by site_builder.tokenizer, separated by spaces."""

    def words(self, value: str):
        return value.split()


def make_schema() -> Schema:
    stream = StreamTokenizer()
    fields = dict(
        id=ID(stored=True, unique=True, sortable=True),
        fingerprint=ID(stored=True),
        title=TEXT(analyzer=stream, phrase=True, stored=True, field_boost=TITLE_BOOST),
        content=TEXT(analyzer=stream, phrase=True),
        chars=TEXT(analyzer=SpaceTokenizer(), phrase=False),
        words=TEXT(analyzer=SpaceTokenizer(), phrase=False, field_boost=WORD_BOOST),
        place=ID(stored=True, sortable=True),
        level=ID(stored=True, sortable=True),
        year=ID(stored=True, sortable=True),
        published=ID(stored=True, sortable=True),
        parts=KEYWORD(stored=True, commas=True),
        text=STORED,
        part_texts=STORED,  # {part number: text}: a --part search filters matches on them
        url=STORED,
    )
    return Schema(**fields)


# --- what is indexed ---------------------------------------------------------------------

def searchable_text(report: Report) -> str:
    """What a search looks in: the title, then the cleaned body."""
    return report.title + "\n" + report.text


def part_texts(report: Report) -> dict[int, str]:
    """The text of each mandated part; subsections belong to the part above them."""
    texts: dict[int, list[str]] = {}
    current = None
    for section in report.sections:
        if section.level == 1 or section.part is not None:
            current = section.part
        if current is not None:
            texts.setdefault(current, []).extend([section.heading, section.text])
    return {n: "\n".join(t) for n, t in texts.items()}


ReportOf = Callable[[str], Report]  # Summary.key -> the full Report (from the parse cache)


def full_report(entry: Entry, report_of: ReportOf | None) -> Report:
    """The Report behind an entry: entries built in tests may hold the Report itself."""
    if isinstance(entry.report, Report):
        return entry.report
    if report_of is None:
        raise ValueError("a Site of summaries needs report_of to read the full reports")
    return report_of(entry.report.key)


def fingerprint(entry: Entry) -> str:
    """Changes whenever anything indexed about the entry may have changed. A Summary's
    parse-cache key covers the file, its sidecar and the parser version; a bare Report
    is hashed whole."""
    r = entry.report
    content = getattr(r, "key", None)
    if content is None:
        content = hashlib.sha256(json.dumps(
            [r.sha256, r.text, [[s.heading, s.level, s.part, s.text] for s in r.sections]],
            ensure_ascii=False).encode("utf-8")).hexdigest()
    data = [SCHEMA_VERSION, tokenizer.TOKENIZER_VERSION, entry.id, content, r.title,
            r.place, r.level, r.year, r.published]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


def _document(entry: Entry, r: Report, segmenter: tokenizer.Segmenter) -> dict:
    text = searchable_text(r)
    normalized = tokenizer.normalize(text)
    parts = part_texts(r)
    doc = dict(
        id=entry.id,
        fingerprint=fingerprint(entry),
        title=r.title,
        content=text,
        chars=" ".join(tokenizer.han_chars(normalized)),
        words=" ".join(segmenter.words(normalized)),
        place=r.place or "",
        level=r.level or "",
        year=str(r.year) if r.year is not None else "",
        published=r.published or "",
        parts=",".join(str(n) for n in sorted(parts)),
        text=r.text,
        part_texts=parts,
        url=report_url(entry.id),
    )
    return doc


def domain_words(site: Site) -> tuple[str, ...]:
    names = {p.name for p in site.places} | {e.report.place for e in site.entries if e.report.place}
    return tuple(sorted(n for n in names if n))


# --- building ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class IndexStats:
    added: int
    updated: int
    deleted: int
    unchanged: int
    documents: int
    bytes: int  # size of the index folder


def open_index(index_dir: Path):
    """Open an existing index for searching (raises if there is none)."""
    return whoosh_index.open_dir(str(index_dir))


def update_index(site: Site, index_dir: Path, report_of: ReportOf | None = None) -> IndexStats:
    """Bring the index in `index_dir` in line with `site`: add new reports, replace changed
    ones, delete removed ones. A build with nothing changed opens no writer. Only the
    changed entries' full reports are read (through `report_of`)."""
    index_dir = Path(index_dir)
    ix = _open_or_create(index_dir)
    with ix.searcher() as searcher:
        stored = {f["id"]: f["fingerprint"] for f in searcher.all_stored_fields()}
    wanted = {e.id: e for e in site.entries}
    changed = [e for e in site.entries if stored.get(e.id) != fingerprint(e)]
    removed = sorted(set(stored) - set(wanted))
    added = sum(1 for e in changed if e.id not in stored)
    if changed or removed:
        segmenter = tokenizer.Segmenter(domain_words(site))
        writer = ix.writer(timeout=60.0)
        try:
            for entry_id in removed:
                writer.delete_by_term("id", entry_id)
            for entry in changed:
                writer.update_document(**_document(entry, full_report(entry, report_of), segmenter))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
    size = sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())
    return IndexStats(added, len(changed) - added, len(removed),
                      len(wanted) - len(changed), len(wanted), size)


def _open_or_create(index_dir: Path):
    """Open the index, or start a new one when it is missing, from another schema version
    or unreadable (a build killed at the wrong moment). A lock left by a killed build is
    an flock on a file, released by the kernel when that process died."""
    marker = index_dir / "site-builder-schema"
    if index_dir.exists():
        try:
            if marker.read_text(encoding="utf-8") == SCHEMA_VERSION:
                ix = whoosh_index.open_dir(str(index_dir))
                with ix.searcher() as searcher:
                    searcher.doc_count()
                return ix
        except Exception:  # noqa: BLE001 - any damage means: rebuild from the model
            pass
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    ix = whoosh_index.create_in(str(index_dir), make_schema())
    marker.write_text(SCHEMA_VERSION, encoding="utf-8")
    return ix


# --- searching ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    url: str
    title: str
    place: str
    level: str
    year: str
    published: str
    score: float
    snippet: tuple[tuple[str, bool], ...]  # (text, highlighted) pieces

    def snippet_html(self) -> str:
        from markupsafe import escape

        return "".join(f"<mark>{escape(t)}</mark>" if m else str(escape(t)) for t, m in self.snippet)

    def snippet_text(self) -> str:
        return "".join(f"【{t}】" if m else t for t, m in self.snippet)


@dataclass(frozen=True, slots=True)
class Results:
    query: str
    clauses: tuple[tokenizer.Clause, ...]
    total: int
    hits: tuple[Hit, ...]  # the requested page
    facets: dict = field(default_factory=dict)  # field -> ((value, count), ...)


def build_query(clauses: tuple[tokenizer.Clause, ...]):
    """The Whoosh query that must match, and the optional one that only ranks."""
    fieldname = "content"
    required = [_clause_query(fieldname, c) for c in clauses]
    rank = [_clause_query("title", c) for c in clauses if not c.char]
    segmenter_words = [w for c in clauses for w in _query_words(c)]
    rank += [Q.Term("words", w) for w in segmenter_words]
    must = Q.And(required) if len(required) > 1 else required[0]
    return Q.AndMaybe(must, Q.Or(rank)) if rank else must


def _query_words(clause: tokenizer.Clause) -> list[str]:
    # Query words come from the stream tokens (bigrams): the segmenter is not loaded
    # for a query; a word field hit on a bigram-sized word is a useful ranking signal.
    return sorted({t for t in clause.tokens if len(t) >= 2 and all(map(tokenizer.is_han, t))})


def _clause_query(fieldname: str, clause: tokenizer.Clause):
    if clause.char:
        if fieldname == "content":
            return Q.Term("chars", clause.tokens[0])
        return Q.Prefix(fieldname, clause.tokens[0])
    if len(clause.tokens) == 1:
        return Q.Term(fieldname, clause.tokens[0])
    return Q.Phrase(fieldname, list(clause.tokens), slop=1)


def _filter_query(filters: dict[str, str | None]):
    terms = [Q.Term(name, str(value)) for name, value in sorted(filters.items())
             if name in FILTER_FIELDS and value not in (None, "")]
    return Q.And(terms) if terms else None


def open_searcher(index_dir_or_ix):
    """A searcher to reuse across queries (opening one costs about half a second on a
    10,000-report index; `searcher.refresh()` picks up a newer build cheaply)."""
    ix = index_dir_or_ix if hasattr(index_dir_or_ix, "searcher") else open_index(Path(index_dir_or_ix))
    return ix.searcher(weighting=scoring.BM25F())


def search(target, query: str, *, filters: dict | None = None, part: int | None = None,
           limit: int | None = 10, offset: int = 0, facets: bool = False) -> Results:
    """Search `target` (an index folder, an index, or a searcher from open_searcher, which
    is left open); every clause of the query must match (inside mandated part `part` when
    given). Never raises on odd input: a query with nothing searchable finds nothing."""
    clauses = tokenizer.parse_query(query)
    if part is not None and part not in PART_NUMBERS:
        part = None
    if not clauses:
        return Results(query, clauses, 0, (), {})
    if hasattr(target, "search") and hasattr(target, "refresh"):  # a Searcher (an Index has no search)
        return _search(target, query, clauses, filters, part, limit, offset, facets)
    with open_searcher(target) as searcher:
        return _search(searcher, query, clauses, filters, part, limit, offset, facets)


def _search(searcher, query, clauses, filters, part, limit, offset, facets) -> Results:
    found = searcher.search(build_query(clauses), filter=_filter_query(filters or {}), limit=None)
    reader = searcher.reader()
    ids = reader.column_reader("id")
    ranked = sorted(((round(h.score, 6), h.docnum) for h in found), key=lambda sd: (-sd[0], ids[sd[1]]))
    if part is not None:
        # Parts are not indexed apart: a match in the report is kept when its text
        # (normalised) contains every clause inside that part.
        ranked = [(score, docnum) for score, docnum in ranked
                  if _in_part(searcher.stored_fields(docnum)["part_texts"].get(part, ""), clauses)]
    facet_counts = {}
    if facets:
        for name in FILTER_FIELDS:
            column = reader.column_reader(name)
            counts: dict[str, int] = {}
            for _, docnum in ranked:
                value = column[docnum]
                value = value.decode("utf-8") if isinstance(value, bytes) else value
                if value:
                    counts[value] = counts.get(value, 0) + 1
            facet_counts[name] = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    page = ranked[offset:] if limit is None else ranked[offset:offset + limit]
    hits = []
    for score, docnum in page:
        f = searcher.stored_fields(docnum)
        text = f["part_texts"].get(part, "") if part is not None else f["title"] + "\n" + f["text"]
        hits.append(Hit(
            id=f["id"], url=f["url"], title=f["title"], place=f["place"], level=f["level"],
            year=f["year"], published=f["published"], score=score,
            snippet=tuple(tokenizer.snippet(text, clauses)),
        ))
    return Results(query, clauses, len(ranked), tuple(hits), facet_counts)


def _in_part(text: str, clauses: tuple[tokenizer.Clause, ...]) -> bool:
    normalized = tokenizer.normalize(text)
    return all(tokenizer.contains(normalized, c) for c in clauses)
