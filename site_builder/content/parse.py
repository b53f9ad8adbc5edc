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
from ..gazetteer import MUNICIPALITIES, gazetteer
from ..model import FLAGS, OVERRIDE_KEYS, Change, Problem, Report, Source, Table
from .sections import BodyLine, build_sections, match_heading, parts_of, split_run_on

LEVELS = ("镇", "乡", "街道", "县", "区", "市", "部门")

TITLE_WORDS = re.compile(r"报告|总结|汇报|情况|年报|工作要点")
TITLE_TOPIC = re.compile(r"法治|依法行政|法制")
TITLE_HEAD = re.compile(r"(?:关于|\d{4} ?年度?|的|镇|乡|县|区|市|局|街道|政府|委员会)$|\d{4} ?年")
ADDRESSEE_RE = re.compile(r"[^。；:：]{2,60}[:：]")
CC_LABEL = re.compile(r"(主送|抄送)[ \u3000]{0,3}[:：]")
DISCLOSURE_RE = re.compile(r"[(（]? {0,3}此件.{0,12}[)）]?|[(（]? {0,3}(?:主动公开|依申请公开|不予公开) {0,3}[)）]?")
INDEX_ONLY_RE = re.compile(r"[0-9A-Za-z]{3,40}(?:[-/][0-9A-Za-z]{2,20}){1,5}")  # 索引号 shapes; not a date
PLACEHOLDER_RE = re.compile(r"(?<![A-Za-z])(?:XX|xx|ＸＸ|Ｘ|X(?=[名件人次个元万项起家镇乡村县区])|××|某某|20[xX]{2})(?![A-Za-z])")
MASKED_YEAR_RE = re.compile(r"(?<!\*)\*{2,4} ?年")  # 「****年」: a year an aggregator masked, unknown
# Each alternative starts where a run of stars starts: a run is tried once, not from each star.
MASKED_RE = re.compile(rf"(?<!\*)\*{{2,}}+(?= ?[{clean.CJK}%])|(?<!\*)\*(?=[年月日次件个人元万%名场余项起家户多])"
                       r"|\d\*|(?<!\*)\*++\d")
CUT_RE = re.compile(r"[(（【\[] {0,2}略 {0,2}[)）】\]]|……略|以下略|此处略")
TEMPLATE_RE = re.compile(r"(?:XX|××|某某|X)(?:镇|乡|县|区|市|街道)|20[xX]{2} ?年")
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
        return None, (Problem(source.path, 1, f"无法解析此文件，请检查其内容或报告此问题（cannot parse: "
                                              f"{type(exc).__name__}: {exc}）"),)


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
        return None, (Problem(source.path, 1, "文件为空，请补上报告正文或删除此文件（empty file: add the report's text or "
                                              "remove the file）"),)
    if _binary(text):
        return None, (Problem(source.path, 1, "不是文本：文件为二进制或已损坏，请换用原始文本或网页（not text: binary or "
                                              "corrupt content; use the original text or page）"),)
    overrides = dict(source.overrides)
    if source.format == "html":
        raw_lines, meta = htmlpage.extract(text)
        if meta.pop("_as_text", None):
            run.warn(1, "无法按网页结构读取（标记嵌套过深或残缺），已去掉标记按纯文本读取，请核对正文"
                        "（page could not be read as HTML: nested too deeply or broken; read as text without its "
                        "tags — check the text）")
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
            parts = clean.split_glued_head(fixed) or [q for p in clean.split_export(fixed) or [fixed]
                                                      for q in split_run_on(p)]
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
        return None, (*run.problems, Problem(source.path, 1, "未找到报告正文：文件只有页面框架或元数据，请换用含正文的版本"
                                                             "（no report text found: only page chrome or metadata; use a copy "
                                                             "with the report's text）"))
    return _report(source, run, title, body, overrides)


BINARY_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ue000-\uf8ff]")


def _binary(text: str) -> bool:
    sample = text[:4000]
    return len(BINARY_RE.findall(sample)) > max(8, len(sample) // 20)


# ---------------------------------------------------------------- lines
def _drop_lines(items: list[Item], run: _Run) -> list[Item]:
    kept: list[Item] = []
    previous = None
    for item in items:
        kind = clean.classify_line(item.text)
        if kind == "aggregator" and kept and kept[-1] is previous and _kept_label(previous.text):
            kind = None  # 「信息分类：」 then 「司法/法治政府」: a label's value, not an aggregator's line
        previous = item
        if kind is None:
            kept.append(item)
            continue
        run.drop(item, kind)
        if kind == "aggregator" and (m := FILE_NAME_RE.fullmatch(item.text)) is not None:
            run.set("file_title", m[1].strip())  # the title, if the page shows no other
        elif kind == "aggregator" and (date := md.find_date(item.text)):
            run.set("aggregator_date", date)
    return kept


def _kept_label(text: str) -> bool:
    """Whether a line is a bare label of a field the report keeps (its value on the next line)."""
    label = md.label_only(md.unbullet(text).strip())
    return label is not None and not label.startswith("_")


def _title_like(text: str) -> bool:
    return (
        len(text) <= 80
        and "。" not in text
        and TITLE_WORDS.search(text) is not None
        and (TITLE_TOPIC.search(text) is not None or re.search(r"\d{4} ?年", text) is not None)
        and not text.endswith(("：", ":"))
        and match_heading(text) is None
    )


def _metadata_like(text: str) -> bool:
    """A header line of the page's metadata table, in any of its layouts."""
    bare = md.unbullet(text)
    return (not bare or md.parse_metadata_line(bare, True) is not None or md.glued_field(bare) is not None
            or _values_only(bare) or _index_like(bare))


def _paragraph_like(text: str) -> bool:
    if _title_like(text) or _metadata_like(text):
        return False
    return (
        len(text) > 60
        or re.search(r"[。；！？!?]", text) is not None
        or (len(text) > 20 and re.search(r"[，,]", text) is not None)
        or (len(text) > 10 and text.endswith(("：", ":")))
        or match_heading(text) is not None
        or _addressee(text) is not None
    )


_ORGAN_END = re.compile(r"(?:委员会|委|政府|人大常委会|人大|局|办公室|办|领导|同志|书记|处|厅|部|中心|组)$")


def _addressee(text: str) -> str | None:
    """The addressee of a letter-style report: organs only, ending with a colon
    (「县委、县政府：」「中共X县委员会,X县人民政府:」「市委全面依法治市委员会：」)."""
    if not ADDRESSEE_RE.fullmatch(text):
        return None
    body = text.rstrip(":： ")
    parts = [p for p in re.split(r"[、，,\s]+", body) if p]
    if parts and all(_ORGAN_END.search(p) for p in parts) or re.fullmatch(r"各[^：:]{1,30}", body):
        return body
    return None


# A file name before the title, as document-sharing sites print it.
FILE_NAME_RE = re.compile(r"(.{4,80}?)\.(?:docx?|wps|pdf|txt|xlsx?)", re.IGNORECASE)
# 「青岛市X区人民政府 2018年11月7日星期三」: a site name and a date widget (never the page's date).
# 「X县人民政府 2024年01月08日」「2025-04-27 10:14 X省人民政府网」: a site or organ name and the page's date.
_SITE_NAME = re.compile(rf"[{clean.CJK}]{{2,24}}(?:人民政府|政府|网站|门户网站|网|办公室|委员会|局)(?:\s+\S{{4,40}})?")


def _named_date(text: str) -> tuple[str, str] | None:
    """(field, date) of a header line that is a site or organ name and a date, in either
    order: a site's name or a web-style date (「2025-04-27 10:14」) is the page's date; an
    organ and a written-out date (「X镇人民政府 2024年1月11日」) date the document."""
    m = md.DATE_LINE_RE.search(text)
    if m is None:
        return None
    rest = (text[: m.start()] + " " + text[m.end() :]).strip()
    if not _SITE_NAME.fullmatch(rest) or re.search("星期|周[一二三四五六日天]", text):
        return None
    web = re.search(r"网站?\b|网(?:\s|$)", rest) or re.search(r"\d[-/]\d|\d:\d", m[0]) or re.search(r"年0\d月", m[0])
    return ("date_line" if web else "written"), md.find_date(m[0])


HEADER_LINES = 200


def _header(kept: list[Item], run: _Run) -> tuple[str | None, list[Item], int]:
    """Read the lines before the first paragraph.

    Returns (title, unknown lines after the title kept for the body, index of the body start).
    """
    # A page's header is a few dozen lines; a text of short lines has its body start at the latest here.
    end = next((i for i, item in enumerate(kept[:HEADER_LINES]) if _paragraph_like(item.text)),
               min(len(kept), HEADER_LINES))
    titles: list[tuple[Item, str, tuple[str, ...]]] = []  # (line, title, issuer lines right above it)
    above: list[str] = []  # issuer lines since the last other line
    late: list[Item] = []
    i = 0
    while i < end:
        item = kept[i]
        raw = item.text
        text = md.unbullet(raw).strip()
        bulleted = text != raw.strip()
        nxt_item = kept[i + 1] if i + 1 < end else None
        nxt = md.unbullet(nxt_item.text).strip() if nxt_item else ""
        after = md.unbullet(kept[i + 2].text).strip() if i + 2 < end else ""
        issuers_above, above = above, []
        if not text:  # a bullet alone
            run.drop(item, "chrome")
            i += 1
            continue
        label = md.label_only(text)
        if label is not None:
            # A bare label: its value is the next line, unless that line is metadata itself
            # (then this label is empty) or the title.
            if nxt and not _metadata_like(nxt) and len(nxt) <= 60 and not _title_like(nxt) \
                    and not (TITLE_HEAD.search(nxt) and _title_like(nxt + after) and not md.split_issuers(nxt)):
                _take_field(run, label, nxt)
                run.drop(item, "metadata")
                run.drop(nxt_item, "metadata")
                i += 2
                continue
            run.drop(item, "metadata")
            i += 1
            continue
        fields = md.parse_metadata_line(text, True)
        if fields is not None:
            for name, value in fields.items():
                _take_field(run, name, value)
            run.drop(item, "metadata")
            i += 1
            continue
        if (glued := md.glued_field(text)) is not None:
            _take_field(run, *glued)
            run.drop(item, "metadata")
            i += 1
            continue
        if bulleted and (block := _value_block(kept, i, end)):
            _take_values(run, [md.unbullet(kept[k].text).strip() for k in range(i, block)])
            for k in range(i, block):
                run.drop(kept[k], "metadata")
            i = block
            continue
        if (named := _named_date(text)) is not None:
            run.set(*named)
            run.drop(item, "metadata")
            i += 1
            continue
        if nxt and _title_like(nxt) and TITLE_HEAD.search(text) and not md.split_issuers(text) \
                and len(text) <= 40 and not _title_like(text) and not re.search(r"[，,。：:]", text):
            titles.append((item, text + nxt, issuers_above))  # 「X镇关于2025年度」+「法治政府建设工作的报告」
            run.drop(nxt_item, "duplicate-title")
            i += 2
            continue
        if _title_like(text):
            joined = text + nxt
            if nxt and not TITLE_WORDS.search(text[-4:]) and _title_like(joined) and len(nxt) <= 30 \
                    and TITLE_WORDS.search(nxt[-4:]):
                titles.append((item, joined, issuers_above))
                run.drop(nxt_item, "duplicate-title")
                i += 2
                continue
            titles.append((item, text, issuers_above))
        elif nxt and _title_like(text + nxt) and not _title_like(nxt) and not md.split_issuers(text):
            titles.append((item, text + nxt, issuers_above))  # a title split over two lines
            run.drop(nxt_item, "duplicate-title")
            i += 2
            continue
        elif _values_only(text, run):
            run.drop(item, "metadata")
        elif names := md.split_issuers(text):
            _add_issuers(run, names)
            above = (issuers_above + names)[-4:]
            run.drop(item, "metadata")
        elif _index_like(text):
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
    title = _choose_title(titles, run)
    # A title repeated as the first body line.
    while end < len(kept) and title and _same_title(kept[end].text, title):
        run.drop(kept[end], "duplicate-title")
        end += 1
    if title is None and run.fields.get("page_title"):
        # <title>「X镇2023年法治政府建设年度报告_X县人民政府」: the part that is a title.
        parts = re.split(r" {0,3}[_|｜] {0,3}| {1,3}- {1,3}", run.fields["page_title"][:300])
        fixed = [clean.strip_spam(clean.repair_line(p)[0]) for p in parts]
        title = next((p for p in fixed if _title_like(p)), None)
    if title is None and _title_like(run.fields.get("file_title", "")):
        title = run.fields["file_title"]  # only a file name says what the document is
    if title:
        title = _tidy_title(title)
        m = re.match(r"(.*?)关于", title)
        if m and (names := md.split_issuers(m[1])):
            _add_issuers(run, names)
            title = " ".join(names) + title[len(m[1]) :]
    return title or None, late, end


MAX_ISSUERS = 6  # a report is signed by one to three organs; more lines are not issuers


def _add_issuers(run: _Run, names: list[str]) -> None:
    for name in names:
        if name not in run.issuers and len(run.issuers) < MAX_ISSUERS:
            run.issuers.append(name)


def _tidy_title(title: str) -> str:
    """Spaces a copy put around digits or before 关于/年 are not part of a title; the one
    between two issuers is."""
    title = re.sub(r"\s+", " ", title[:300]).strip("《》 ")
    title = re.sub(r" (?=[\d年度关])|(?<=\d) ", "", title)
    return title


def _has_place(text: str) -> bool:
    return md.place_from_title(text)[0] is not None


def _choose_title(titles: list[tuple[Item, str, tuple[str, ...]]], run: _Run) -> str | None:
    """The title among the displayed ones and the metadata's: the first that names its
    year and its place, with the issuer lines printed right above it when it names no place
    itself (「三溪镇人民政府」+「2023年法治政府建设情况」); the metadata's title wins only
    where it says more. The others are dropped as duplicates."""
    meta_title = run.fields.get("title")
    meta = clean.strip_spam(clean.repair_line(meta_title)[0].strip()) if meta_title else None
    shown: list[tuple[int, str]] = []
    for k, (item, text, issuers_above) in enumerate(titles):
        full = text
        if issuers_above and not _has_place(text):
            full = " ".join(issuers_above) + text
        elif text.startswith("关于") and run.issuers and not _has_place(text):
            full = " ".join(run.issuers) + text  # 「中共X镇委员会 X镇人民政府关于…的报告」
        shown.append((k, clean.strip_spam(full)))

    def rank(text: str) -> int:
        return (re.search(r"\d{4}", text) is not None) + _has_place(text)

    best = max(shown, key=lambda kt: (rank(kt[1]), -kt[0]), default=None)
    if best is not None and (meta is None or rank(best[1]) >= rank(meta)):
        title, chosen = best[1], best[0]
    else:
        title, chosen = meta, None
    for k, (item, _, _) in enumerate(titles):
        if k == chosen:
            _strip_spam(item, run)
            run.keep(item)
            run.changes.append(Change(item.line, "metadata", item.orig, ""))
        else:
            run.drop(item, "duplicate-title")
    return title


def _value_block(kept: list[Item], i: int, end: int) -> int:
    """The end of a list of bare values starting at i (「• 1151…F/2022-00412」「• 法制」
    「• 昭化区柳桥镇」「• 2022-04-19」: a metadata table whose labels were lost in the copy),
    or 0 when there is none: two or more bulleted short lines, one an 索引号 or a date."""
    k = i
    while k < min(end, i + 30):  # a metadata table has a few rows: the scan is bounded
        raw = kept[k].text
        value = md.unbullet(raw).strip()
        if value == raw.strip() or not value or len(value) > 40 or re.search(r"[。；]", value):
            break
        k += 1
    values = [md.unbullet(kept[j].text).strip() for j in range(i, k)]
    if k - i >= 2 and any(_index_like(v) or md.is_date_line(v) for v in values):
        return k
    return 0


def _take_values(run: _Run, values: list[str]) -> None:
    """Fields of a metadata table without labels, recognised by their shape: the 索引号,
    the dates (成文日期 before 发布日期), the organ."""
    dates = [md.find_date(v) for v in values if md.is_date_line(v)]
    run.set("index_no", next((v for v in values if _index_like(v)), None))
    if dates:
        run.set("row_date", dates[-1])
        if len(dates) > 1:
            run.set("written", dates[0])
    run.set("publisher", next((v for v in values if md.split_issuers(v) or md.place_in(v)[0]), None))


def _index_like(text: str) -> bool:
    """A 索引号 by its shape (「11441700007280420Y/2021-00050」「yanghe/2023-00014」), not a date."""
    return bool(INDEX_ONLY_RE.fullmatch(text)) and re.search(r"\d{3}", text) is not None \
        and not md.is_date_line(text)


VALUE_CELLS = re.compile(r"\s{2,}|\t|[|｜]")


def _values_only(text: str, run: _Run | None = None) -> bool:
    """A metadata table row with values and no labels: 「6167…X/2025-33095    司法    2025-01-21 …」."""
    cells = [c.strip() for c in VALUE_CELLS.split(text) if c.strip()]
    if len(cells) < 3 or any(len(c) > 30 for c in cells):
        return False
    index = next((c for c in cells if _index_like(c)), None)
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
    # Everything after the last paragraph-like line is footer (a footer is a few dozen lines).
    last = next((i for i in range(len(body) - 1, max(-1, len(body) - 1 - HEADER_LINES), -1)
                 if _paragraph_like(body[i].text)), max(-1, len(body) - 1 - HEADER_LINES))
    tail = body[last + 1 :]
    body = body[: last + 1]
    for item in tail:
        _footer_line(item, run, body)
    # 主送/抄送 written as paragraphs, and a signature ending the text.
    while body and (CC_LABEL.match(body[-1].text) or DISCLOSURE_RE.fullmatch(body[-1].text)):
        _footer_line(body.pop(), run, [])
    _signature(body, run)
    return body


def _footer_line(item: Item, run: _Run, body: list[Item]) -> None:
    text = item.text
    if CC_LABEL.match(text):
        for label, value in _cc_fields(text):
            run.set("addressee" if label == "主送" else "cc", value)
        run.drop(item, "metadata")
    elif DISCLOSURE_RE.fullmatch(text):
        run.drop(item, "metadata")
    elif (fields := md.parse_metadata_line(text, True)) is not None:
        for name, value in fields.items():
            _take_field(run, name, value)
        run.drop(item, "metadata")
    elif (md.split_issuers(text) or _signature_date(text) or KEEP_AT_END.match(text)
          or len(text) > 40):
        body.append(item)
    else:
        run.drop(item, "chrome")  # page footer after the report: links, site names, counters


KEEP_AT_END = re.compile(r"附件|附表|特此报告|特此汇报|[（(]?\d{1,2}[.、．)）]|联系人|[（(]?此")


def _cc_fields(text: str) -> list[tuple[str, str]]:
    """(label, value) of a 「主送：…，抄送：…」 line: each value runs to the next label."""
    marks = list(CC_LABEL.finditer(text))
    return [(m[1], text[m.end() : nxt.start() if nxt else len(text)].strip(" \u3000，,；;。."))
            for m, nxt in zip(marks, marks[1:] + [None])]


def _signature_date(text: str) -> tuple[str, str] | None:
    """(what comes before, the date) of a line ending with a date, possibly in brackets
    (「白沙镇人民政府 2024年1月11日」「（二〇二四年一月十一日）」); None otherwise."""
    line = md.squeeze(text).strip()
    last = None
    for last in md.DATE_RE.finditer(line):
        pass
    if last is None or line[last.end() :].strip(" )）") or not md.find_date(last[0]):
        return None
    return line[: last.start()].rstrip(" (（"), last[0]


def _signature(body: list[Item], run: _Run) -> None:
    """Issuer lines and a date at the very end of the body."""
    for k in range(len(body) - 1, max(-1, len(body) - 4), -1):
        text = body[k].text
        found = _signature_date(text)
        if found is None:
            continue
        before, date = found
        if before and not md.split_issuers(before):
            return
        names = md.split_issuers(before) if before else []
        start = k
        while start > 0 and (found := md.split_issuers(body[start - 1].text)):
            names = found + names
            start -= 1
        run.set("signed", md.find_date(date))
        _add_issuers(run, names)
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
        run.problems.append(Problem(run.source.path, 1, "文首元数据缺少结束行 ---，请补上（front matter is not closed "
                                                        "by ---; add the closing line）", "warning"))
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
        run.warn(where.get(key, 1), f"未知的文首元数据字段 {key!r}，已忽略；可用字段：{'、'.join(OVERRIDE_KEYS)}"
                                    f"（unknown front matter field {key!r}, ignored）")
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
    year_range = md.year_range(title) if title and year is None else ()
    first_heading = next((b.text for b in body_lines if match_heading(b.text)), "")
    if year is None and not year_range:
        year = md.year_from_text(preamble_probe + [first_heading]) or _year_of_first_part(first_heading) \
            or md.year_of_cited_plan(preamble_probe)
    published = (f.get("published") or f.get("issued") or f.get("aggregator_date") or f.get("date_line")
                 or f.get("row_date"))
    written = f.get("written") or f.get("issued")
    template = bool(TEMPLATE_RE.search(title or "") or TEMPLATE_RE.search(f.get("source", "") + f.get("publisher", ""))
                    or TEMPLATE_RE.search("\n".join(preamble_probe[:2])[:300]))
    masked = bool(MASKED_YEAR_RE.search(title or "") or MASKED_YEAR_RE.search("\n".join(preamble_probe[:2])))
    if year is None and published and not template and not year_range and not masked:
        year = int(published[:4]) - 1
        run.warn(body[0].line, f"未写明报告年度，已按发布日期推定为 {year} 年，如有误请在旁注文件中写明 year"
                               f"（report year not stated; assumed {year} from the publication date — set year "
                               "in the sidecar if wrong）")
    preamble, sections, covered, placed_tables = build_sections(placed, year)

    where = _Where() if template else _place(title, run, preamble_probe, body_lines)
    place, region, level = where.place, where.region, where.level
    if where.department or level == "部门":  # a department's issuer is itself, when its name is known
        issuers = tuple(run.issuers) or ((where.department,) if where.department else ())
    else:
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
    if (values["place"], values["region"]) != (where.place, where.region):  # overridden: its own division
        where = _division_of(values["place"], values["region"], [values["title"] or ""])
    if values["year"] is None:
        run.warn(1, "未找到报告年度，请在旁注文件中写明 year（report year unknown; set year in the sidecar）")
    if values["place"] is None:
        run.warn(1, "未找到报告所属地点，请在旁注文件中写明 place（place unknown; set place in the sidecar）")

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
        place_code=where.code, place_known=where.code is not None, place_chain=where.chain,
        place_chain_codes=where.chain_codes, year_range=year_range if values["year"] is None else (),
        topic=f.get("topic"),
    )
    return report, tuple(run.problems)


@dataclass
class _Where:
    """Where a report is from: its place as the text names it, the chain above it, its level,
    the issuing department of a department report, and the gazetteer's division."""
    place: str | None = None
    region: str | None = None
    level: str | None = None
    department: str | None = None
    code: str | None = None
    chain: tuple[str, ...] = ()  # official names, province first, down to the place
    chain_codes: tuple[str, ...] = ()


def _leading_chain(name: str) -> list[str]:
    """The administrative segments a department's name starts with: 「宜宾市叙州区司法局」 ->
    [宜宾市, 叙州区]; the organ's own words are none (「住房和城乡建设局」: 城乡 is no place)."""
    chain, rest = [], name
    while (m := md._SEGMENT.match(rest)) and m.end() < len(rest):
        if chain and "和" in m[0] and not gazetteer().named(m[0]):
            break
        chain.append(m[0])
        rest = rest[m.end() :]
    return chain


def _known_division(texts: list[str], gz) -> tuple[str | None, str | None]:
    """The most local division the gazetteer finds in these short texts (a name of a kind the
    text rules do not read), with the names found before it as its region."""
    for text in texts:
        found = gz.find(text[:200])
        if found:
            names = [name for _, _, name in found]
            return names[-1], "".join(names[:-1]) or None
    return None, None


def _named_elsewhere(opening: list[str], body: list[str], known) -> str | None:
    """A place the opening names by its level alone (「县司法局认真…」「现就县人民政府…」,
    「全市司法行政系统…我局」), named in full elsewhere in the text, often only inside the
    titles of documents it cites (《合水县…》): the full name, with the organ for a department."""
    bare = md.bare_organ(opening)
    if bare is not None:
        suffix, organ = bare
    elif (m := re.search(r"全(市|县|区)", "".join(opening)[:300])) and re.search(r"我局", "".join(opening)):
        suffix, organ = m[1], "局"  # 「全市司法行政系统…我局」: a department of the city, its name not given
    else:
        return None
    name, _ = md.place_by_frequency(opening, body, suffix, known)
    if name is None:
        return None
    if organ == "局":
        return name + "局"  # the department's name is not given: its level is what is known
    if organ and md.DEPARTMENT_RE.search(organ) and organ not in ("委员会",):
        return name + organ
    return name


def _place(title, run: _Run, opening: list[str], body_lines: list[BodyLine]) -> _Where:
    """Where the report is from: the place named by the title, the issuers, the opening, the
    text, then the metadata (an addressee is never the place); for a department report,
    its county or city. The gazetteer gives the division, told apart from same-name ones
    by the parents the text names."""
    f = run.fields
    body = [b.text for b in body_lines]
    opening = [t for t in opening if _addressee(t) is None]
    gz = gazetteer()
    finders = (
        lambda: md.place_from_title(title) if title else (None, None),
        lambda: next((found for n in run.issuers if (found := md.place_in(n))[0]), (None, None)),
        lambda: md.place_from_preamble(opening),
        lambda: md.place_by_frequency(opening, body, known=gz.known),
        lambda: (_named_elsewhere(opening, body, gz.known), None),
        lambda: next((found for k in ("publisher", "source") if f.get(k) and (found := md.place_in(f[k]))[0]),
                     (None, None)),
        lambda: _known_division([title or "", *run.issuers, f.get("publisher", ""), f.get("source", "")], gz),
        lambda: (md.place_from_brand(opening, body), None),
    )
    for finder in finders:
        place, region = finder()
        if place:
            break
    else:
        return _Where()
    texts = [title or "", f.get("publisher", ""), f.get("source", ""), *run.issuers, *opening, *body]
    where = _Where(level=md.level_of(place))
    if where.level == "部门":
        chain = _leading_chain(place)
        organ = place[len("".join(chain)) :]
        where.department = place if organ != "局" else None  # 「株山市局」: only its level is known
        if chain:
            place, region = chain[-1], "".join(chain[:-1]) or None
        else:  # 「县司法局」: the county is named elsewhere
            county, _ = md.place_by_frequency(opening, body, place[0], gz.known) if place[0] in "县区市" else (None, None)
            if county is None:
                where.place = None
                return where
            where.department = county + place[1:]
            place, region = county, None
    if not region:
        place, region = md.region_in_text(place, texts)
    where.place, where.region = place, region
    if where.level != "部门":
        where.level = md.level_of(place)
    context = [title or "", f.get("publisher", ""), f.get("source", ""), *run.issuers, *opening]
    found = _division_of(place, region, context)
    if found.code:
        where.code, where.chain, where.chain_codes = found.code, found.chain, found.chain_codes
        where.region = found.region
        where.level = where.level or found.level
    return where


def _division_of(place: str | None, region: str | None, context: list[str]) -> _Where:
    """The gazetteer's division for a place and the region the text names above it."""
    where = _Where(place=place, region=region, level=md.level_of(place))
    if not place:
        return where
    gz = gazetteer()
    division = gz.resolve(place, md.split_chain(region) if region else (), context)
    if division is not None:
        chain = gz.chain(division)
        where.code = division.code
        where.chain = tuple(d.name for d in chain)
        where.chain_codes = tuple(d.code for d in chain)
        where.region = _region_of(chain[:-1]) or region
        where.level = where.level or _LEVEL_OF_KIND.get(division.kind)
    return where


_LEVEL_OF_KIND = {"镇": "镇", "乡": "乡", "民族乡": "乡", "苏木": "乡", "街道": "街道", "县": "县", "自治县": "县",
                  "旗": "县", "自治旗": "县", "区": "区", "市": "市", "林区": "区", "特区": "区"}


def _region_of(parents) -> str | None:
    """The region string of a division's parents: the prefecture and county (潮州市潮安区),
    the province only when nothing else is above (湖州市: 浙江省); a municipality stays."""
    names = [d.name for d in parents]
    if len(parents) > 1 and parents[0].code not in MUNICIPALITIES:
        names = names[1:]
    return "".join(names) or None


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
            bad(key, f"未知字段 {key!r}，可用字段：{'、'.join(OVERRIDE_KEYS)}（unknown override field {key!r}）")
        elif key == "year":
            if re.fullmatch(r"\d{4}", value) and 1990 <= int(value) <= 2100:
                values["year"] = int(value)
            else:
                bad(key, f"年度 {value!r} 无效，应为 1990 至 2100 之间的四位数字（invalid year {value!r}; expected "
                         "1990..2100）")
        elif key in ("published", "written"):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and md.find_date(value) == value:
                values[key] = value
            else:
                bad(key, f"{key} 的日期 {value!r} 无效，应写成 YYYY-MM-DD（invalid date {value!r} for {key}; "
                         "expected YYYY-MM-DD）")
        elif key == "level":
            if value in LEVELS:
                values["level"] = value
            else:
                bad(key, f"层级 {value!r} 无效，应为 {'/'.join(LEVELS)} 之一（invalid level {value!r}; expected one "
                         f"of {'/'.join(LEVELS)}）")
        elif key == "issuer":
            values["issuer"] = tuple(p for p in re.split(r"[、,，;；]+", value) if p)
        elif key == "place":
            values["place"] = value
            if "level" not in overrides:
                values["level"] = md.level_of(value)
        elif value:
            values[key] = value


def _year_of_first_part(line: str) -> int | None:
    """「一、2023年重点工作及成效」: a first heading on the year's work names the report's year."""
    heading = match_heading(line)
    if heading is None:
        return None
    m = re.search(r"(?<!\d)((?:19|20)\d\d) ?年", heading.title)
    parts = parts_of(heading.title)
    return int(m[1]) if m and 1 in parts and 4 not in parts else None


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
