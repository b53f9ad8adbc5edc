"""`site-builder search QUERY`: search the Whoosh index of a build from the command line.

The index is found from the same --content/--output/--config options as `build`: it lives
in the build's state folder (build.search_index_dir), outside the output.
"""
from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

from ..model import PARTS
from .query import MAX_QUERY_TERMS


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="+", metavar="QUERY",
                        help="words to find (simplified or traditional); every word must match")
    parser.add_argument("--year", help="only reports of this year")
    parser.add_argument("--place", help="only reports of this place (exact name, e.g. 演陂镇)")
    parser.add_argument("--level", help="only reports of this level (镇/乡/街道/县/区/市/部门)")
    parser.add_argument("--part", type=int, choices=sorted(PARTS), metavar="N",
                        help="match only inside mandated part N: " +
                             "; ".join(f"{n} {name}" for n, name in sorted(PARTS.items())))
    parser.add_argument("--limit", type=int, default=10, metavar="N", help="results to show (default 10)")
    parser.add_argument("--all", action="store_true", help="show every match")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON array of {id, url, title, place, year, score, snippet}")


def run_search(args: argparse.Namespace) -> int:
    from . import whoosh_index as search_index  # Whoosh: loaded by the commands that search only
    from ..config import load_config
    from ..state import WHOOSH, state_dir

    config, problems = load_config(args.config, args.content)
    for problem in problems:
        print(problem, file=sys.stderr)
    index_dir = state_dir(Path(args.output)) / WHOOSH
    if not (index_dir / "site-builder-schema").exists():
        print(f"{args.output}: no search index (looked in {index_dir}); run `site-builder build` first",
              file=sys.stderr)
        return 2
    if args.limit < 0:
        print("--limit must be 0 or more", file=sys.stderr)
        return 2
    query = " ".join(args.query)
    filters = {"year": args.year, "place": args.place, "level": args.level}
    try:
        problems = [p for name, value in filters.items() if value
                    for p in _unknown(name, value.strip(), search_index.filter_values(index_dir, name))]
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            return 2
        results = search_index.search(index_dir, query, filters=filters, part=args.part,
                                      limit=None if args.all else args.limit)
    except Exception as exc:  # noqa: BLE001 - a damaged index: say so, never a traceback
        print(f"{index_dir}: cannot read the search index ({type(exc).__name__}: {exc}); rebuild",
              file=sys.stderr)
        return 2
    prefix = config.base_url.rstrip("/") + config.root if config.base_url else config.root
    if results.dropped:
        print(f"only the first {MAX_QUERY_TERMS} terms are searched; left out: {' '.join(results.dropped)}",
              file=sys.stderr)
    if args.json:
        rows = [{
            "id": h.id, "url": prefix + h.url, "title": h.title, "place": h.place or None,
            "year": int(h.year) if h.year.isdigit() else None, "score": h.score,
            "snippet": h.snippet_html(),
        } for h in results.hits]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not results.clauses:
        print("nothing to search for: type Chinese characters, digits or letters", file=sys.stderr)
        return 2
    shown = len(results.hits)
    print(f"{results.total} reports match" + (f", showing {shown}" if shown < results.total else ""))
    for n, hit in enumerate(results.hits, 1):
        facts = " · ".join(x for x in (hit.place, f"{hit.year}年" if hit.year else "", hit.level) if x)
        title = "".join(f"【{t}】" if m else t for t, m in hit.title_snippet) or hit.title
        print(f"\n{n}. {title}  [{facts}]  score {hit.titles}/{hit.score:g}")
        print(f"   {prefix}{hit.url}")
        script = "（原文繁体）" if hit.script == "original" else "（简体，原文为繁体）" if hit.original_script == "traditional" else ""
        print(f"   {hit.snippet_text()}{script}")
    return 0


_OPTION_NAMES = {"year": "年度", "place": "地区或部门", "level": "层级"}


def _unknown(name: str, value: str, known: list[str]) -> list[str]:
    """Why filter `name`'s `value` can match nothing, with the nearest values the index
    has: a mistyped filter would otherwise just find no report."""
    if value in known:
        return []
    if name == "year" and not (value.isdigit() and len(value) == 4):
        return [f"--year {value}: 年度应为四位数字，如 2023"]
    near = [v for v in known if value in v or v in value][:5] or difflib.get_close_matches(value, known, n=5, cutoff=0.5)
    hint = f"；相近的有：{'、'.join(near)}" if near else (f"；可选：{'、'.join(known[:10])}" if known else "")
    return [f"--{name} {value}: 检索索引中没有{_OPTION_NAMES[name]}为“{value}”的报告{hint}"]
