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
from markupsafe import Markup, escape

from ..config import SiteConfig
from ..content.decode import DecodeError, decode_bytes
from ..content.read import shown as shown_text
from ..model import CHANGE_KINDS, FLAGS, FORMAT_NAMES, PARTS, Entry, Page, Place, Report, Site, entry_inputs
from ..site import catalogue, compliance, coverage, datasets, urls
from . import theme

# auto_reload off: a build makes its own environment, so a template never changes under it,
# and the check would stat every template of every page (300,000 calls at 100,000 reports).
TEMPLATE_OPTIONS = {"autoescape": True, "undefined": jinja2.StrictUndefined, "trim_blocks": True,
                    "lstrip_blocks": True, "keep_trailing_newline": True, "auto_reload": False}
MAX_ROWS = 200  # the most rows any listing page shows (config.per_page is capped at it)


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
                       pct=compliance.percent, status=compliance.status, mark=compliance.mark,
                       page_numbers=page_numbers, cover_mark=cover_mark, cover_cells=cover_cells, SORTS=catalogue.SORTS)
    env.filters["paragraphs"] = lambda text: [p for p in text.split("\n") if p.strip()]
    return env


def page_numbers(number: int, pages: int, every: bool = False) -> list[int | None]:
    """The page numbers a pager links: all of them when `every`, else the first, the last
    and two on each side of the current one, None where numbers are left out."""
    if every or pages <= 9:
        return list(range(1, pages + 1))
    shown = sorted({1, pages, *range(max(1, number - 2), min(pages, number + 2) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


COVER_MARKS = {True: "✓按时", False: "逾期", None: "已收录"}  # a coverage cell's report, in words (never colour alone)


def cover_mark(on_time: bool | None) -> str:
    return COVER_MARKS[on_time]


def cover_cells(row: coverage.Row, years: tuple[int, ...], root: str) -> Markup:
    """The cells of a coverage row, one per year: its reports (linked, marked), the count of
    reports below it, or 未收录. Made here, not in a macro: a county's grid has hundreds."""
    out = []
    for year, cell in zip(years, row.cells):
        parts = [f'<a href="{escape(root + urls.report(entry_id))}">{COVER_MARKS[ok]}</a>' for entry_id, ok in cell.own]
        if cell.below:
            parts.append(f'<span class="below">下辖{cell.below}篇</span>')
        shown = " ".join(parts) or '<span class="none">未收录</span>'
        out.append(f'<td data-year="{year}">{shown}</td>')
    return Markup("".join(out))


def chunks(items, size: int) -> list:
    """`items` in pages of `size` (one empty page when there are none)."""
    size = max(1, min(size, MAX_ROWS))
    return [items[k:k + size] for k in range(0, len(items), size)] or [items[:0]]


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
    def positions(self) -> dict[str, int]:
        return catalogue.tree_positions(self.site)

    @cached_property
    def root_of(self) -> dict[str, str]:
        return catalogue.province_of(self.site)

    @cached_property
    def orders(self) -> catalogue.Orders:
        return catalogue.orders(self.site, self.positions)

    @property
    def newest_first(self) -> tuple[Entry, ...]:
        """Catalogue order: publication date, then report year, newest first; id breaks ties."""
        return self.orders.date

    @cached_property
    def year_columns(self) -> tuple[int, ...]:
        return coverage.years_of(self.site.years)

    @cached_property
    def below(self) -> dict[str, dict[int, int]]:
        return coverage.counts_below(self.site.entries, self.place_of)

    @cached_property
    def per_page(self) -> int:
        return max(1, min(self.config.per_page, MAX_ROWS))

    def entries(self, ids) -> list[Entry]:
        return [self.by_id[i] for i in ids]

    def roots(self) -> list[Place]:
        return [self.place_of[key] for key in self.site.roots]

    def label(self, entry: Entry) -> str:
        """A report's place as listings show it (see labels)."""
        return self.labels[entry.place_key]

    @cached_property
    def labels(self) -> dict[str, str]:
        """Node key -> its name after its parent's (衡阳县演陂镇), unless the name starts
        with it (衡阳县司法局) or the node is at the top."""
        out = {}
        for place in self.site.places:
            parent = self.place_of.get(place.parent) if place.parent else None
            if parent is None or parent.kind == "list" or place.name.startswith(parent.name):
                out[place.key] = place.name
            else:
                out[place.key] = parent.name + place.name
        return out

    def crumbs(self, key: str) -> list[tuple[str, str]]:
        """The breadcrumb of a node: 首页 > 按地区 > its ancestors > itself."""
        chain = []
        at: str | None = key
        while at is not None:
            place = self.place_of[at]
            chain.append((place.name, urls.place(place.slug)))
            at = place.parent
        return [("首页", urls.home()), ("按地区", urls.places()), *reversed(chain)]

    def publisher(self, entry: Entry) -> str:
        r = entry.report
        return r.publisher or "、".join(r.issuer) or r.source_name or ""


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
        self._cells_of: dict[str, Markup] = {}  # entry id -> its cells in listings (see _rows)
        self._macro = None

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
        """A node as it stands in the inputs of the pages that show it whole: the repr of
        its fields."""
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = repr(_PLACE_FIELDS(self.view.place_of[key]))
        return found

    def _rows(self, root: str) -> Callable[..., Markup]:
        """The rows of reports in a listing, for pages at the depth of `root`: each its
        序号 (when numbered) and its cells (title, place, year, publisher, date) from one
        macro, so every listing shows a report alike. A report is listed on several pages
        (catalogue views, its year, its place), so its cells are made once, with links from
        the site root, and each page puts its own `root` in front of their links (report
        text is escaped: it holds no `href="`)."""
        cells, prefixed = self._cells, f'href="{root}'

        def rows(entries, start: int = 0, numbered: bool = True) -> Markup:
            out = []
            for k, entry in enumerate(entries, start + 1):
                html = str.replace(cells(entry), 'href="', prefixed) if root else cells(entry)  # not Markup.replace: it escapes
                out.append(f'<tr><td class="num">{k}</td>{html}</tr>' if numbered else f"<tr>{html}</tr>")
            return Markup("\n".join(out))
        return rows

    def _cells(self, entry: Entry) -> Markup:
        found = self._cells_of.get(entry.id)
        if found is None:
            if self._macro is None:
                self._macro = self.env.get_template("_macros.html").module.report_cells
            found = self._cells_of[entry.id] = self._macro(entry, self.view.label(entry), "")
        return found

    def _listing(self, url: str, template: str, *, inputs, **context) -> Page:
        """A page that lists reports in rows (see _row)."""
        return self._page(url, template, inputs=inputs, row_html=self._rows(urls.root_prefix(url)), **context)

    def home(self):
        site, newest = self.view.site, self.view.newest_first[: self.view.config.newest]
        roots = [(p.slug, p.name, p.total) for p in self.view.roots()]
        counts = (len(site.entries), len(site.places), [(year, len(ids)) for year, ids in site.years])
        yield self._listing(urls.home(), "index.html", inputs=(counts, roots, self._listed(newest)), newest=newest)

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
        return (self._token(entry), self.view.crumbs(entry.place_key),
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
            entry=entry, place=place, crumbs=inputs[1], prev=prev, next=next_, similar=similar,
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

    # --- the region tree --------------------------------------------------------------

    def places(self):
        view = self.view
        roots = view.roots()
        yield self._page(urls.places(), "places.html", inputs=[(p.slug, p.name, p.kind, p.total) for p in roots],
                         nodes=roots)
        for place in view.site.places:
            if place.kind == "list":
                yield from self._unknown_list(place)
            else:
                yield self._node(place)

    def _children(self, place: Place) -> list[tuple[str, list[Place]]]:
        """A node's children in groups, as its page lists them."""
        groups: dict[str, list[Place]] = {}
        for key in place.children:
            child = self.view.place_of[key]
            title = {"division": "下辖地区", "department": "部门", "unknown": "区划表未列的地区"}[child.kind]
            groups.setdefault(title, []).append(child)
        return list(groups.items())

    def _node(self, place: Place) -> Page:
        view = self.view
        entries = list(reversed(view.entries(place.entry_ids)))
        groups = self._children(place)
        grid = coverage.grid(place, view.place_of, view.by_id, view.year_columns, view.below)
        shown = [(title, [(c.slug, c.name, c.level, c.total) for c in children]) for title, children in groups]
        url = urls.place(place.slug)
        return self._listing(
            url, "place.html",
            inputs=(place.key, place.name, place.level, place.kind, place.total, view.crumbs(place.key), shown,
                    self._listed(entries), grid),
            place=place, crumbs=view.crumbs(place.key), groups=groups, entries=entries, grid=grid,
            lazy={"timeline": lambda: compliance.place_timeline(entries)})

    def _unknown_list(self, place: Place):
        """未识别地区: the places no division is known for, in pages, every page linked."""
        view = self.view
        children = [view.place_of[key] for key in place.children]
        pages = chunks(children, view.per_page)
        for number, shown in enumerate(pages, 1):
            yield self._page(
                urls.place(place.slug, number), "unknown.html",
                inputs=([(c.slug, c.name, c.level, c.total) for c in shown], number, len(pages), len(children)),
                place=place, crumbs=view.crumbs(place.key), nodes=shown, number=number, pages=len(pages),
                total=len(children), start=(number - 1) * view.per_page,
                link=lambda n: urls.place(place.slug, n))

    # --- years --------------------------------------------------------------------------

    def _by_province(self, entries) -> dict[str, list[Entry]]:
        """Entries by the top node they are under, in tree order (the order of `entries`
        kept within one)."""
        groups: dict[str, list[Entry]] = {key: [] for key in self.view.site.roots}
        for entry in entries:
            groups[self.view.root_of[entry.place_key]].append(entry)
        return {key: found for key, found in groups.items() if found}

    def years(self):
        site, view = self.view.site, self.view
        yield self._page(urls.years(), "years.html",
                         inputs=([(year, len(ids)) for year, ids in site.years], len(site.undated)))
        groups = list(site.years)
        if site.undated:
            groups.append((None, site.undated))
        position = view.positions
        for value, ids in groups:
            entries = sorted(view.entries(ids), key=lambda e: (position[e.place_key], e.id))
            provinces = self._by_province(entries)
            table = [(view.place_of[key], len(found)) for key, found in provinces.items()]
            yield self._page(urls.year(value), "year.html", inputs=(value, [(p.slug, p.name, n) for p, n in table]),
                             year=value, provinces=table, total=len(entries))
            for key, found in provinces.items():
                pages = chunks(found, view.per_page)
                province = view.place_of[key]
                for number, shown in enumerate(pages, 1):
                    url = urls.year_region(value, province.slug, number)
                    yield self._listing(
                        url, "year_region.html",
                        inputs=(value, province.name, self._listed(shown), number, len(pages), len(found)),
                        year=value, province=province, rows=shown, number=number, pages=len(pages),
                        total=len(found), start=(number - 1) * view.per_page,
                        link=lambda n, v=value, s=province.slug: urls.year_region(v, s, n))

    # --- the catalogue --------------------------------------------------------------------

    def catalogue(self):
        view = self.view
        all_views = catalogue.views(view.site, view.orders, view.root_of)
        facets = catalogue.facets(v for v, _ in all_views)
        facet_inputs = [(f, [(v.slug, v.label) for v in vs]) for f, vs in facets.items()]
        navs: dict[tuple[str, str], Markup] = {}

        def facet_nav(current, root: str) -> Markup:
            found = navs.get((current.slug, root))
            if found is None:
                macro = self.env.get_template("_macros.html").module.catalogue_facets
                found = navs[current.slug, root] = macro(current, facets, root)
            return found

        for current, rows in all_views:
            pages = chunks(rows, view.per_page)
            for number, shown in enumerate(pages, 1):
                url = urls.catalogue(number, current.slug)
                yield self._listing(
                    url, "catalogue.html",
                    inputs=(current, facet_inputs, self._listed(shown), number, len(pages), len(rows)),
                    lazy={"facet_nav": lambda current=current, url=url: facet_nav(current, urls.root_prefix(url))},
                    current=current, facets=facets, rows=shown, number=number, pages=len(pages),
                    total=len(rows), start=(number - 1) * view.per_page,
                    link=lambda n, slug=current.slug: urls.catalogue(n, slug))
        yield from self._catalogue_data([v for v, _ in all_views])

    def _catalogue_data(self, all_views: list) -> Iterator[Page]:
        """The client-side filter's manifest and shards (see site/catalogue.py)."""
        view = self.view
        shards = catalogue.shards(view.site, view.root_of)
        rank = view.orders.rank
        for name, members in shards.items():
            url = urls.catalogue_data(name)
            inputs = (self._listed(members), [rank[e.id] for e in members])
            yield Page(url, self._fingerprint(url, inputs), lambda members=members: catalogue.shard_json([
                catalogue.row(e, view.label(e), view.publisher(e), catalogue.chain_codes(e.place_key, view.place_of),
                              rank[e.id]) for e in members]))
        sizes = {name: len(members) for name, members in shards.items()}
        divisions = [(p.key, p.name, p.parent) for p in view.site.places if p.kind == "division"]
        url = urls.catalogue_data("index")
        inputs = (sizes, [v.slug for v in all_views], divisions, view.site.roots, view.per_page)
        yield Page(url, self._fingerprint(url, inputs), lambda: catalogue.manifest_json(
            view.site, all_views, sizes, view.root_of, view.per_page))

    # --- compliance -----------------------------------------------------------------------

    def compliance(self):
        view = self.view
        by_year = compliance.rows_by_year(view.site)
        stats = compliance.year_stats(view.site, by_year)
        years = view.year_columns
        counts = coverage.by_province(view.site.entries, view.root_of, years)
        provinces = [(p, counts[p.key]) for p in view.roots() if p.key in counts]
        yield self._page(urls.compliance(), "compliance.html",
                         inputs=(stats, years, [(p.slug, p.name, c) for p, c in provinces]),
                         stats=stats, charts=compliance.overview_charts(stats), years=years, provinces=provinces)
        position = view.positions
        for year in stats:
            # (place key, its row) for each report, (place key, None) for each place that
            # published in an earlier year but has no report of this one in the archive.
            items = [(r.place_key, r) for r in by_year[year.year]] + [(key, None) for key in year.absent]
            items.sort(key=lambda item: (position[item[0]], item[1].id if item[1] else ""))
            groups: dict[str, list] = {key: [] for key in view.site.roots}
            for item in items:
                groups[view.root_of[item[0]]].append(item)
            table = [(view.place_of[key], compliance.tally([r for _, r in found if r]),
                      sum(1 for _, r in found if r is None), found) for key, found in groups.items() if found]
            shown = [(p.slug, p.name, t, absent) for p, t, absent, _ in table]
            yield self._page(urls.compliance_year(year.year), "compliance_year.html",
                             inputs=(year, shown), year=year, provinces=table, chart=compliance.parts_chart(year))
            for province, _, _, found in table:
                yield from self._compliance_pages(year, province, found)

    def _compliance_pages(self, year, province: Place, found: list):
        """A year's rows of one province, in tree order: its reports, and the places that
        published in an earlier year but have none in this archive for this one."""
        view = self.view
        pages = chunks(found, view.per_page)
        for number, shown in enumerate(pages, 1):
            keys = sorted({key for key, _ in shown})
            places = {key: view.place_of[key] for key in keys}
            labels = {key: view.labels[key] for key in keys}
            # The rows themselves (plain tuples), not their entries' tokens: an edit that
            # leaves a report's row as it was (most do) leaves these pages as they were.
            yield self._page(
                urls.compliance_region(year.year, province.slug, number), "compliance_region.html",
                inputs=(year.year, province.name, [(k, tuple(r) if r else None) for k, r in shown],
                        [(k, places[k].slug, labels[k]) for k in keys], number, len(pages), len(found)),
                year=year, province=province, items=shown, places=places, labels=labels, number=number,
                pages=len(pages), total=len(found), start=(number - 1) * view.per_page,
                link=lambda n, y=year.year, s=province.slug: urls.compliance_region(y, s, n))

    def data(self):
        site, config = self.view.site, self.view.config
        yield self._page(urls.data(), "data.html", inputs=len(site.entries), fields=datasets.FIELD_NOTES)
        every = self._listed(site.entries)
        for kind, make in (("json", datasets.reports_json), ("csv", datasets.reports_csv)):
            url = urls.reports_dataset(kind)
            yield Page(url, self._fingerprint(url, every), lambda make=make: make(site, config))
        yield Page(urls.robots(), self._fingerprint(urls.robots(), ()), lambda: datasets.robots_txt(config))

    def misc(self):
        site, view = self.view.site, self.view
        # 404.html is served at any depth, so its links start at the configured root.
        yield self._page(urls.not_found(), "404.html", inputs=(), root=view.config.root)
        yield self._page(urls.search(), "search.html", inputs=())
        entries = view.newest_first[:50]
        yield self._page(urls.feed(), "feed.xml", inputs=self._listed(entries), entries=entries,
                         atom_date=atom_date, atom_id=self._atom_id,
                         feed_updated=max((atom_date(e.report) for e in entries), default=atom_date(None)))
        pages = [urls.home(), urls.places(), urls.years(), urls.catalogue()]
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
        return shown_text(decode_bytes(raw)[0])
    except DecodeError:
        return shown_text(raw.decode("utf-8", "replace"))


def _count_kinds(changes) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return sorted(counts.items())


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")
