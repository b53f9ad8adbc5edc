"""A WSGI application that serves a built site and answers ``search/?q=…`` from the Whoosh
index with a server-rendered page (facets, pagination, highlighted snippets; no
JavaScript). Runs under wsgiref or any WSGI server; the preview server mounts it.

    from site_builder.build import search_index_dir
    from site_builder.wsgi import make_app
    app = make_app(Path("output"), search_index_dir(Path("output")), config)
"""
from __future__ import annotations

import mimetypes
import posixpath
import threading
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from ..search import whoosh_index as search_index
from ..config import SiteConfig
from ..search.query import clean_query

PAGE_SIZE = 10
MAX_PAGE = 1000
FILTER_FIELDS = (("year", "年度", "全部年度"), ("place", "地区或部门", "全部地区"), ("level", "层级", "全部层级"))
SEARCH_PATH = "search/"
TYPES = {".js": "text/javascript", ".wasm": "application/wasm", ".css": "text/css",
         ".html": "text/html", ".json": "application/json", ".xml": "application/xml",
         ".txt": "text/plain", ".bin": "application/octet-stream"}


def make_app(output_dir: Path, index_dir: Path, config: SiteConfig | None = None, env=None):
    """The WSGI callable. Raises if the index cannot be opened (no build yet)."""
    output_dir = Path(output_dir).resolve()
    config = config or SiteConfig()
    ix = search_index.open_index(Path(index_dir))
    # One searcher for the app's life, refreshed per request (cheap when the index is
    # unchanged; a rebuild's new segments are picked up). Whoosh searchers are not
    # thread-safe, so requests search one at a time.
    held = {"searcher": search_index.open_searcher(ix)}
    lock = threading.Lock()
    if env is None:
        from ..render.pages import make_environment

        env = make_environment()
    template = env.get_template("search_results.html")

    def app(environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in ("GET", "HEAD"):
            return _respond(start_response, "405 Method Not Allowed", b"405 Method Not Allowed\n",
                            "text/plain; charset=utf-8", method, [("Allow", "GET, HEAD")])
        path = _path_info(environ)
        if path in ("search", SEARCH_PATH):
            if path == "search":
                return _redirect(start_response, environ, SEARCH_PATH)
            with lock:
                held["searcher"] = held["searcher"].refresh()
                body = _search_page(held["searcher"], template, config, environ.get("QUERY_STRING", ""))
            return _respond(start_response, "200 OK", body, "text/html; charset=utf-8", method,
                            [("Cache-Control", "no-store")])
        return _serve_file(start_response, environ, output_dir, path, method)

    return app


# --- search page ---------------------------------------------------------------------------

def _params(query_string: str) -> dict[str, str]:
    # More than 50 fields is never a real search: ignore the rest (parse_qs would raise).
    parsed = parse_qs("&".join(query_string.split("&")[:50]), keep_blank_values=True, errors="replace")
    return {k: v[0] for k, v in parsed.items() if v}


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(str(value).strip())))
    except (TypeError, ValueError):
        return default


def _search_page(searcher, template, config: SiteConfig, query_string: str) -> bytes:
    params = _params(query_string)
    query = clean_query(params.get("q", "")).strip()
    filters = {name: params.get(name, "").strip()[:50] for name, _, _ in FILTER_FIELDS}
    part = _int(params.get("part"), 0, 0, 5) or None
    page = _int(params.get("page"), 1, 1, MAX_PAGE)
    results = search_index.search(searcher, query, filters=filters, part=part, limit=PAGE_SIZE,
                                  offset=(page - 1) * PAGE_SIZE, facets=True)
    pages = max(1, -(-results.total // PAGE_SIZE))
    if page > pages and results.total:
        page = pages
        results = search_index.search(searcher, query, filters=filters, part=part, limit=PAGE_SIZE,
                                      offset=(page - 1) * PAGE_SIZE, facets=True)
    base = {"q": query, **{k: v for k, v in filters.items() if v}}
    if part:
        base["part"] = str(part)

    def page_link(n: int) -> str:
        return "?" + urlencode({**base, **({"page": n} if n > 1 else {})})

    def facet_link(name: str, value: str) -> str:
        return "?" + urlencode({k: v for k, v in {**base, name: value}.items() if v})

    html = template.render(
        config=config, root="../", page_url=SEARCH_PATH,
        query=query, searchable=bool(results.clauses), total=results.total, hits=results.hits,
        first=(page - 1) * PAGE_SIZE + 1, page=page, pages=pages,
        page_numbers=[n for n in range(max(1, page - 4), min(pages, page + 4) + 1)],
        page_link=page_link, facet_link=facet_link, part=part,
        filters=filters, facets=results.facets, filter_fields=FILTER_FIELDS,
        filter_values=_filter_values(searcher),
    )
    return html.encode("utf-8")


def _filter_values(searcher) -> dict[str, list[str]]:
    reader = searcher.reader()
    out = {}
    for name, _, _ in FILTER_FIELDS:
        values = (v.decode("utf-8") if isinstance(v, bytes) else v for v in reader.lexicon(name))
        out[name] = sorted((v for v in values if v), reverse=(name == "year"))
    return out


# --- files -------------------------------------------------------------------------------

def _path_info(environ) -> str:
    raw = environ.get("PATH_INFO", "/") or "/"
    try:
        raw = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return raw.lstrip("/")


def _serve_file(start_response, environ, output_dir: Path, path: str, method: str):
    clean = posixpath.normpath("/" + path).lstrip("/")
    if "\x00" in path or "\\" in path or ".." in path.split("/"):
        return _not_found(start_response, output_dir, method)
    target = output_dir / clean if clean not in ("", ".") else output_dir
    if target.is_dir():
        if path and not path.endswith("/"):
            return _redirect(start_response, environ, path + "/")
        target = target / "index.html"
    try:
        resolved = target.resolve()
        resolved.relative_to(output_dir)
        body = resolved.read_bytes()
    except (OSError, ValueError):
        return _not_found(start_response, output_dir, method)
    kind = TYPES.get(resolved.suffix) or mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "application/xml"):
        kind += "; charset=utf-8"
    return _respond(start_response, "200 OK", body, kind, method)


def _not_found(start_response, output_dir: Path, method: str):
    page = output_dir / "404.html"
    body = page.read_bytes() if page.is_file() else b"404 Not Found\n"
    kind = "text/html; charset=utf-8" if page.is_file() else "text/plain; charset=utf-8"
    return _respond(start_response, "404 Not Found", body, kind, method)


def _redirect(start_response, environ, path: str):
    location = environ.get("SCRIPT_NAME", "").rstrip("/") + "/" + quote(path)
    query = environ.get("QUERY_STRING", "")
    if query:
        location += "?" + query
    start_response("301 Moved Permanently", [("Location", location), ("Content-Length", "0")])
    return [b""]


def _respond(start_response, status: str, body: bytes, kind: str, method: str, extra=()):
    headers = [("Content-Type", kind), ("Content-Length", str(len(body))),
               ("X-Content-Type-Options", "nosniff"), *extra]
    start_response(status, headers)
    return [b"" if method == "HEAD" else body]
