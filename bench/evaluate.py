"""Score the parser against the generator's ground truth.

    python bench/evaluate.py [--count N] [--seed S] [--keep DIR] [--show K]

Generates N reports with bench/generate.py (into a temporary folder unless --keep),
reads each file with site_builder.content.read.load_source, parses it with
site_builder.content.parse.parse_source and prints, as markdown tables, the share of reports
whose place, level, year, title, published date, spam flag, script and mandated parts
match the truth, overall and per damage class. --show K prints K failures per field.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402  (bench/generate.py)
from site_builder.content.read import load_source  # noqa: E402
from site_builder.content.parse import parse_source  # noqa: E402

FIELDS = ("parsed", "place", "level", "year", "title", "title~", "derived", "published", "publisher",
          "spam", "script", "parts", "parts1-4")


def loose(title: str) -> str:
    """A title without spaces, 关于 and 年度/年 differences."""
    return re.sub(r"\s+|关于|的", "", title).replace("年度", "年")


def detected_parts(report) -> list[int]:
    """Parts the parser found: 1-4 from its missing-part flags (they cover merged
    headings), 5 from its sections."""
    parts = [p for p in (1, 2, 3, 4) if f"missing-part-{p}" not in report.flags]
    if any(s.part == 5 for s in report.sections):
        parts.append(5)
    return parts


def score(truth: dict, report) -> dict[str, bool | None]:
    """Field -> correct (None: not applicable to this report)."""
    if report is None:
        return {"parsed": False, **{f: False for f in FIELDS[1:]}}
    derived = truth["title_derived"]
    found = detected_parts(report)
    return {
        "parsed": True,
        "place": report.place == truth["place"],
        "level": report.level == truth["level"],
        "year": report.year == truth["year"],
        "title": None if derived else re.sub(r"\s+", "", report.title) == re.sub(r"\s+", "", truth["title"]),
        "title~": None if derived else loose(report.title) == loose(truth["title"]),
        "derived": report.title_derived == derived,
        "published": report.published == truth["published"],
        "publisher": report.publisher == truth["publisher"] if "publisher" in truth else None,
        "spam": ("spam-removed" in report.flags) == truth["has_spam"],
        "script": report.script == truth["script"],
        "parts": found == truth["parts"],
        "parts1-4": [p for p in found if p < 5] == [p for p in truth["parts"] if p < 5],
    }


def got(field: str, truth: dict, report) -> str:
    if report is None:
        return "(not parsed)"
    value = {"place": report.place, "level": report.level, "year": report.year, "title": report.title,
             "title~": report.title, "derived": report.title_derived, "published": report.published,
             "spam": "spam-removed" in report.flags, "script": report.script,
             "parts": detected_parts(report), "parts1-4": detected_parts(report)}.get(field)
    want = {"title~": truth["title"], "derived": truth["title_derived"], "spam": truth["has_spam"],
            "parts1-4": truth["parts"]}.get(field, truth.get(field))
    return f"got {value!r}, want {want!r}"


def table(rows: list[tuple[str, dict[str, list[bool]]]]) -> str:
    head = "| group | n | " + " | ".join(FIELDS) + " |"
    out = [head, "|" + "---|" * (len(FIELDS) + 2)]
    for name, results in rows:
        n = max((len(v) for v in results.values()), default=0)
        cells = []
        for f in FIELDS:
            values = results.get(f, [])
            cells.append(f"{100 * sum(values) / len(values):.1f}" if values else "–")
        out.append(f"| {name} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def evaluate(content: Path, truth_rows: list[dict], show: int = 0) -> str:
    by_class: dict[str, dict[str, list[bool]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    failures: dict[str, list[str]] = collections.defaultdict(list)
    elapsed = 0.0
    for truth in truth_rows:
        source, _ = load_source(content / truth["file"], truth["file"])
        start = time.perf_counter()
        report = parse_source(source)[0] if source else None
        elapsed += time.perf_counter() - start
        classes = ["all", *truth["noise"], "fmt:" + truth["format"], "enc:" + truth["encoding"]]
        if truth["script"] == "traditional":
            classes.append("traditional")
        if truth["has_spam"]:
            classes.append("spam")
        if not truth["noise"]:
            classes.append("clean")
        for field, ok in score(truth, report).items():
            if ok is None:
                continue
            for c in classes:
                by_class[c][field].append(ok)
            if not ok and len(failures[field]) < show:
                failures[field].append(f"{truth['file']}: {got(field, truth, report)}")
    order = ["all", "clean"] + sorted(c for c in by_class if c not in ("all", "clean"))
    lines = [table([(c, by_class[c]) for c in order if c in by_class]), "",
             f"parse time: {1000 * elapsed / max(1, len(truth_rows)):.2f} ms per report "
             f"({len(truth_rows)} reports, load excluded)"]
    for field, items in failures.items():
        lines += ["", f"failures: {field}", *("  " + item for item in items)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--show", type=int, default=0, help="print this many failures per field")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        content, truth_path = base / "content", base / "truth.jsonl"
        generate.generate(content, args.count, args.seed, truth_path)
        rows = [json.loads(line) for line in truth_path.read_text(encoding="utf-8").splitlines()]
        print(f"Parser accuracy (% of reports), N={args.count}, seed={args.seed}\n")
        print(evaluate(content, rows, args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
