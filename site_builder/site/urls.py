"""Every URL of the site, in one place.

URLs are relative to the site root, ASCII, and never derived from a report's title:
a report's id comes from its content path (or an explicit ``id`` override), so a better
parser never moves a page. Directory-style URLs end in "/" and are written as index.html.
"""
from __future__ import annotations

import hashlib
import re
from functools import cache

from ..text.chars import HAN

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_HAN = re.compile(f"[{HAN}]")
_RUNS = re.compile(f"[{HAN}]+|[^{HAN}]+")
MAX_SLUG = 80
# Names that are unsafe or confusing as a path component on some file system.
_RESERVED = {"con", "prn", "aux", "nul", "index", "page",
             *(f"{device}{n}" for device in ("com", "lpt") for n in range(10))}


@cache
def slugify(text: str) -> str:
    """ASCII slug: each run of Han characters becomes its pinyin (演陂镇 -> yanbeizhen),
    other runs keep their lowercase letters and digits, '-' between runs."""
    runs = []
    for run in _RUNS.findall(text):
        if _HAN.match(run):
            from pypinyin import lazy_pinyin  # slow to load: only when a name needs it

            runs.append("".join(lazy_pinyin(run)))
        else:
            runs.append(run.lower())
    slug = _NON_SLUG.sub("-", "-".join(runs)).strip("-")[:MAX_SLUG].strip("-")
    if not slug or slug in _RESERVED:
        slug = (slug + "-" if slug else "x-") + short_hash(text)
    return slug


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]


MAX_ID = 120  # an id is one folder name: far below the 255 bytes file systems allow


def report_id(source_path: str, explicit: str | None, slug=slugify) -> str:
    """The stable id of a report: the explicit override, else its content path without
    suffix (`slug`: slugify, or a cache of it). A long one is cut and told apart by a hash."""
    if explicit:
        found = slug(explicit)
    else:
        stem = source_path.rsplit(".", 1)[0]
        found = "-".join(slug(part) for part in stem.split("/") if part)
    if len(found) > MAX_ID:
        found = found[:MAX_ID - 7].rstrip("-") + "-" + short_hash(explicit or source_path)
    return found


# --- the URL of each page, relative to the site root ---------------------------------

def home() -> str:
    return ""


def report(entry_id: str) -> str:
    return f"reports/{entry_id}/"


def original(entry_id: str) -> str:
    """The original text, escaped inside an HTML page."""
    return f"reports/{entry_id}/original.html"


# Originals downloaded under their own suffix: documents, which no browser runs as a page.
_DOCUMENT_SUFFIXES = {"pdf": "pdf", "docx": "docx", "doc": "doc"}


def original_raw(entry_id: str, fmt: str = "txt") -> str:
    """The original file's bytes, unchanged: a text format (txt, html, md) as .txt, so no
    browser runs it as a page; a document (`fmt` pdf, docx, doc) under its own suffix."""
    return f"reports/{entry_id}/original.{_DOCUMENT_SUFFIXES.get(fmt, 'txt')}"


def report_json(entry_id: str) -> str:
    return f"reports/{entry_id}/report.json"


def places() -> str:
    """按地区: the top of the region tree."""
    return "places/"


def place(slug: str, page: int = 1) -> str:
    """A node of the region tree: `slug` is a division's code ("430421105"), or a path
    below one ("430923/chengnanqu", "unknown/..."); only the 未识别地区 list has pages."""
    return f"places/{slug}/" if page == 1 else f"places/{slug}/{page}/"


def paged(url: str, page: int) -> str:
    """Page `page` of a listing whose first page is at `url` (a folder URL)."""
    return url if page == 1 else f"{url}{page}/"


def years() -> str:
    return "years/"


def year(value: int | None) -> str:
    return f"years/{value}/" if value is not None else "years/undated/"


def year_region(value: int | None, group: str, page: int = 1) -> str:
    """A year's reports of one province (`group`: its code, or "unknown")."""
    return paged(f"{year(value)}{group}/", page)


def catalogue(page: int = 1, view: str = "") -> str:
    """The 信息公开目录: `view` "" (all, by publication date), "sort-year", "sort-region",
    "year-2024", "year-undated", "level-zhen", "province-430000", "flag-late"."""
    return paged(f"catalogue/{view}/" if view else "catalogue/", page)


def catalogue_data(name: str) -> str:
    """A file of the catalogue's client-side filter: "index" or a shard ("430000-2024")."""
    return f"catalogue/data/{name}.json"


def search() -> str:
    return "search/"


def feed() -> str:
    return "feed.xml"


def sitemap() -> str:
    return "sitemap.xml"


def not_found() -> str:
    return "404.html"


def file_path(url: str) -> str:
    """The output file that serves a URL."""
    return url + "index.html" if url == "" or url.endswith("/") else url


def root_prefix(url: str) -> str:
    """Relative prefix from the page at `url` back to the site root ("", "../", ...)."""
    return "../" * url.count("/")


def search_for(query: str) -> str:
    """The search page with a query filled in."""
    from urllib.parse import quote

    return f"{search()}?q={quote(query)}"


def compliance() -> str:
    return "compliance/"


def compliance_year(value: int) -> str:
    return f"compliance/{value}/"


def compliance_region(value: int, group: str, page: int = 1) -> str:
    """A year's compliance rows of one province (`group`: its code, or "unknown")."""
    return paged(f"compliance/{value}/{group}/", page)


def favicon() -> str:
    return "static/favicon.svg"


def data() -> str:
    """The data downloads page."""
    return "data/"


def reports_dataset(kind: str) -> str:
    """All reports' metadata: kind "json" or "csv"."""
    return f"reports.{kind}"


def robots() -> str:
    return "robots.txt"
