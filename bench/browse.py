"""How a built site is browsed without search: click depth, page sizes, the region tree.

    python bench/browse.py OUTPUT_DIR [--limit-kb 300] [--max-clicks 6]

Reads the published files only. Prints one markdown table:
- the deepest click path from the home page to any report page, following the links of every
  page but the report pages themselves and the search page (a report's own links to other
  reports could only make a path shorter, so the depth printed is an upper bound), and how
  many report pages no such path reaches; the same down the region tree alone (the home
  page, then pages under places/);
- the largest HTML page, and how many are over --limit-kb;
- the nodes of the region tree (places/) by kind: provinces, prefectures, counties,
  townships (by the shape of their codes), departments and places the gazetteer does not
  list, and the pages of the 未识别地区 list.
Exits 1 when a report is deeper than --max-clicks or unreachable, or a page is over the limit.
"""
from __future__ import annotations

import argparse
import posixpath
import re
import sys
from collections import Counter, deque
from pathlib import Path

HREF = re.compile(rb'href="([^"#?]*)')
REPORT = re.compile(r"reports/[^/]+/$")


def page_of(base: str, link: str) -> str | None:
    """The site path (folder URLs as "x/") a relative link of page `base` leads to."""
    if not link or re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("/"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(base), link))
    if target == ".":
        return ""
    if target.startswith(".."):
        return None
    return target + "/" if link.endswith("/") else target


def file_of(out: Path, url: str) -> Path:
    return out / (url + "index.html" if url == "" or url.endswith("/") else url)


def click_depths(out: Path, within: str = "") -> dict[str, int]:
    """Site path -> the fewest clicks from the home page (report pages are not expanded;
    with `within`, only the home page and the pages below that folder are)."""
    depth = {"": 0}
    todo = deque([""])
    while todo:
        url = todo.popleft()
        if REPORT.fullmatch(url) or url.startswith("search/") or (url and not url.startswith(within)):
            continue
        path = file_of(out, url)
        if path.suffix != ".html" or not path.is_file():
            continue
        for raw in HREF.findall(path.read_bytes()):
            target = page_of(url + ("index.html" if url == "" or url.endswith("/") else ""), raw.decode())
            if target is not None and target not in depth:
                depth[target] = depth[url] + 1
                todo.append(target)
    return depth


def tree_nodes(out: Path) -> Counter:
    kinds: Counter = Counter()
    places = out / "places"
    for index in places.rglob("index.html"):
        parts = index.parent.relative_to(places).parts
        if not parts:
            continue
        if parts[0] == "unknown":
            kinds["未识别地区 list pages" if len(parts) == 1 or parts[-1].isdigit() else "not in the gazetteer"] += 1
        elif len(parts) == 1:
            code = parts[0]
            level = 4 if len(code) == 9 else 1 if code.endswith("0000") else 2 if code.endswith("00") else 3
            kinds[("provinces", "prefectures", "counties", "townships")[level - 1]] += 1
        else:
            kinds["departments and unlisted places under a division"] += 1
    return kinds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--limit-kb", type=int, default=300)
    ap.add_argument("--max-clicks", type=int, default=6)
    args = ap.parse_args(argv)
    out = args.output
    reports = sorted(p.parent.relative_to(out).as_posix() + "/" for p in (out / "reports").glob("*/index.html"))
    depth = click_depths(out)
    reached = [depth[r] for r in reports if r in depth]
    missing = [r for r in reports if r not in depth]
    deepest = max(reports, key=lambda r: depth.get(r, -1)) if reached else None
    pages = [(p.stat().st_size, p.relative_to(out).as_posix()) for p in out.rglob("*.html")]
    largest = max(pages) if pages else (0, "")
    over = [p for p in pages if p[0] > args.limit_kb * 1024]
    tree = click_depths(out, "places/")  # down the region tree only
    by_tree = [tree[r] for r in reports if r in tree]
    tree_deepest = max(reports, key=lambda r: tree.get(r, -1)) if by_tree else None
    rows = [("reports", len(reports)), ("HTML pages", len(pages)),
            ("deepest click path to a report", f"{max(reached, default=0)} ({deepest})"),
            ("reports at each depth", " ".join(f"{d}:{n}" for d, n in sorted(Counter(reached).items()))),
            ("reports no path reaches", len(missing)),
            ("deepest path down the region tree only", f"{max(by_tree, default=0)} ({tree_deepest})"),
            ("reports at each depth, region tree only", " ".join(f"{d}:{n}" for d, n in sorted(Counter(by_tree).items()))),
            ("reports the region tree alone does not reach", sum(1 for r in reports if r not in tree)),
            ("largest HTML page (KB)", f"{largest[0] / 1024:.1f} ({largest[1]})"),
            (f"HTML pages over {args.limit_kb} KB", len(over))]
    rows += [(f"tree: {kind}", n) for kind, n in sorted(tree_nodes(out).items())]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    bad = missing or over or max(reached, default=0) > args.max_clicks or max(by_tree, default=0) > args.max_clicks
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
