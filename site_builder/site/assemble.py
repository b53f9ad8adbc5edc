"""Stage 3, assemble: give parsed reports their ids, places and years.

Pure function of the reports: the same reports in any order give the same Site.
"""
from __future__ import annotations

from collections import defaultdict

from . import urls
from ..model import UNKNOWN_PLACE, Entry, Place, Problem, Site, Summary


def assemble_site(reports: tuple[Summary, ...]) -> tuple[Site, tuple[Problem, ...]]:
    reports = tuple(sorted(reports, key=lambda r: r.source))
    ids, problems = _assign_ids(reports)
    by_place: dict[str, list[tuple[Summary, str]]] = defaultdict(list)
    for report, entry_id in zip(reports, ids):
        by_place[urls.place_key(report.place, report.region)].append((report, entry_id))

    entries: list[Entry] = []
    places: list[Place] = []
    slugs = _place_slugs(by_place)
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


def _assign_ids(reports: tuple[Summary, ...]) -> tuple[list[str], tuple[Problem, ...]]:
    """One id per report; a clash (two files, one URL) is reported and resolved by path order."""
    taken: dict[str, str] = {}
    ids, problems = [], []
    for report in reports:
        base = report.id_base
        entry_id, n = base, 1
        while entry_id in taken:
            n += 1
            entry_id = f"{base}-{n}"
        if entry_id != base:
            problems.append(Problem(
                report.source, 1,
                f"URL reports/{base}/ is already used by {taken[base]}; published as reports/{entry_id}/",
                "warning",
            ))
        taken[entry_id] = report.source
        ids.append(entry_id)
    return ids, tuple(problems)


def _place_slugs(by_place: dict[str, list[tuple[Summary, str]]]) -> dict[str, str]:
    """Slug per place: pinyin of the name; places sharing a name are told apart by region."""
    named: dict[str, list[str]] = defaultdict(list)
    for key in sorted(by_place):
        named[by_place[key][0][0].place_slug].append(key)
    slugs = {}
    for base, keys in named.items():
        for key in keys:
            region_slug = by_place[key][0][0].region_slug
            if len(keys) == 1:
                slugs[key] = base
            elif region_slug:
                slugs[key] = f"{region_slug}-{base}"
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
