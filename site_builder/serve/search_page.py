"""The server search of the preview: Whoosh queried through searchers lent one per query,
and the results page (search_results.html) in the site's look, without JavaScript."""
from __future__ import annotations

import functools
import threading
import weakref
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from ..config import SiteConfig
from ..search import whoosh_index
from ..search.query import clean_query
from ..state import StateError, private_folder

SEARCHERS = 4  # Whoosh searchers at most, one per query running
PAGE_SIZE = 10
MAX_PAGE = 1000
FILTER_FIELDS = (("year", "年度", "全部年度"), ("place", "地区或部门", "全部地区"), ("level", "层级", "全部层级"))


class SearchUnavailable(Exception):
    """No search can be run now: `reason` says why, for the page."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Searchers:
    """Whoosh searchers lent to requests. A searcher serves one query at a time, so each
    query borrows its own (at most SEARCHERS run at once), refreshed to the newest index."""

    def __init__(self, index_dir: Path, size: int = SEARCHERS):
        self.index_dir = index_dir
        self._idle: list = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._values = weakref.WeakKeyDictionary()  # a cache: each index version's filter values

    @contextmanager
    def lend(self):
        with self._slots:
            with self._lock:
                searcher = self._idle.pop() if self._idle else None
            try:
                searcher = searcher.refresh() if searcher is not None else self._open()
            except SearchUnavailable:
                raise
            except Exception as exc:  # an index being replaced, or damaged: try afresh next time
                if searcher is not None:
                    searcher.close()
                raise SearchUnavailable(f"检索索引无法读取（the search index cannot be read: {exc!r}）") from None
            try:
                yield searcher
            except BaseException:
                searcher.close()
                raise
            with self._lock:
                self._idle.append(searcher)

    def filter_values(self, searcher) -> dict[str, list[str]]:
        """The values each filter can take, once per version of the index (a reader reads
        one; refreshing a searcher gives it a new one): a field may hold 40,000 places."""
        version = searcher.reader()  # a refreshed searcher has a new reader
        with self._lock:
            values = self._values.get(version)
        if values is None:
            values = {name: searcher.filter_values(name) for name, _, _ in FILTER_FIELDS}
            with self._lock:
                self._values[version] = values
        return values

    def _open(self):
        # Whoosh's files hold pickles: read them only from a state folder that is this
        # user's own, as the build checks before it writes there.
        try:
            private_folder(self.index_dir.parent)
        except StateError as exc:
            raise SearchUnavailable(exc.message) from None
        try:
            return whoosh_index.open_searcher(self.index_dir)
        except Exception:
            raise SearchUnavailable("还没有检索索引，请先完成一次构建（no search index yet: "
                                    "a build that succeeds makes it）") from None


def _params(query_string: str) -> dict[str, str]:
    # More than 50 fields is never a real search: the rest is ignored (parse_qs would raise).
    parsed = parse_qs("&".join(query_string.split("&")[:50]), keep_blank_values=True, errors="replace")
    return {k: v[0] for k, v in parsed.items() if v}


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(str(value).strip())))
    except (TypeError, ValueError):
        return default


def search_page(searcher, filter_values: dict[str, list[str]], config: SiteConfig, address: str,
                query_string: str) -> bytes:
    """The results page for `query_string`, at `address` (a path outside the site), as HTML."""
    params = _params(query_string)
    query = clean_query(params.get("q", "")).strip()
    filters = {name: params.get(name, "").strip()[:50] for name, _, _ in FILTER_FIELDS}
    part = _int(params.get("part"), 0, 0, 5) or None
    page = _int(params.get("page"), 1, 1, MAX_PAGE)

    def results_of(page: int):
        return whoosh_index.search(searcher, query, filters=filters, part=part, limit=PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE, facets=True)

    results = results_of(page)
    pages = max(1, -(-results.total // PAGE_SIZE))
    if page > pages and results.total:  # past the end: the last page
        page = pages
        results = results_of(page)
    base = {"q": query, **{k: v for k, v in filters.items() if v}}
    if part:
        base["part"] = str(part)

    def page_link(n: int) -> str:
        return "?" + urlencode({**base, **({"page": n} if n > 1 else {})})

    def facet_link(name: str, value: str) -> str:
        return "?" + urlencode({k: v for k, v in {**base, name: value}.items() if v})

    page_html = _theme(config.theme).get_template("search_results.html").render(
        config=config, root="../" + quote(config.root.lstrip("/")), page_url=address.lstrip("/"),
        action=address, query=query, searchable=bool(results.clauses), total=results.total, hits=results.hits,
        first=(page - 1) * PAGE_SIZE + 1, page=page, pages=pages,
        page_numbers=list(range(max(1, page - 4), min(pages, page + 4) + 1)),
        page_link=page_link, facet_link=facet_link, part=part,
        filters=filters, facets=results.facets, filter_fields=FILTER_FIELDS,
        filter_values=filter_values,
    )
    return page_html.encode("utf-8")


@functools.cache
def _theme(folder: str):
    """The theme's Jinja environment (the site's own theme folder first), made for the
    first search."""
    from ..render.pages import make_environment

    return make_environment(folder)


