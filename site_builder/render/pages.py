"""Render: the assembled Site as Pages (output files, each made only if needed).

Every page is a Jinja template rendered with autoescape and StrictUndefined: report text
is untrusted and must never become markup. Links are relative to each page, so the site
works from any folder; only 404.html, the feed and the sitemap use config.root/base_url.

A page's fingerprint is a digest of the design version (code, theme, config) and of what
the page shows of the site, stated as cheap values (`inputs`): a listed report stands for
its token, a digest of everything a page may show of it. A test checks every kind of edit
against a fresh build, so an input left out would show.
"""
from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from functools import cached_property
from operator import attrgetter
from pathlib import Path

import jinja2

from ..config import SiteConfig
from ..content.decode import DecodeError, decode_bytes
from ..content.read import shown
from ..model import CHANGE_KINDS, FLAGS, FORMAT_NAMES, PARTS, Entry, Page, Place, Report, Site, entry_inputs
from ..site import compliance, datasets, urls
from . import theme

LEVEL_ORDER = ("市", "县", "区", "街道", "镇", "乡", "部门")


TEMPLATE_OPTIONS = {"autoescape": True, "undefined": jinja2.StrictUndefined, "trim_blocks": True,
                    "lstrip_blocks": True, "keep_trailing_newline": True}


def make_environment(theme_folder: str = "", compiled: Path | None = None) -> jinja2.Environment:
    """The templates of the theme (see theme.py: a site's own folder first). `compiled`: a
    folder of the private state folder where Jinja keeps the templates it compiled (code it
    runs: never a folder another user could write), each used only while its template's
    source is the one it was compiled from."""
    loader = jinja2.FileSystemLoader([str(folder) for folder in theme.folders(theme_folder)])
    cache = None
    if compiled is not None:
        compiled.mkdir(mode=0o700, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(compiled))
    env = jinja2.Environment(loader=loader, bytecode_cache=cache, **TEMPLATE_OPTIONS)
    env.globals.update(u=urls, PARTS=PARTS, FLAGS=FLAGS, CHANGE_KINDS=CHANGE_KINDS, FORMAT_NAMES=FORMAT_NAMES,
                       pct=compliance.percent, status=compliance.status, mark=compliance.mark)
    env.filters["paragraphs"] = lambda text: [p for p in text.split("\n") if p.strip()]
    return env


@dataclass(frozen=True)
class Sources:
    """Where render reads what the Site does not hold: full reports and original bytes."""

    report: Callable[[str], Report]  # parse key -> Report
    original: Callable[[str, str], bytes]  # content path, sha256 -> the file's bytes, as parsed


@dataclass(frozen=True)
class SiteView:
    """Read-only lookups over a Site that templates need; built once per render."""

    site: Site
    config: SiteConfig

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.site.entries}

    @cached_property
    def place_of(self) -> dict[str, Place]:
        return {p.key: p for p in self.site.places}

    @cached_property
    def newest_first(self) -> tuple[Entry, ...]:
        """Catalogue order: publication date, then report year, newest first; id breaks ties."""
        ordered = sorted(self.site.entries, key=lambda e: e.id)
        return tuple(sorted(
            ordered,
            key=lambda e: (e.report.published or "", e.report.year or 0),
            reverse=True,
        ))

    def entries(self, ids) -> list[Entry]:
        return [self.by_id[i] for i in ids]

    def places_by_level(self) -> list[tuple[str, list[Place]]]:
        groups: dict[str, list[Place]] = {}
        for place in self.site.places:
            groups.setdefault(place.level or "其他", []).append(place)
        order = {level: i for i, level in enumerate(LEVEL_ORDER)}
        return sorted(groups.items(), key=lambda g: (order.get(g[0], len(order)), g[0]))


def render_site(site: Site, config: SiteConfig, env: jinja2.Environment, sources: Sources) -> Iterator[Page]:
    """Every file of the site, in a fixed order. A Page renders only when asked: the publish
    stage skips pages whose fingerprint (all they are made from) has not changed."""
    page = _PageRenderer(env, SiteView(site, config), sources, design_version(config))
    yield from page.home()
    yield from page.reports()
    yield from page.places()
    yield from page.years()
    yield from page.catalogue()
    yield from page.compliance()
    yield from page.data()
    yield from page.misc()
    yield from static_files(config.theme)


def static_files(theme_folder: str = "") -> Iterator[Page]:
    """The theme's assets (its static/ folder), published as they are."""
    for rel, path in theme.theme_files(theme_folder).items():
        if rel.startswith("static/"):
            yield Page(rel, None, path.read_bytes)


def design_version(config: SiteConfig) -> str:
    """Digest of everything every page depends on: code, theme, config."""
    digest = hashlib.sha256(code_version().encode() + repr(config).encode())
    for rel, path in theme.theme_files(config.theme).items():
        digest.update(rel.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@functools.cache
def code_version() -> str:
    """Digest of the package's own sources (what a rendered page may depend on)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


_PLACE_FIELDS = attrgetter(*(f.name for f in fields(Place)))


class _PageRenderer:
    def __init__(self, env: jinja2.Environment, view: SiteView, sources: Sources, version: str):
        self.env, self.view, self.sources, self.version = env, view, sources, version
        self._tokens: dict[str, str] = {}  # entry id -> token (see _token)
        self._places: dict[str, str] = {}  # place key -> the repr of its fields

    def _page(self, url: str, template: str, *, inputs, root: str | None = None,
              lazy: dict | None = None, **context) -> Page:
        """A page from a template; `inputs` stands for all it shows of the site (see the
        module's docstring). `lazy` holds context values that are costly to get (a full
        report), computed only if the page is rendered."""
        def produce() -> bytes:
            late = {name: get() for name, get in (lazy or {}).items()}
            html = self.env.get_template(template).render(
                config=self.view.config, view=self.view, page_url=url,
                root=urls.root_prefix(url) if root is None else root, **context, **late,
            )
            return html.encode("utf-8")
        return Page(urls.file_path(url), self._fingerprint(url, inputs), produce)

    def _fingerprint(self, url: str, inputs) -> str:
        return hashlib.sha256(f"{self.version}\0{url}\0{inputs!r}".encode()).hexdigest()

    def _listed(self, entries) -> str:
        """What listed entries stand for in a page's inputs: their tokens end to end."""
        return "".join(map(self._token, entries))

    def _token(self, entry: Entry) -> str:
        """A digest of all any page may show of one entry (see model.entry_inputs)."""
        found = self._tokens.get(entry.id)
        if found is None:
            found = self._tokens[entry.id] = hashlib.sha256(repr(entry_inputs(entry)).encode()).hexdigest()[:32]
        return found

    def _place(self, key: str) -> str:
        """A place as it stands in the inputs of pages: the repr of its fields."""
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = repr(_PLACE_FIELDS(self.view.place_of[key]))
        return found

    def home(self):
        site, newest = self.view.site, self.view.newest_first[: self.view.config.newest]
        counts = (len(site.entries), len(site.places), [(year, len(ids)) for year, ids in site.years])
        yield self._page(urls.home(), "index.html", inputs=(counts, self._listed(newest)), newest=newest)

    def reports(self):
        for entry in self.view.site.entries:
            yield from self.report(entry, self._report_inputs(entry))

    def _report_inputs(self, entry: Entry) -> tuple:
        """All the pages of a report show: the report page's, which covers the others'."""
        by_id = self.view.by_id
        older = by_id.get(entry.prev_id) if entry.prev_id else None
        newer = by_id.get(entry.next_id) if entry.next_id else None
        similar = []
        for i, share in entry.similar:
            r = by_id[i].report
            similar.append((i, r.title, r.place, r.year, share))
        return (self._token(entry), self._place(entry.place_key),
                (older.id, older.report.year, older.report.title) if older else None,
                (newer.id, newer.report.year, newer.report.title) if newer else None, similar)

    def report(self, entry: Entry, inputs: tuple):
        view = self.view
        place = view.place_of[entry.place_key]
        prev = view.by_id.get(entry.prev_id) if entry.prev_id else None
        next_ = view.by_id.get(entry.next_id) if entry.next_id else None
        similar = [(view.by_id[i], share) for i, share in entry.similar]
        full = functools.cache(lambda: self.sources.report(entry.report.key))
        raw = functools.cache(lambda: self.sources.original(entry.report.source, entry.report.sha256))
        described = inputs[0]
        yield self._page(
            urls.report(entry.id), "report.html", inputs=inputs,
            entry=entry, place=place, prev=prev, next=next_, similar=similar,
            lazy={"r": full, "change_counts": lambda: _count_kinds(full().changes)},
        )
        yield self._page(urls.original(entry.id), "original.html", inputs=described, entry=entry,
                         lazy={"r": full, "original_text": lambda: full().extracted_text or _decoded(raw())})
        download = urls.original_raw(entry.id, entry.report.format)  # a document under its own suffix
        yield Page(download, self._fingerprint(download, entry.report.sha256), raw)
        yield Page(urls.report_json(entry.id), self._fingerprint(urls.report_json(entry.id), described),
                   lambda: _json({"id": entry.id, "url": urls.report(entry.id), **full().to_json(),
                                  "keywords": list(entry.report.keywords),
                                  "similar": [{"id": i, "share": s} for i, s in entry.similar]}))

    def places(self):
        groups = self.view.places_by_level()
        shown = [(level, [(p.slug, p.region, p.name, len(p.entry_ids)) for p in places]) for level, places in groups]
        yield self._page(urls.places(), "places.html", inputs=shown, groups=groups)
        for place in self.view.site.places:
            entries = list(reversed(self.view.entries(place.entry_ids)))
            yield self._page(urls.place(place.slug), "place.html", inputs=(self._place(place.key), self._listed(entries)),
                             place=place, entries=entries,
                             lazy={"timeline": lambda entries=entries: compliance.place_timeline(entries)})

    def years(self):
        site = self.view.site
        yield self._page(urls.years(), "years.html",
                         inputs=([(year, len(ids)) for year, ids in site.years], len(site.undated)))
        groups = list(self.view.site.years)
        if self.view.site.undated:
            groups.append((None, self.view.site.undated))
        for value, ids in groups:
            entries = sorted(self.view.entries(ids), key=lambda e: (self.view.place_of[e.place_key].slug, e.id))
            yield self._page(urls.year(value), "year.html", inputs=(value, self._listed(entries)),
                             year=value, entries=entries)

    def catalogue(self):
        rows = self.view.newest_first
        size, pages = max(1, self.view.config.per_page), self._pages()
        for number in range(1, pages + 1):
            start = (number - 1) * size
            shown = rows[start:start + size]
            yield self._page(urls.catalogue(number), "catalogue.html", inputs=(self._listed(shown), pages, len(rows)),
                             rows=shown, start=start, number=number, pages=pages, total=len(rows))

    def compliance(self):
        by_year = compliance.rows_by_year(self.view.site)
        stats = compliance.year_stats(self.view.site, by_year)
        yield self._page(urls.compliance(), "compliance.html", inputs=stats, stats=stats,
                         charts=compliance.overview_charts(stats))
        for year in stats:
            rows = by_year[year.year]
            places = {key: self.view.place_of[key] for key in {r.place_key for r in rows} | set(year.absent)}
            # The rows themselves (as plain tuples), not their entries' tokens: an edit that
            # leaves a report's row as it was (most do) leaves this large page as it was.
            shown = "\n".join(self._place(key) for key in sorted(places))  # (a repr holds no newline)
            yield self._page(urls.compliance_year(year.year), "compliance_year.html",
                             inputs=(year, [tuple(r) for r in rows], shown), year=year, rows=rows,
                             places=places, chart=compliance.parts_chart(year))

    def data(self):
        site, config = self.view.site, self.view.config
        yield self._page(urls.data(), "data.html", inputs=len(site.entries), fields=datasets.FIELD_NOTES)
        every = self._listed(site.entries)
        for kind, make in (("json", datasets.reports_json), ("csv", datasets.reports_csv)):
            url = urls.reports_dataset(kind)
            yield Page(url, self._fingerprint(url, every), lambda make=make: make(site, config))
        yield Page(urls.robots(), self._fingerprint(urls.robots(), ()), lambda: datasets.robots_txt(config))

    def misc(self):
        site = self.view.site
        # 404.html is served at any depth, so its links start at the configured root.
        yield self._page(urls.not_found(), "404.html", inputs=(), root=self.view.config.root)
        yield self._page(urls.search(), "search.html", inputs=())
        entries = self.view.newest_first[:50]
        yield self._page(urls.feed(), "feed.xml", inputs=self._listed(entries), entries=entries,
                         atom_date=atom_date, atom_id=self._atom_id,
                         feed_updated=max((atom_date(e.report) for e in entries), default=atom_date(None)))
        pages = [urls.home(), urls.places(), urls.years(), *(urls.catalogue(n) for n in range(1, self._pages() + 1))]
        pages += [urls.compliance(), *(urls.compliance_year(y) for y, _ in site.years), urls.data()]
        pages += [urls.report(e.id) for e in site.entries]
        pages += [urls.place(p.slug) for p in site.places]
        pages += [urls.year(y) for y, _ in site.years] + ([urls.year(None)] if site.undated else [])
        yield self._page(urls.sitemap(), "sitemap.xml", inputs="\n".join(pages), sitemap_urls=pages)

    def _atom_id(self, url: str) -> str:
        """Atom ids must be absolute: the page's URL when base_url is set, else a tag URI."""
        config = self.view.config
        if config.base_url:
            return config.base_url.rstrip("/") + config.root + url
        return f"tag:site-builder,2019:{config.root}{url}"

    def _pages(self) -> int:
        return max(1, -(-len(self.view.site.entries) // max(1, self.view.config.per_page)))


def atom_date(report) -> str:
    """An Atom timestamp from what the report says; never the build's wall-clock time."""
    day = None
    if report is not None:
        day = report.published or report.signed or report.written or (
            f"{report.year}-12-31" if report.year else None)
    return f"{day or '2000-01-01'}T00:00:00Z"


def _decoded(raw: bytes) -> str:
    """The original's text as shown on its page: characters that are never text are shown
    as their code points, never obeyed."""
    try:
        return shown(decode_bytes(raw)[0])
    except DecodeError:
        return shown(raw.decode("utf-8", "replace"))


def _count_kinds(changes) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return sorted(counts.items())


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")
