"""Assemble: give parsed reports their ids, places and years.

A pure function of the summaries (and of the ids the last build gave, so that a report
keeps its URL): the same reports in any order give the same Site.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping

from . import urls
from ..model import UNKNOWN_PLACE, Entry, Place, Problem, Site, Summary


def assemble_site(reports: tuple[Summary, ...], slugify: Callable[[str], str] = urls.slugify,
                  previous: Mapping[str, str] | None = None) -> tuple[Site, tuple[Problem, ...]]:
    """The site of `reports`. `slugify` makes the ASCII slug of a name (a caller may cache
    it); `previous`: content path -> the id it had in the last build."""
    reports = tuple(sorted(reports, key=lambda r: r.source))
    ids, problems = _assign_ids(reports, slugify, previous or {})
    reports = tuple(r for r in reports if r.source in ids)
    by_place: dict[str, list[tuple[Summary, str]]] = defaultdict(list)
    for report in reports:
        by_place[urls.place_key(report.place, report.region)].append((report, ids[report.source]))

    entries: list[Entry] = []
    places: list[Place] = []
    slugs = _place_slugs(by_place, slugify)
    for key, members in by_place.items():
        members.sort(key=lambda m: (m[0].year or 0, m[0].published or "", m[1]))
        chain = [m[1] for m in members]
        for i, (report, entry_id) in enumerate(members):
            entries.append(Entry(
                report=report,
                id=entry_id,
                place_key=key,
                prev_id=chain[i - 1] if i > 0 else None,
                next_id=chain[i + 1] if i + 1 < len(chain) else None,
            ))
        first = members[-1][0]  # the newest report names the place
        places.append(Place(
            key=key,
            name=first.place or UNKNOWN_PLACE,
            slug=slugs[key],
            level=first.level,
            region=first.region,
            entry_ids=tuple(chain),
        ))

    years: dict[int, list[str]] = defaultdict(list)
    undated: list[str] = []
    for entry in entries:
        (years[entry.report.year] if entry.report.year is not None else undated).append(entry.id)
    site = Site(
        entries=tuple(sorted(entries, key=lambda e: e.id)),
        places=tuple(sorted(places, key=lambda p: p.slug)),
        years=tuple((y, tuple(sorted(years[y]))) for y in sorted(years, reverse=True)),
        undated=tuple(sorted(undated)),
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


def _place_slugs(by_place: dict[str, list[tuple[Summary, str]]], slugify: Callable[[str], str]) -> dict[str, str]:
    """Slug per place: pinyin of the name; places sharing a name are told apart by region."""
    named: dict[str, list[str]] = defaultdict(list)
    for key in sorted(by_place):
        named[slugify(by_place[key][0][0].place or UNKNOWN_PLACE)].append(key)
    slugs = {}
    for base, keys in named.items():
        for key in keys:
            region = by_place[key][0][0].region
            if len(keys) == 1:
                slugs[key] = base
            elif region:
                slugs[key] = f"{slugify(region)}-{base}"
            else:
                slugs[key] = f"{base}-{urls.short_hash(key)}"
    # Regions can still slug alike ("广东省·某市", "广东省 某市", traditional script): two
    # places must never write one page, so clashing slugs all get their key's hash.
    users: dict[str, list[str]] = defaultdict(list)
    for key in sorted(slugs):
        users[slugs[key]].append(key)
    for slug, keys in users.items():
        if len(keys) > 1:
            for key in keys:
                slugs[key] = f"{slug}-{urls.short_hash(key)}"
    return slugs
