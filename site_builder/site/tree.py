"""The region tree: 省 → 市 → 县/区 → 乡、镇、街道, the departments of each level, and the
places the gazetteer does not know.

Where a report goes (`locate`):
- its place is a division of the gazetteer (Summary.place_code): that division's node,
  under the nodes of its chain (place_chain_codes), so same-name places stay apart by code;
- a department's report (level 部门) has as place its county or city: it goes to the
  department's own node under that division, named by the department (its issuer);
- a place the gazetteer does not know hangs under the most local division its region
  names (城南区 of 安化县 under 安化县), else in the one 未识别地区 list, with its region.

A pure function of the summaries and the pinned gazetteer: the same reports in any order
give the same tree. A division's URL is its code; a department's or an unknown place's is
its parent's URL and the pinyin of its name (a sibling's clash told apart by a hash), so no
URL comes from a title and none changes when a report is added elsewhere in the tree.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..content.metadata import DEPARTMENT_RE, level_of, split_chain
from ..gazetteer import Division, Gazetteer, gazetteer
from ..model import UNKNOWN_PLACE, Place, Summary
from . import urls

UNKNOWN = "unknown"  # the key and URL of the 未识别地区 list
UNKNOWN_NAME = "未识别地区"
UNNAMED_DEPARTMENT = "部门（名称不详）"

KINDS = ("division", "department", "unknown", "list")
# The level shown for a division, from its kind (how its name ends).
_LEVEL_OF_KIND = {"镇": "镇", "乡": "乡", "民族乡": "乡", "苏木": "乡", "街道": "街道", "区": "区", "林区": "区",
                  "特区": "区", "市": "市", "县": "县", "自治县": "县", "旗": "县", "自治旗": "县"}


def division_level(code: str) -> int:
    """1 province, 2 prefecture, 3 county, 4 township, from the shape of an MCA code (true
    of every division of the table: tests/test_tree.py checks it)."""
    if len(code) == 9:
        return 4
    return 1 if code.endswith("0000") else 2 if code.endswith("00") else 3


def shown_level(division: Division) -> str:
    """省/市/县/区/镇/乡/街道 for a division."""
    if division.level == 1:
        return "省"
    if division.level == 2:
        return "市"
    return _LEVEL_OF_KIND.get(division.kind, "县" if division.level == 3 else "镇")


@dataclass(frozen=True, slots=True)
class Step:
    """One node on the way from the top of the tree down to a report's node."""

    key: str
    name: str
    kind: str  # one of KINDS
    level: str | None
    code: str | None = None
    segment: str = ""  # what the node's URL below its parent's is made from (not for a division)


def _division_step(code: str, name: str) -> Step:
    division = Division(code, name, division_level(code), None)
    return Step(code, name, "division", shown_level(division), code)


class Locator:
    """Where reports go in the tree (see the module's docstring); remembers the divisions
    it found for a region, so a build asks the gazetteer once per region."""

    def __init__(self, gz: Gazetteer | None = None):
        self._gz = gz if gz is not None else gazetteer()
        self._regions: dict[str, tuple[tuple[Step, ...], str]] = {}
        self._divisions: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[Step, ...]] = {}

    def locate(self, report: Summary) -> tuple[Step, ...]:
        """The steps from the top of the tree down to the report's node."""
        codes, names = report.place_chain_codes or (), report.place_chain or ()
        if report.place_known and codes and len(codes) == len(names):
            steps = self._divisions.get((codes, names))
            if steps is None:
                steps = self._divisions[codes, names] = tuple(map(_division_step, codes, names))
            if report.level == "部门":
                return steps + (self._department(report, steps),)
            return steps
        above, rest = self._nearest(report.region)
        if report.level == "部门" and report.place:  # a department of a county the table may not know
            steps = above + self._unknown(above, rest, report.place, level_of(report.place))
            return steps + (self._department(report, steps),)
        return above + self._unknown(above, rest, report.place or UNKNOWN_PLACE, report.level)

    def _nearest(self, region: str | None) -> tuple[tuple[Step, ...], str]:
        """The steps down to the most local division `region` names (the 未识别地区 list
        when it names none), and the rest of the region below that division."""
        region = region or ""
        found = self._regions.get(region)
        if found is None:
            names, ends, at = split_chain(region), [], 0
            for name in names:  # where each name ends in the region
                at = region.find(name, at) + len(name)
                ends.append(at)
            found = ((_LIST,), region)
            for k in range(len(names), 0, -1):
                division = self._gz.resolve(names[k - 1], names[: k - 1]) if self._gz.available else None
                if division is not None:
                    chain = self._gz.chain(division)
                    rest = region[ends[k - 1]:].strip(" ·・,，/")
                    found = (tuple(_division_step(d.code, d.name) for d in chain), rest)
                    break
            self._regions[region] = found
        return found

    @staticmethod
    def _unknown(above: tuple[Step, ...], rest: str, place: str, level: str | None) -> tuple[Step, ...]:
        """The node of a place the table does not know, below `above` (none when the place
        is the division itself: 「松北区」 of a report whose region ends in 松北区)."""
        if not rest and above[-1].kind == "division" and place == above[-1].name:
            return ()
        name = place if rest in place else rest + place
        return (Step(f"{above[-1].key}/{name}", name, "unknown", level, segment=name),)

    @staticmethod
    def _department(report: Summary, steps: tuple[Step, ...]) -> Step:
        organ = organ_of(report, [s.name for s in steps])
        where = steps[-1].name
        return Step(f"{steps[-1].key}/{organ}", where + organ if organ != UNNAMED_DEPARTMENT else organ,
                    "department", "部门", segment=organ)


_LIST = Step(UNKNOWN, UNKNOWN_NAME, "list", None)


def organ_of(report: Summary, chain: Iterable[str]) -> str:
    """A department's own name without the divisions it starts with: 「司法局」 of
    「益阳市安化县司法局」; UNNAMED_DEPARTMENT when no issuer or publisher names one (a
    party organ, 「中共…」, is not the department)."""
    names = sorted({n for n in (*chain, report.place or "") if n}, key=len, reverse=True)
    for who in (*(report.issuer or ()), report.publisher or ""):
        if not who or who.startswith("中共") or not DEPARTMENT_RE.search(who):
            continue
        rest = who
        while (lead := next((n for n in names if rest.startswith(n) and len(rest) > len(n)), None)) is not None:
            rest = rest[len(lead):]
        return rest
    return UNNAMED_DEPARTMENT


@dataclass
class _Node:
    step: Step
    parent: str | None
    entries: list[str]
    children: set[str]
    slug: str = ""
    total: int = 0


def build_tree(located: Iterable[tuple[str, tuple[Step, ...], tuple]], slugify: Callable[[str], str] = urls.slugify
               ) -> tuple[dict[str, Place], tuple[str, ...]]:
    """The nodes of the tree from (entry id, its steps, its sort key), and the keys of the
    top nodes (provinces by code, then the 未识别地区 list). A node's own reports are in
    the order of their sort keys."""
    nodes: dict[str, _Node] = {}
    own: dict[str, list[tuple[tuple, str]]] = defaultdict(list)
    for entry_id, steps, order in located:
        parent = None
        for step in steps:
            node = nodes.get(step.key)
            if node is None:
                node = nodes[step.key] = _Node(step, parent, [], set())
            if parent is not None:
                nodes[parent].children.add(step.key)
            node.total += 1
            parent = step.key
        own[parent].append((order, entry_id))
    for key, members in own.items():
        nodes[key].entries = [entry_id for _, entry_id in sorted(members)]
    roots = sorted((k for k, n in nodes.items() if n.parent is None), key=_order(nodes))
    for key in roots:
        nodes[key].slug = key if nodes[key].step.kind == "division" else UNKNOWN
    order = _top_down(nodes, roots)
    regions: dict[str, str] = {}  # node key -> the names above it, province first
    for key in order:  # from the top down: a child's URL is below its parent's
        node = nodes[key]
        _child_slugs(node, [nodes[c] for c in node.children], slugify)
        parent = nodes[node.parent] if node.parent is not None else None
        above = regions[node.parent] if parent is not None else ""
        regions[key] = above + parent.step.name if parent is not None and parent.step.kind != "list" else above
    places = {}
    for key, node in nodes.items():
        step = node.step
        region = regions[key]
        places[key] = Place(
            key=key, name=step.name, slug=node.slug, level=step.level, region=region or None,
            entry_ids=tuple(node.entries), kind=step.kind, code=step.code, parent=node.parent,
            children=tuple(sorted(node.children, key=_order(nodes))), total=node.total)
    return places, tuple(roots)


def _top_down(nodes: dict[str, _Node], roots: Iterable[str]) -> list[str]:
    """Every node's key, each after its parent's."""
    out, todo = [], list(roots)
    while todo:
        key = todo.pop()
        out.append(key)
        todo.extend(nodes[key].children)
    return out


def _order(nodes: dict[str, _Node]) -> Callable[[str], tuple]:
    """Siblings in the order pages list them: divisions by code, then departments, then
    the places the gazetteer does not know, each by slug (set by then) and key."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return lambda key: (rank[nodes[key].step.kind], nodes[key].step.code or "", nodes[key].slug, key)


def _child_slugs(parent: _Node, children: list[_Node], slugify: Callable[[str], str]) -> None:
    """The URLs of a node's children: a division's is its code; another's is the parent's
    URL and the slug of its name, made unique among its siblings (and never digits alone,
    which are page numbers) by a hash of its key."""
    named: dict[str, list[_Node]] = defaultdict(list)
    for child in sorted(children, key=lambda c: c.step.key):
        if child.step.kind == "division":
            child.slug = child.step.code or child.step.key
            continue
        segment = slugify(child.step.segment)
        if segment.isdigit():
            segment = f"x-{segment}"
        named[segment].append(child)
    for segment, clashing in named.items():
        for child in clashing:
            mine = segment if len(clashing) == 1 else f"{segment}-{urls.short_hash(child.step.key)}"
            child.slug = f"{parent.slug}/{mine}"
