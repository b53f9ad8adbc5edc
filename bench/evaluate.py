"""Score the parser against ground truth: a generated archive, or a folder of real layouts.

    python bench/evaluate.py [--count N] [--seed S] [--keep DIR] [--show K]
    python bench/evaluate.py --folder DIR [--show K]

Without --folder: generates N reports with bench/generate.py (into a temporary folder unless
--keep), reads each file with site_builder.content.read.load_source, parses it with
site_builder.content.parse.parse_source and prints, as markdown tables, the share of reports
whose place, level, year, title, published date, spam flag, script and mandated parts
match the truth, overall and per damage class.

With --folder: DIR holds raw/NNN.txt and truth.jsonl in the layout-twin format (file, title,
place, report_year, published, index_no, noise, first_section_heading, template_like, …).
Each file is parsed the same way and scored by the rules of that format: year exact; place
equal to or ending with the truth after normalisation; title equal after normalisation;
published exact (not counted for template-like pages); no date where the page shows none;
索引号 equal after normalisation; every noise string of 4+ characters gone from the text;
the first top-level heading among the sections. Prints right/counted and the target per
measure; exits 1 if a measure is under its target.

--show K prints K failures per field (or measure).
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate  # noqa: E402  (bench/generate.py)
from site_builder.content.read import load_source  # noqa: E402
from site_builder.content.parse import parse_source  # noqa: E402

FIELDS = ("parsed", "place", "code", "level", "year", "title", "title~", "derived", "published", "publisher", "topic",
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
        # A department's place is its county or city (the truth names the department).
        "place": report.place == truth["place"] or (
            truth["level"] == "部门" and bool(report.place) and truth["place"].startswith(report.place)
            and any(truth["place"] == name for name in report.issuer)),
        # The gazetteer's division (a department's: its county's or city's): same-name places told apart.
        "code": report.place_code == truth["code"] if truth.get("code") else None,
        "level": report.level == truth["level"],
        "year": report.year == truth["year"],
        "title": None if derived else re.sub(r"\s+", "", report.title) == re.sub(r"\s+", "", truth["title"]),
        "title~": None if derived else loose(report.title) == loose(truth["title"]),
        "derived": report.title_derived == derived,
        "published": report.published == truth["published"],
        "publisher": report.publisher == truth["publisher"] if "publisher" in truth else None,
        "topic": report.topic == truth["topic"] if "topic" in truth else None,
        "spam": ("spam-removed" in report.flags) == truth["has_spam"],
        "script": report.script == truth["script"],
        "parts": found == truth["parts"],
        "parts1-4": [p for p in found if p < 5] == [p for p in truth["parts"] if p < 5],
    }


def got(field: str, truth: dict, report) -> str:
    if report is None:
        return "(not parsed)"
    value = {"place": report.place, "code": report.place_code, "level": report.level, "year": report.year, "title": report.title,
             "title~": report.title, "derived": report.title_derived, "published": report.published,
             "topic": report.topic,
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


# ---------------------------------------------------------------- folders of layout twins
# The targets on real pages.
TARGETS = {"year": 0.98, "place": 0.95, "title": 0.90, "published": 0.95, "index_no": 0.95,
           "noise_removed": 0.95, "first_heading": 0.95, "no_invented_date": 0.95}
_NORM_DROP = re.compile(r"[\s\u3000·:：,，。、\"“”《》()（）\[\]【】<>]")
_GLOSS = re.compile(r"\([a-zA-Z\u00c0-\u024f\u01cd-\u01dc]+\)")


def norm(text: str | None) -> str:
    """NFKC, then no whitespace and none of the punctuation the format ignores."""
    return _NORM_DROP.sub("", unicodedata.normalize("NFKC", text or ""))


def _t2s(text: str) -> str:
    from site_builder.content.clean import to_simplified

    return to_simplified(text)


def score_twin(truth: dict, out: dict) -> list[tuple[str, bool, object, object]]:
    """(measure, right, got, want) for every measure that counts for this file."""
    results = []
    template = bool(truth.get("template_like"))
    if truth.get("report_year"):
        results.append(("year", out.get("year") == truth["report_year"], out.get("year"), truth["report_year"]))
    if truth.get("place"):
        got, want = norm(_t2s(out.get("place") or "")), norm(truth["place"])
        results.append(("place", bool(got) and got.endswith(want), out.get("place"), truth["place"]))
    if truth.get("title"):
        ok = norm(_t2s(out.get("title") or "")) == norm(truth["title"])
        results.append(("title", ok, out.get("title"), truth["title"]))
    if not template and truth.get("published"):
        results.append(("published", out.get("published") == truth["published"], out.get("published"),
                        truth["published"]))
    elif not template and "published" in truth:
        results.append(("no_invented_date", not out.get("published"), out.get("published"), None))
    if truth.get("index_no"):
        ok = norm(out.get("index_no")) == norm(truth["index_no"])
        results.append(("index_no", ok, out.get("index_no"), truth["index_no"]))
    text = out.get("text") or ""
    for noise in truth.get("noise") or []:
        piece = noise.strip()
        if len(piece) >= 4:
            gone = piece not in text and _t2s(piece).strip() not in text
            results.append(("noise_removed", gone, noise, "removed"))
    if truth.get("first_section_heading"):
        want = norm(_t2s(_GLOSS.sub("", truth["first_section_heading"])))
        heads = [norm(_t2s(s.get("heading") or "")) for s in out.get("sections") or []]
        ok = any(h and (h == want or want.endswith(h) or h.endswith(want[2:])) for h in heads)
        results.append(("first_heading", ok, heads[:2], truth["first_section_heading"]))
    return results


def evaluate_folder(folder: Path, show: int = 0) -> tuple[str, bool]:
    """(printed table, every measure at or above its target) for a folder of layout twins."""
    rows = [json.loads(line) for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    tally: dict[str, list[int]] = {name: [0, 0] for name in TARGETS}
    failures: dict[str, list[str]] = collections.defaultdict(list)
    elapsed = 0.0
    for truth in rows:
        source, _ = load_source(folder / "raw" / truth["file"], truth["file"])
        start = time.perf_counter()
        report = parse_source(source)[0] if source else None
        elapsed += time.perf_counter() - start
        out = report.to_json() if report is not None else {}
        for name, ok, got_value, want in score_twin(truth, out):
            tally[name][1] += 1
            tally[name][0] += ok
            if not ok:
                failures[name].append(f"{truth['file']}: got {got_value!r}, want {want!r}")
    lines = ["| measure | right | counted | % | target |", "|---|---|---|---|---|"]
    good = True
    for name, (right, counted) in tally.items():
        share = right / counted if counted else 1.0
        good = good and share >= TARGETS[name]
        lines.append(f"| {name} | {right} | {counted} | {100 * share:.1f} | {100 * TARGETS[name]:.0f} |")
    lines.append("")
    lines.append(f"parse time: {1000 * elapsed / max(1, len(rows)):.2f} ms per page ({len(rows)} pages)")
    for name, items in failures.items():
        if show:
            lines += ["", f"failures: {name}", *("  " + item[:200] for item in items[:show])]
    return "\n".join(lines), good


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    ap.add_argument("--folder", type=Path, help="score a folder of raw/ pages with a truth.jsonl")
    ap.add_argument("--show", type=int, default=0, help="print this many failures per field")
    args = ap.parse_args(argv)
    if args.folder:
        table, good = evaluate_folder(args.folder, args.show)
        print(f"Parser on {args.folder} (% of counted)\n")
        print(table)
        return 0 if good else 1
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
