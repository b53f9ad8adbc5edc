"""Assemble: give parsed reports their ids, their nodes in the region tree, and years.

A pure function of the summaries (and of the ids the last build gave, so that a report
keeps its URL): the same reports in any order give the same Site.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from . import urls
from .tree import Locator, build_tree
from ..model import Entry, Problem, Site, Summary


def assemble_site(reports: tuple[Summary, ...], slugify: Callable[[str], str] = urls.slugify,
                  previous: Mapping[str, str] | None = None) -> tuple[Site, tuple[Problem, ...]]:
    """The site of `reports`. `slugify` makes the ASCII slug of a name (a caller may cache
    it); `previous`: content path -> the id it had in the last build."""
    reports = tuple(sorted(reports, key=lambda r: r.source))
    ids, problems = _assign_ids(reports, slugify, previous or {})
    reports = tuple(r for r in reports if r.source in ids)
    locator = Locator()
    located, node_of = [], {}
    for report in reports:
        entry_id = ids[report.source]
        steps = locator.locate(report)
        node_of[entry_id] = steps[-1].key
        located.append((entry_id, steps, (report.year or 0, report.published or "", entry_id)))
    places, roots = build_tree(located, slugify)

    at = {entry_id: k for place in places.values() for k, entry_id in enumerate(place.entry_ids)}
    entries: list[Entry] = []
    for report in reports:
        entry_id = ids[report.source]
        chain, k = places[node_of[entry_id]].entry_ids, at[entry_id]  # the node's reports, oldest first
        entries.append(Entry(
            report=report,
            id=entry_id,
            place_key=node_of[entry_id],
            prev_id=chain[k - 1] if k > 0 else None,
            next_id=chain[k + 1] if k + 1 < len(chain) else None,
        ))

    years: dict[int, list[str]] = defaultdict(list)
    undated: list[str] = []
    for entry in entries:
        (years[entry.report.year] if entry.report.year is not None else undated).append(entry.id)
    site = Site(
        entries=tuple(sorted(entries, key=lambda e: e.id)),
        places=tuple(places[key] for key in sorted(places)),
        years=tuple((y, tuple(sorted(years[y]))) for y in sorted(years, reverse=True)),
        undated=tuple(sorted(undated)),
        roots=roots,
    )
    return site, problems


def _assign_ids(reports: tuple[Summary, ...], slugify: Callable[[str], str], previous: Mapping[str, str]
                ) -> tuple[dict[str, str], tuple[Problem, ...]]:
    """Content path -> id, one per report. An id set in front matter or a sidecar that
    another report has (set or derived from its path) is an error naming both files, and
    the report that asked for it is left out: a new file cannot take another's URL. Two files
    whose paths give one id are a warning: the one that had the id in the last build (else
    the first by path) keeps it, the other is published at a suffixed id."""
    bases = {r.source: urls.report_id(r.source, r.slug, slugify) for r in reports}
    holders: dict[str, list[Summary]] = defaultdict(list)
    for report in reports:
        holders[bases[report.source]].append(report)
    taken: dict[str, str] = {}  # id -> content path
    problems: list[Problem] = []
    # Whoever had the id in the last build first, then reports whose id comes from their path.
    ordered = sorted(reports, key=lambda r: (previous.get(r.source) != bases[r.source], bool(r.slug), r.source))
    for report in ordered:
        base = bases[report.source]
        derived = [r.source for r in holders[base] if r is not report and not r.slug]
        if report.slug and (base in taken or (derived and previous.get(report.source) != base)):
            holder = taken.get(base) or derived[0]
            problems.append(Problem(
                report.source, 1,
                f"id = \"{report.slug}\"（网址 reports/{base}/）已属于 {holder}，本报告未发布；请改用其他 id"
                f"（the id is already used by {holder}）"))
            continue
        entry_id, n = base, 1
        while entry_id in taken:
            n += 1
            entry_id = f"{base}-{n}"
        if entry_id != base:
            problems.append(Problem(
                report.source, 1,
                f"网址 reports/{base}/ 已属于 {taken[base]}，本报告发布为 reports/{entry_id}/；请重命名文件或设置 id"
                f"（URL reports/{base}/ is used by {taken[base]}; published as reports/{entry_id}/）",
                "warning",
            ))
        taken[entry_id] = report.source
    return {path: entry_id for entry_id, path in taken.items()}, tuple(problems)
