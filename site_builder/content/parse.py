"""parse: Source -> Report. Finds the report in a captured page, cleans it, reads its fields.

The steps, each recorded as Changes against 1-based lines of the decoded source:
1. lines of the format (txt as is, html via htmlpage, md rendered to HTML without its front
   matter, a document format's paragraphs as its reader made them); a table is one entry,
   kept out of the line rules, cleaned cell by cell and placed back in the body (formats/tables);
2. repairs inside each line (clean.repair_line), whole-line chrome/aggregator/spam dropped;
3. header (before the first paragraph): metadata, issuer lines, title and its duplicates;
4. footer: 主送/抄送, signature block (issuer lines + date);
5. body -> preamble + sections; then year, place, dates, flags; then overrides.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

from . import clean, htmlpage, metadata as md
from . import formats
from .formats import markdown as markdown_format, tables
from ..model import FLAGS, OVERRIDE_KEYS, Change, Problem, Report, Source, Table
from .sections import BodyLine, build_sections, match_heading, split_run_on

LEVELS = ("镇", "乡", "街道", "县", "区", "市", "部门")

TITLE_WORDS = re.compile(r"报告|总结|汇报|情况|年报|工作要点")
TITLE_TOPIC = re.compile(r"法治|依法行政|法制")
TITLE_HEAD = re.compile(r"(?:关于|\d{4}\s*年度?|的|镇|乡|县|区|市|局|街道|政府|委员会)$|\d{4}\s*年")
ADDRESSEE_RE = re.compile(r"[^。，,；]{2,40}[:：]")
CC_RE = re.compile(r"(主送|抄送)\s*[:：]\s*(.*?)\s*[。.]?\s*(?=[，,；;\s]*(?:主送|抄送)\s*[:：]|$)")
DISCLOSURE_RE = re.compile(r"[(（]?\s*此件.{0,12}[)）]?|[(（]?\s*(?:主动公开|依申请公开|不予公开)\s*[)）]?")
INDEX_ONLY_RE = re.compile(r"[0-9A-Za-z]{5,}[-/]\d{4}[-/]\d{2,}")
PLACEHOLDER_RE = re.compile(r"(?<![A-Za-z])(?:XX|xx|ＸＸ|Ｘ|X(?=[名件人次个元万项起家镇乡村县区])|××|某某|20[xX]{2})(?![A-Za-z])")
MASKED_RE = re.compile(rf"\*{{2,}}(?=\s*[{clean.CJK}%])|\*(?=[年月日次件个人元万%名场余项起家户多])|\d\*+|\*+\d")
CUT_RE = re.compile(r"[(（【\[]\s*略\s*[)）】\]]|……略|以下略|此处略")
TEMPLATE_RE = re.compile(r"(?:XX|××|某某|X)(?:镇|乡|县|区|市|街道)|20[xX]{2}\s*年")
TRUNCATED_END = re.compile(r"[。！？!?”」』）)…]$|[。！？]”$")


@dataclass
class Item:
    line: int
    text: str
    reps: list = field(default_factory=list)
    orig: str = ""  # the line as in the source, shown as "before" when the line is dropped


def parse_source(source: Source) -> tuple[Report | None, tuple[Problem, ...]]:
    """Parse one source. Never raises: failures come back as error Problems."""
    try:
        return _parse(source)
    except Exception as exc:  # noqa: BLE001 - a bad file must not stop a build
        return None, (Problem(source.path, 1, f"cannot parse: {type(exc).__name__}: {exc}"),)


class _Run:
    """State of one parse: fields found so far and the changes made."""

    def __init__(self, source: Source):
        self.source = source
        self.changes: list[Change] = list(source.changes)  # a document reader's: page chrome
        self.problems: list[Problem] = []
        self.fields: dict[str, str] = {}
        self.issuers: list[str] = []
        self.items: list[Item] = []  # every line read, in order
        self.tables: list[tuple[int, Table]] = []  # (index in items of the line after it, table)

    def drop(self, item: Item, kind: str, original: str | None = None) -> None:
        self.changes.append(Change(item.line, kind, original if original is not None else item.orig, ""))

    def keep(self, item: Item) -> None:
        for kind, before, after in item.reps:
            self.changes.append(Change(item.line, kind, before, after))
        item.reps = []

    def set(self, name: str, value: str | None) -> None:
        if value and not self.fields.get(name):
            self.fields[name] = value

    def warn(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source.path, line, message, "warning"))


def _parse(source: Source) -> tuple[Report | None, tuple[Problem, ...]]:
    run = _Run(source)
    text = source.text
    if not text.strip():
        return None, (Problem(source.path, 1, "empty file"),)
    if _binary(text):
        return None, (Problem(source.path, 1, "not text: binary or corrupt content"),)
    overrides = dict(source.overrides)
    if source.format == "html":
        raw_lines, meta = htmlpage.extract(text)
        for key, value in meta.items():
            run.set(key, value)
    elif source.format == "md":
        raw_lines, front, front_lines = _front_matter(text, run)
        overrides = {**front, **overrides}
    elif source.format in formats.DOCUMENTS:
        raw_lines = formats.stream(source)
    else:
        raw_lines = list(enumerate(text.split("\n"), 1))

    items: list[Item] = run.items
    for no, line in tables.captioned(raw_lines):
        if isinstance(line, Table):  # kept whole, out of the line rules; placed in _report
            table, reps = tables.cleaned(line)
            run.changes.extend(Change(no, kind, before, after) for kind, before, after in reps)
            run.tables.append((len(items), table))
            continue
        fixed, reps = clean.repair_line(line, markup=source.format == "txt")
        fixed = fixed.strip()
        if fixed:
            parts = clean.split_export(fixed) or split_run_on(fixed)
            if len(parts) > 1:
                reps.append(("spacing", fixed, "\n".join(parts)))
            for part in parts:
                items.append(Item(no, part, reps, line.strip() if len(parts) == 1 else part))
                reps = []
    kept = _drop_lines(items, run)
    title, late, header_end = _header(kept, run)
    body = _footer(late + kept[header_end:], run)
    for item in body:
        _strip_spam(item, run)
        run.keep(item)
    if not any(re.search(f"[{clean.CJK}]", item.text) for item in body):
        return None, (*run.problems, Problem(source.path, 1, "no report text found"))
    return _report(source, run, title, body, overrides)


BINARY_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ue000-\uf8ff]")


def _binary(text: str) -> bool:
    sample = text[:4000]
    return len(BINARY_RE.findall(sample)) > max(8, len(sample) // 20)


# ---------------------------------------------------------------- lines
def _drop_lines(items: list[Item], run: _Run) -> list[Item]:
    kept = []
    for item in items:
        kind = clean.classify_line(item.text)
        if kind is None:
            kept.append(item)
            continue
        run.drop(item, kind)
        if kind == "aggregator" and (date := md.find_date(item.text)):
            run.set("aggregator_date", date)
    return kept


def _title_like(text: str) -> bool:
    return (
        len(text) <= 80
        and "。" not in text
        and TITLE_WORDS.search(text) is not None
        and (TITLE_TOPIC.search(text) is not None or re.search(r"\d{4}\s*年", text) is not None)
        and not text.endswith(("：", ":"))
        and match_heading(text) is None
    )


def _paragraph_like(text: str) -> bool:
    if _title_like(text) or md.parse_metadata_line(text, True) is not None or _values_only(text):
        return False
    return (
        len(text) > 60
        or re.search(r"[。；！？!?]", text) is not None
        or (len(text) > 20 and re.search(r"[，,]", text) is not None)
        or (len(text) > 10 and text.endswith(("：", ":")))
        or match_heading(text) is not None
        or _addressee(text) is not None
    )


def _addressee(text: str) -> str | None:
    if ADDRESSEE_RE.fullmatch(text) and re.search(r"委|政府|人大|局|办|领导|各|同志|书记", text):
        return text.rstrip(":： ")
    return None


def _header(kept: list[Item], run: _Run) -> tuple[str | None, list[Item], int]:
    """Read the lines before the first paragraph.

    Returns (title, unknown lines after the title kept for the body, index of the body start).
    """
    end = next((i for i, item in enumerate(kept) if _paragraph_like(item.text)), len(kept))
    titles: list[tuple[Item, str]] = []
    late: list[Item] = []
    i = 0
    while i < end:
        item = kept[i]
        text = item.text
        nxt = kept[i + 1].text if i + 1 < end else ""
        fields = md.parse_metadata_line(text, True)
        label = md.label_only(text)
        after = kept[i + 2].text if i + 2 < end else ""
        if label and nxt and not md.label_only(nxt) and len(nxt) <= 60 and not _title_like(nxt) \
                and not (TITLE_HEAD.search(nxt) and _title_like(nxt + after) and not md.split_issuers(nxt)):
            _take_field(run, label, nxt)
            run.drop(item, "metadata")
            run.drop(kept[i + 1], "metadata")
            i += 2
            continue
        if fields is not None:
            for name, value in fields.items():
                _take_field(run, name, value)
            run.drop(item, "metadata")
        elif nxt and _title_like(nxt) and TITLE_HEAD.search(text) and not md.split_issuers(text) \
                and len(text) <= 40 and not _title_like(text) and not re.search(r"[，,。：:]", text):
            titles.append((item, text + nxt))  # 「X镇关于2025年度」+「法治政府建设工作的报告」
            run.drop(kept[i + 1], "duplicate-title")
            i += 2
            continue
        elif _title_like(text):
            joined = text + nxt
            if nxt and not TITLE_WORDS.search(text[-4:]) and _title_like(joined) and len(nxt) <= 30 \
                    and TITLE_WORDS.search(nxt[-4:]):
                titles.append((item, joined))
                run.drop(kept[i + 1], "duplicate-title")
                i += 2
                continue
            titles.append((item, text))
        elif nxt and _title_like(text + nxt) and not _title_like(nxt) and not md.split_issuers(text):
            titles.append((item, text + nxt))  # a title split over two lines
            run.drop(kept[i + 1], "duplicate-title")
            i += 2
            continue
        elif _values_only(text, run):
            run.drop(item, "metadata")
        elif names := md.split_issuers(text):
            run.issuers.extend(n for n in names if n not in run.issuers)
            run.drop(item, "metadata")
        elif INDEX_ONLY_RE.fullmatch(text):
            run.set("index_no", text)
            run.drop(item, "metadata")
        elif md.is_date_line(text):
            # A web-style date alone in the header is the page's date; 「（2024年3月1日）」
            # under a title is the date the document was written.
            run.set("date_line" if "年" not in text else "written", md.find_date(text))
            run.drop(item, "metadata")
        elif titles:
            late.append(item)  # after the title: a subtitle or a line of the report
        else:
            run.drop(item, "chrome")
        i += 1
    title = None
    meta_title = run.fields.get("title")
    if meta_title:
        title = clean.strip_spam(clean.repair_line(meta_title)[0].strip())
    # A column name (「法治政府建设年度报告」) can precede the title: prefer one with a year.
    best = next((k for k, (_, text) in enumerate(titles) if re.search(r"\d{4}", text)), 0)
    titles = titles[best:best + 1] + titles[:best] + titles[best + 1:]
    for k, (item, text) in enumerate(titles):
        if title is None and k == 0:
            title = text
            if text.startswith("关于") and run.issuers and not meta_title:
                text = " ".join(run.issuers) + text  # 「中共X镇委员会 X镇人民政府关于…的报告」
            _strip_spam(item, run)
            title = clean.strip_spam(text)
            run.keep(item)
            run.changes.append(Change(item.line, "metadata", item.orig, ""))
        else:
            run.drop(item, "duplicate-title")
    # A title repeated as the first body line.
    while end < len(kept) and title and _same_title(kept[end].text, title):
        run.drop(kept[end], "duplicate-title")
        end += 1
    if title is None and run.fields.get("page_title"):
        # <title>「X镇2023年法治政府建设年度报告_X县人民政府」: the part that is a title.
        parts = re.split(r"\s*[_|｜]\s*|\s+-\s+", run.fields["page_title"])
        fixed = [clean.strip_spam(clean.repair_line(p)[0]) for p in parts]
        title = next((p for p in fixed if _title_like(p)), None)
    if title:
        title = re.sub(r"\s+", " ", title).strip("《》 ")
        m = re.match(r"(.*?)关于", title)
        if m and (names := md.split_issuers(m[1])):
            run.issuers.extend(n for n in names if n not in run.issuers)
            title = " ".join(names) + title[len(m[1]) :]
    return title or None, late, end


VALUE_CELLS = re.compile(r"\s{2,}|\t|[|｜]")


def _values_only(text: str, run: _Run | None = None) -> bool:
    """A metadata table row with values and no labels: 「6167…X/2025-33095    司法    2025-01-21 …」."""
    cells = [c.strip() for c in VALUE_CELLS.split(text) if c.strip()]
    if len(cells) < 3 or any(len(c) > 30 for c in cells):
        return False
    index = next((c for c in cells if INDEX_ONLY_RE.fullmatch(c)), None)
    if not index and not any(md.is_date_line(c) for c in cells):
        return False
    if run:
        run.set("index_no", index)
        run.set("row_date", next((md.find_date(c) for c in cells if md.is_date_line(c)), None))
        run.set("publisher", next((c for c in cells if md.split_issuers(c)), None))
    return True


def _same_title(text: str, title: str) -> bool:
    return _title_like(text) and (text == title or text in title or title in text
                                  or _similar(text, title))


def _similar(a: str, b: str) -> bool:
    sa, sb = set(a), set(b)
    return len(sa & sb) >= 0.7 * max(len(sa), len(sb))


def _take_field(run: _Run, name: str, value: str) -> None:
    if name in ("published", "written", "issued"):
        run.set(name, md.find_date(value))
    elif not name.startswith("_"):
        run.set(name, value.strip())


def _strip_spam(item: Item, run: _Run) -> None:
    cleaned = clean.strip_spam(item.text)
    if cleaned != item.text:
        item.reps.append(("spam", item.text, cleaned))
        item.text = cleaned


def _footer(body: list[Item], run: _Run) -> list[Item]:
    """Take 主送/抄送, disclosure notes, trailing metadata and the signature off the end."""
    body = list(body)
    # Everything after the last paragraph-like line is footer.
    last = next((i for i in range(len(body) - 1, -1, -1) if _paragraph_like(body[i].text)), -1)
    tail = body[last + 1 :]
    body = body[: last + 1]
    for item in tail:
        _footer_line(item, run, body)
    # 主送/抄送 written as paragraphs, and a signature ending the text.
    while body and (CC_RE.match(body[-1].text) or DISCLOSURE_RE.fullmatch(body[-1].text)):
        _footer_line(body.pop(), run, [])
    _signature(body, run)
    return body


def _footer_line(item: Item, run: _Run, body: list[Item]) -> None:
    text = item.text
    if CC_RE.match(text):
        for m in CC_RE.finditer(text):
            run.set("addressee" if m[1] == "主送" else "cc", m[2].strip("，,。. "))
        run.drop(item, "metadata")
    elif DISCLOSURE_RE.fullmatch(text):
        run.drop(item, "metadata")
    elif (fields := md.parse_metadata_line(text, True)) is not None:
        for name, value in fields.items():
            _take_field(run, name, value)
        run.drop(item, "metadata")
    elif (md.split_issuers(text) or SIGNATURE_DATE.fullmatch(text) or KEEP_AT_END.match(text)
          or len(text) > 40):
        body.append(item)
    else:
        run.drop(item, "chrome")  # page footer after the report: links, site names, counters


KEEP_AT_END = re.compile(r"附件|附表|特此报告|特此汇报|[（(]?\d{1,2}[.、．)）]|联系人|[（(]?此")


SIGNATURE_DATE = re.compile(rf"(.*?)\s*[(（]?\s*((?:{md.DATE_RE.pattern}))\s*[)）]?")


def _signature(body: list[Item], run: _Run) -> None:
    """Issuer lines and a date at the very end of the body."""
    for k in range(len(body) - 1, max(-1, len(body) - 4), -1):
        text = body[k].text
        m = SIGNATURE_DATE.fullmatch(text)
        if not m or not md.find_date(m[2]):
            continue
        if m[1] and not md.split_issuers(m[1]):
            return
        names = md.split_issuers(m[1]) if m[1] else []
        start = k
        while start > 0 and (found := md.split_issuers(body[start - 1].text)):
            names = found + names
            start -= 1
        run.set("signed", md.find_date(m[2]))
        for name in names:
            if name not in run.issuers:
                run.issuers.append(name)
        for item in body[start:]:
            run.drop(item, "signature")
        del body[start:]
        return


# ---------------------------------------------------------------- front matter
def _front_matter(text: str, run: _Run) -> tuple[list[tuple[int, str]], dict[str, str], dict[str, int]]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return markdown_format.lines(lines, 1), {}, {}
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        run.problems.append(Problem(run.source.path, 1, "front matter is not closed by ---", "warning"))
        return markdown_format.lines(lines, 1), {}, {}
    block = "\n".join(lines[1:end])
    values: dict[str, str] = {}
    where: dict[str, int] = {}
    try:
        data = tomllib.loads(block)
        for key, value in data.items():
            values[key] = str(value) if not isinstance(value, list) else "、".join(map(str, value))
    except tomllib.TOMLDecodeError:
        for i, row in enumerate(lines[1:end], 2):
            key, sep, value = row.partition(":")
            if sep and key.strip():
                values[key.strip()] = value.strip().strip("\"'")
    for i, row in enumerate(lines[1:end], 2):
        key = re.split(r"[:=]", row, maxsplit=1)[0].strip()
        if key in values:
            where.setdefault(key, i)
    unknown = sorted(set(values) - set(OVERRIDE_KEYS))
    for key in unknown:
        run.warn(where.get(key, 1), f"unknown front matter field {key!r}")
        del values[key]
    run.fields["_front_lines"] = where  # type: ignore[assignment]
    return markdown_format.lines(lines[end + 1 :], end + 2), values, where


# ---------------------------------------------------------------- report
def _report(source: Source, run: _Run, title: str | None, body: list[Item], overrides: dict[str, str]):
    f = run.fields
    placed = tables.body_lines(body, run.items, run.tables, BodyLine)  # the lines and the tables
    body_lines = [b for b in placed if b.table is None]
    preamble_probe = [b.text for b in body_lines[:4]]
    if overrides.get("title"):
        title = str(overrides["title"]).strip()
    year = md.year_from_title(title) if title else None
    first_heading = next((b.text for b in body_lines if match_heading(b.text)), "")
    if year is None:
        year = md.year_from_text(preamble_probe + [first_heading])
    published = (f.get("published") or f.get("issued") or f.get("aggregator_date") or f.get("date_line")
                 or f.get("row_date"))
    written = f.get("written") or f.get("issued")
    template = bool(title and TEMPLATE_RE.search(title))
    if year is None and published and not template:
        year = int(published[:4]) - 1
        run.warn(body[0].line, f"report year not stated; assumed {year} from the publication date")
    preamble, sections, covered, placed_tables = build_sections(placed, year)

    place, region = (None, None) if template else _place(title, run, preamble_probe, body_lines)
    level = md.level_of(place)
    issuers = tuple(run.issuers) or md.derived_issuer(place, level, "\n".join(b.text for b in body_lines))

    if not title:
        title_derived = True
        title = f"{place or ''}{year or ''}{'年' if year else ''}法治政府建设年度报告"
    else:
        title_derived = False
    addressee = f.get("addressee") or next((a for t in preamble[:2] if (a := _addressee(t))), None)

    values = {
        "title": title, "place": place, "region": region, "level": level, "year": year,
        "published": published, "written": written, "issuer": issuers, "publisher": f.get("publisher"),
        "id": None,
    }
    _apply_overrides(values, overrides, run)
    if "title" not in overrides and title_derived and (values["place"], values["year"]) != (place, year):
        y = values["year"]
        values["title"] = f"{values['place'] or ''}{y or ''}{'年' if y else ''}法治政府建设年度报告"
    if "title" in overrides:
        title_derived = False
    issuer_derived = bool(values["issuer"]) and not run.issuers and "issuer" not in overrides
    if values["year"] is None:
        run.warn(1, "report year unknown")
    if values["place"] is None:
        run.warn(1, "place unknown")

    text = "\n".join(b.text for b in placed)  # with the tables' cells: the search text sees them
    flags = _flags(text, covered, run, values, sections, body)
    trad = clean.count_traditional(source.text)
    cjk = clean.count_cjk(source.text) or 1
    report = Report(
        source=source.path, format=source.format, encoding=source.encoding, sha256=source.sha256,
        script="traditional" if trad / cjk > 0.05 else "simplified",
        title=values["title"], title_derived=title_derived, place=values["place"], level=values["level"],
        issuer=tuple(values["issuer"]), issuer_derived=issuer_derived, publisher=values["publisher"],
        region=values["region"], year=values["year"],
        published=values["published"], written=values["written"], signed=f.get("signed"),
        index_no=f.get("index_no"), doc_no=f.get("doc_no"), source_name=f.get("source"),
        addressee=addressee, cc=f.get("cc"), preamble="\n".join(preamble), sections=sections, text=text,
        changes=tuple(sorted(run.changes, key=lambda c: c.line)), flags=flags, slug=values["id"],
        tables=placed_tables, pages=source.pages,
        extracted_text=source.text if source.format in formats.DOCUMENTS else "",
    )
    return report, tuple(run.problems)


def _place(title, run: _Run, opening: list[str], body_lines: list[BodyLine]) -> tuple[str | None, str | None]:
    """Place and region: from the title, the issuers, the opening, the text, then the metadata."""
    f = run.fields
    body = [b.text for b in body_lines]
    finders = (
        lambda: md.place_from_title(title) if title else (None, None),
        lambda: next((found for n in run.issuers if (found := md.place_in(n))[0]), (None, None)),
        lambda: md.place_from_preamble(opening),
        lambda: md.place_by_frequency(opening, body),
        lambda: next((found for k in ("publisher", "source") if f.get(k) and (found := md.place_in(f[k]))[0]),
                     (None, None)),
    )
    for finder in finders:
        place, region = finder()
        if place:
            break
    else:
        return None, None
    if not region:
        texts = [title or "", f.get("publisher", ""), f.get("source", ""), *run.issuers, *opening, *body]
        place, region = md.region_in_text(place, texts)
    return place, region


def _apply_overrides(values: dict, overrides: dict[str, str], run: _Run) -> None:
    source = run.source
    lines = dict(source.override_lines)
    front = run.fields.get("_front_lines") or {}
    sidecar = re.sub(r"\.[^./]+$", "", source.path) + ".meta.toml"

    def bad(key: str, message: str) -> None:
        if key in lines:
            run.problems.append(Problem(sidecar, lines[key], message))
        else:
            run.problems.append(Problem(source.path, front.get(key, 1), message))

    for key, value in sorted(overrides.items()):
        value = str(value).strip()
        if key not in OVERRIDE_KEYS:
            bad(key, f"unknown override field {key!r}")
        elif key == "year":
            if re.fullmatch(r"\d{4}", value) and 1990 <= int(value) <= 2100:
                values["year"] = int(value)
            else:
                bad(key, f"invalid year {value!r} (expected 1990..2100)")
        elif key in ("published", "written"):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and md.find_date(value) == value:
                values[key] = value
            else:
                bad(key, f"invalid date {value!r} for {key} (expected YYYY-MM-DD)")
        elif key == "level":
            if value in LEVELS:
                values["level"] = value
            else:
                bad(key, f"invalid level {value!r} (expected one of {'/'.join(LEVELS)})")
        elif key == "issuer":
            values["issuer"] = tuple(p for p in re.split(r"[、,，;；]+", value) if p)
        elif key == "place":
            values["place"] = value
            if "level" not in overrides:
                values["level"] = md.level_of(value)
        elif value:
            values[key] = value


def _truncated(body, sections, run: _Run) -> bool:
    """The text stops mid-sentence, or on a heading with nothing under it."""
    if run.fields.get("signed") or not body:
        return False
    if sections and not sections[-1].text and body[-1].line == sections[-1].line:
        return True
    last = sections[-1].text.split("\n")[-1] if sections and sections[-1].text else body[-1].text
    return TRUNCATED_END.search(last) is None and match_heading(last) is None


def _flags(text: str, covered: list[int], run: _Run, values: dict, sections, body) -> tuple[str, ...]:
    flags = [f"missing-part-{n}" for n in (1, 2, 3, 4) if n not in covered]
    if PLACEHOLDER_RE.search(text) or PLACEHOLDER_RE.search(values["title"] or ""):
        flags.append("placeholder")
    if MASKED_RE.search(text) or MASKED_RE.search(values["title"] or ""):
        flags.append("masked-digits")
    if CUT_RE.search(text):
        flags.append("cut")
    if any(c.kind == "spam" for c in run.changes):
        flags.append("spam-removed")
    if _truncated(body, sections, run):
        flags.append("truncated")
    if TEMPLATE_RE.search(values["title"] or "") or TEMPLATE_RE.search(text[:300]) \
            or len(PLACEHOLDER_RE.findall(text)) >= 20:
        flags.append("template")
    year, published = values["year"], values["published"]
    if year and published and published > f"{year + 1}-04-01":
        flags.append("late")
    return tuple(f for f in FLAGS if f in flags)
