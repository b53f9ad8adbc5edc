"""The Whoosh index of a build: written from the model (never from HTML), kept outside the
published output, updated incrementally, and searched by the CLI and the WSGI app.

A document is one report. Matching uses the token stream of site_builder.tokenizer (every
query clause is a phrase of consecutive tokens, so a clause matches exactly the reports
that contain it); ranking is BM25F with a boost for the title and for segmenter words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from .query import Clause, contains, parse_query, snippet
from ..text.chars import is_han
from ..text.normalize import normalize
from ..text.stream import stream, stream_codes
from .documents import fingerprint
from ..model import Entry, Report

FILTER_FIELDS = ("year", "place", "level")
PART_NUMBERS = (1, 2, 3, 4, 5)
TITLE_BOOST = 3.0
SHORT_TEXT = 400  # characters: see StreamTokenizer.codes
WORD_BOOST = 0.5


def report_url(entry_id: str) -> str:
    from ..site import urls

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
        return stream(normalize(value))

    def codes(self, value: str):
        """The same stream as numbers, for search_writer: stream_codes; for a
        short text (a title), where numpy's fixed costs outweigh the work, its tokens."""
        if len(value) < SHORT_TEXT:
            return self.words(value)
        return stream_codes(normalize(value))


class SpaceTokenizer(_WordsTokenizer):
    """Tokens already computed by site_builder.tokenizer, separated by spaces."""

    def words(self, value: str):
        return value.split()


def make_schema() -> Schema:
    stream = StreamTokenizer()
    fields = dict(
        id=ID(stored=True, unique=True, sortable=True),
        fingerprint=ID(stored=True, sortable=True),
        title=TEXT(analyzer=stream, phrase=True, stored=True, field_boost=TITLE_BOOST),
        content=TEXT(analyzer=stream, phrase=True),
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


def document(entry: Entry, r: Report) -> dict:
    """The Whoosh document of one report: its field values (its words segmented when it
    was parsed)."""
    parts = part_texts(r)
    doc = dict(
        id=entry.id,
        fingerprint=fingerprint(entry),
        title=r.title,
        content=searchable_text(r),
        words=r.words,
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


# --- opening -----------------------------------------------------------------------------

def open_index(index_dir: Path):
    """Open an existing index for searching (raises if there is none)."""
    return whoosh_index.open_dir(str(index_dir))


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
    clauses: tuple[Clause, ...]
    total: int
    hits: tuple[Hit, ...]  # the requested page
    facets: dict = field(default_factory=dict)  # field -> ((value, count), ...)


def build_query(clauses: tuple[Clause, ...]):
    """The Whoosh query that must match, and the optional one that only ranks."""
    fieldname = "content"
    required = [_clause_query(fieldname, c) for c in clauses]
    rank = [_clause_query("title", c) for c in clauses if not c.char]
    segmenter_words = [w for c in clauses for w in _query_words(c)]
    rank += [Q.Term("words", w) for w in segmenter_words]
    must = Q.And(required) if len(required) > 1 else required[0]
    return Q.AndMaybe(must, Q.Or(rank)) if rank else must


def _query_words(clause: Clause) -> list[str]:
    # Query words come from the stream tokens (bigrams): the segmenter is not loaded
    # for a query; a word field hit on a bigram-sized word is a useful ranking signal.
    return sorted({t for t in clause.tokens if len(t) >= 2 and all(map(is_han, t))})


def _clause_query(fieldname: str, clause: Clause):
    if clause.char:
        # Every Han character starts a token of the stream (a bigram, or the last
        # character of a run alone), so this finds exactly the texts holding it. Scored
        # as the sum of its terms: a constant score would depend on how many terms each
        # segment happens to hold.
        return Q.Prefix(fieldname, clause.tokens[0], constantscore=False)
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
    clauses = parse_query(query)
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
            snippet=tuple(snippet(text, clauses)),
        ))
    return Results(query, clauses, len(ranked), tuple(hits), facet_counts)


def _in_part(text: str, clauses: tuple[Clause, ...]) -> bool:
    normalized = normalize(text)
    return all(contains(normalized, c) for c in clauses)
