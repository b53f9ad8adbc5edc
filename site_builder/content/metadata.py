"""Fields of a report: metadata labels, dates, year, place, level, region, issuer."""
from __future__ import annotations

import re

from collections.abc import Callable, Iterable

from .clean import CJK

# ---------------------------------------------------------------- metadata labels
# Label -> field. Fields starting with "_" are recognised (and removed) but not kept.
LABELS: dict[str, str] = {
    "索引号": "index_no", "索取号": "index_no", "信息索引号": "index_no", "索引编号": "index_no",
    "文号": "doc_no", "发文字号": "doc_no", "发文文号": "doc_no", "文件编号": "doc_no", "文件文号": "doc_no",
    "信息来源": "source", "来源": "source", "稿件来源": "source", "来源单位": "source", "文章来源": "source",
    "发布机构": "publisher", "发文机关": "publisher", "制发机构": "publisher", "发布单位": "publisher",
    "发文单位": "publisher", "责任部门": "publisher", "公开责任部门": "publisher", "信息公开责任部门": "publisher",
    "所属机构": "publisher", "发布部门": "publisher", "发文机构": "publisher", "发布机关": "publisher",
    "成文日期": "written", "生成日期": "written", "公文生成日期": "written", "发文日期": "issued",
    "印发日期": "issued", "发文时间": "issued", "制发日期": "written", "成文时间": "written", "生成时间": "written",
    "发布日期": "published", "发布时间": "published", "更新时间": "published", "更新日期": "published",
    "公开日期": "published", "公开时间": "published", "发表时间": "published", "发表日期": "published",
    "时间": "published", "日期": "published", "上线时间": "published", "发稿时间": "published",
    "标题": "title", "名称": "title", "文件名称": "title", "信息名称": "title", "文件标题": "title", "题名": "title",
    "题": "title",  # 「• 题: …」: a list that lost the first character of 标题
    "主题分类": "topic", "信息分类": "topic", "分类": "topic", "信息类别": "_", "主题词": "_", "体裁分类": "_",
    "组配分类": "_", "服务对象": "_", "公开方式": "_", "公开形式": "_", "公开范围": "_", "公开时限": "_",
    "有效性": "_", "是否有效": "_", "时效性": "_", "截止日期": "_", "作者": "_", "浏览数": "_", "浏览次数": "_",
    "浏览量": "_", "访问量": "_", "点击数": "_", "字号": "_", "字体": "_", "字体大小": "_", "备注": "_", "语种": "_",
    "效力状态": "_", "关键词": "_", "所属主题": "_", "内容概述": "_", "内容分类": "_", "公开目录": "_",
    "失效时间": "_", "废止日期": "_", "实施日期": "_", "统一编号": "_", "登记号": "_", "归档时间": "_",
    "公开属性": "_", "信息类型": "_", "文种": "_", "摘要": "_", "发布者": "_", "发布人": "_", "信息发布人": "_",
    "撰稿": "_", "审核": "_", "签发": "_", "录入": "_", "编辑": "_", "责任编辑": "_", "点击率": "_", "阅读量": "_",
    "阅读数": "_", "访问次数": "_", "分享到": "_", "信息提供单位": "source", "提供单位": "source",
    "供稿单位": "source", "供稿": "source",
}
# Labels so common in prose that they only count in the header or footer of a page.
WEAK_LABELS = {"来源", "时间", "日期", "标题", "题", "名称", "作者", "分类", "备注", "摘要", "关键词", "字号", "编辑",
               "审核", "签发", "录入", "撰稿", "供稿", "字体"}

# A label as printed: its characters may be spaced out (「索 引 号」「文  号」); several may share
# a cell (「备注/文号」「有效性/截止日期」); it may sit in brackets (「[ 索引号 ]」「【发布机构】」).
_SPACED = {label: "[ \u3000]{0,3}".join(map(re.escape, label)) for label in LABELS}
_LABEL_ALT = "|".join(_SPACED[k] for k in sorted(LABELS, key=len, reverse=True))
_ONE_LABEL = rf"(?:{_LABEL_ALT})"
_LABEL_BODY = rf"{_ONE_LABEL}(?:[ \u3000]{{0,2}}/[ \u3000]{{0,2}}{_ONE_LABEL}){{0,3}}"
LABEL_RE = re.compile(
    rf"(?:^|(?<=[\s|｜丨/,，;；】\]:：]))(?:[【\[［][ \u3000]{{0,3}})?({_LABEL_BODY})"
    rf"(?:[ \u3000]{{0,3}}[】\]］])?[ \u3000]{{0,3}}(?:[:：]|(?=\s)|$)"
)
_VALUE_STRIP = " \u3000|｜丨-—/,，;；【】[]［］"


def _label_key(raw: str) -> str:
    """The label of a cell, as a LABELS key: 「备注/文号」 -> the part that names a kept field."""
    parts = [re.sub(r"\s+", "", part) for part in raw.split("/")]
    parts = [part for part in parts if part in LABELS]
    return next((part for part in parts if not LABELS[part].startswith("_")), parts[0] if parts else "")


_SITE_HEAD = re.compile(rf"[{CJK}]{{2,24}}(?:门户网站|网站|网|人民政府|政府)(?: {{1,3}}(?:https?://)?[\w.-]{{4,60}})?")
# A date's label glued to the value before it (「…区司法局发布时间:2025-03-07」): it starts a cell.
_GLUED_DATE_LABEL = re.compile(rf"(?<=[{CJK}])(?=(?:发布时间|发布日期|更新时间|成文日期|浏览次数|点击数)[:：])")


def parse_metadata_line(text: str, in_header: bool) -> dict[str, str] | None:
    """Fields of a metadata line (「索引号：… 发布机构：…」「[ 索引号 ] … [ 发文字号 ]」「索 引 号: | … |」),
    or None when it is not one. A value ends at the next label or at a table pipe."""
    if in_header:
        text = _GLUED_DATE_LABEL.sub(" ", text)
    matches = list(LABEL_RE.finditer(text))
    if not matches:
        return None
    lead = None
    if matches[0].start() > 1:
        # 「2024-03-28 10:01  来源：X县司法局」: a date before the first label is the page's date;
        # 「X县人民政府门户网站 www.… 发布时间：…」: a site's name and address before it are chrome.
        head = text[: matches[0].start()].strip(" |｜丨-—/")
        if DATE_LINE_RE.fullmatch(head):
            lead = find_date(head)
        elif not _SITE_HEAD.fullmatch(head):
            return None
    keys = [_label_key(m[1]) for m in matches]
    if not in_header and (len(text) > 80 or all(k in WEAK_LABELS for k in keys)):
        return None
    if len(matches) == 1 and len(text) > 120:
        return None
    fields: dict[str, str] = {"published": lead} if lead else {}
    for m, nxt, key in zip(matches, matches[1:] + [None], keys):
        value = text[m.end() : nxt.start() if nxt else len(text)]
        value = re.split(r"[|｜丨]", value.strip(_VALUE_STRIP), maxsplit=1)[0]
        value = value.strip(_VALUE_STRIP).strip()
        name = LABELS[key]
        if value and not name.startswith("_"):
            fields.setdefault(name, value)
    return fields


def label_only(text: str) -> str | None:
    """The field of a line that is a bare label (its value is on the next line, or none)."""
    m = LABEL_RE.match(text)
    if m is None or text[m.end() :].strip(_VALUE_STRIP):
        return None
    return LABELS[_label_key(m[1])]


# A strong label glued to its value, no colon nor space: 「索引号pbxxhxrmzf/2026-00001」
# 「发布机构屏边县新华乡人民政府」「发布日期2026-01-27」 (a list whose separators were lost).
_GLUED = {"index_no": ("索引号", "信息索引号"), "publisher": ("发布机构", "发文机关", "发布单位", "发文机构"),
          "published": ("发布日期", "发布时间"), "written": ("成文日期", "生成日期"), "doc_no": ("发文字号", "文号")}
_GLUED_RE = re.compile("(" + "|".join(sorted((x for v in _GLUED.values() for x in v), key=len, reverse=True))
                       + r")(?=[0-9A-Za-z\u3400-\u9fff])(.{1,60})")
_GLUED_FIELD = {label: field for field, labels in _GLUED.items() for label in labels}


def glued_field(text: str) -> tuple[str, str] | None:
    """(field, value) of a header line that is a strong label glued to a value of its shape."""
    m = _GLUED_RE.fullmatch(text.strip())
    if m is None:
        return None
    field, value = _GLUED_FIELD[m[1]], m[2].strip()
    if field == "index_no" and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z\-/_.]{4,60}", value):
        return field, value
    if field in ("published", "written") and is_date_line(value):
        return field, find_date(value) or value
    if field == "publisher" and (split_issuers(value) or place_in(value)[0]):
        return field, value
    if field == "doc_no" and re.search(r"〔\d{4}〕|\[\d{4}\]", value):
        return field, value
    return None


_BULLET = re.compile(r"[\u3000 ]*(?:[•·▪●◆■□▶►◇○◎]|[-–*](?=[\s\[【［]|$))[\u3000 ]*")


def unbullet(text: str) -> str:
    """A header line without its list bullet (「  • 索引号 …」「- [ 索引号 ] …」「-」)."""
    m = _BULLET.match(text)
    return text[m.end() :] if m else text


# ---------------------------------------------------------------- dates
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "0": 0, "一": 1, "二": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "〇○零Ｏ一二三四五六七八九十"
# Spaces inside a date are bounded (a copy puts one or two there), so that no run of spaces
# makes a pattern rescan it.
DATE_RE = re.compile(
    r"(?<!\d)(\d{4}) {0,2}(?:[-/.年]) {0,2}(\d{1,2}) {0,2}(?:[-/.月]) {0,2}(\d{1,2})(?!\d) {0,2}日?"
    rf"|([{_CN_NUM}O]{{4}}) {{0,2}}年 {{0,2}}([{_CN_NUM}]{{1,3}}) {{0,2}}月 {{0,2}}([{_CN_NUM}]{{1,3}}) {{0,2}}日"
)
_WS_RUN = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Runs of whitespace (tabs, U+3000, no-break spaces) as one space."""
    return _WS_RUN.sub(" ", text)


def _cn_int(s: str) -> int:
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in s:
        value = value * 10 + _CN_DIGITS.get(ch, 0)
    return value


def _valid(y: int, m: int, d: int) -> str | None:
    import datetime

    try:
        return datetime.date(y, m, d).isoformat() if 1990 <= y <= 2100 else None
    except ValueError:
        return None


def find_date(text: str) -> str | None:
    """First valid date in text as YYYY-MM-DD."""
    for m in DATE_RE.finditer(squeeze(text)):
        if m[1]:
            got = _valid(int(m[1]), int(m[2]), int(m[3]))
        else:
            got = _valid(_cn_int(m[4]), _cn_int(m[5]), _cn_int(m[6]))
        if got:
            return got
    return None


DATE_LINE_RE = re.compile(rf"[(（\[【［]? ?(?:{DATE_RE.pattern}) ?(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?)? ?[)）\]】］]?")


def is_date_line(text: str) -> bool:
    text = squeeze(text).strip()
    return DATE_LINE_RE.fullmatch(text) is not None and find_date(text) is not None


# ---------------------------------------------------------------- year
# Years that are never the report year: ranges, 〔2019〕 document numbers, titles of plans.
_YEAR_NOISE = re.compile(
    r"《[^《》]{0,60}》|[〔\[【［(（] ?\d{4} ?[〕\]】］)）]|\d{4} {0,2}[-—–－~～至到、]{1,3} {0,2}\d{4} ?年?|\d{8}年"
    r"|\d{4} ?年 ?\d{1,2} ?月(?: ?\d{1,2} ?日)?"
)
_YEAR_RE = re.compile(r"(?<!\d)(19[9]\d|20\d\d) {0,2}年")
_REPORT_YEAR_RES = tuple(
    re.compile(p)
    for p in (
        r"现将[^。]{0,20}?(?<!\d)(\d{4}) ?年",
        r"(?<!\d)(\d{4}) ?年 ?度?[^。，,；]{0,12}?(?:法治政府|依法行政|法治建设|法治工作)",
        r"^(?:[^。]{0,12}?)(?<!\d)(\d{4}) ?年 ?(?:度|以来|，|,|[^。]{0,6}?镇|[^。]{0,6}?县)",
    )
)


_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d) {0,2}[-—–－~～至到] {0,2}((?:19|20)\d\d) {0,2}年")


def year_range(title: str) -> tuple[int, ...]:
    """(first, last) of a title about several years (「…关于2016-2020年度法治政府建设…的报告」),
    not counting ranges inside cited titles or brackets; () otherwise."""
    bare = re.sub(r"《[^《》]{0,60}》|[(（][^()（）]{0,30}[)）]", " ", title)
    m = _YEAR_RANGE.search(bare)
    if m and int(m[1]) < int(m[2]) <= int(m[1]) + 10:
        return (int(m[1]), int(m[2]))
    return ()


_CITED_PLAN = re.compile(r"《[^《》]{0,20}?((?:19|20)\d\d) ?年度?[^《》]{0,30}?工作要点》")


def year_of_cited_plan(lines: list[str]) -> int | None:
    """The year of the work plan (工作要点) of its own year that an opening cites:
    「对照《2024年全县法治政府建设工作要点》」 in the report on 2024."""
    for line in lines[:3]:
        m = _CITED_PLAN.search(line)
        if m:
            return int(m[1])
    return None


def year_from_title(title: str) -> int | None:
    cleaned = _YEAR_NOISE.sub(" ", title)
    m = _YEAR_RE.search(cleaned)
    return int(m[1]) if m else None


def year_from_text(lines: list[str]) -> int | None:
    """Report year stated in the opening lines (preamble, first heading)."""
    for pattern in _REPORT_YEAR_RES:
        for line in lines:
            cleaned = _YEAR_NOISE.sub(" ", line)
            m = pattern.search(cleaned)
            if m and 1990 <= int(m[1]) <= 2100:
                return int(m[1])
    return None


# ---------------------------------------------------------------- place
ADMIN_SUFFIX = "省|自治区|自治州|地区|盟|市|州|自治县|县|旗|区|镇|乡|苏木|街道办事处|街道"
_LEVEL_OF = {"镇": "镇", "乡": "乡", "苏木": "乡", "街道": "街道", "街道办事处": "街道", "县": "县", "自治县": "县",
             "旗": "县", "区": "区", "市": "市"}
DEPARTMENT_RE = re.compile(
    r"(?:局|委员会|委|办公室|办|厅|署|中心|院|所|队|站|支队|大队|管委会|管理委员会|人民法院|人民检察院)$"
)
# A segment of a chain: a stem of two or more characters and its suffix (「潮州市」, not 「潮州」
# +「市」; 「东市街街道」, not 「东市」), or a one-character county (「沛县」).
_SEGMENT = re.compile(rf"[{CJK}]{{2,10}}?(?:{ADMIN_SUFFIX})|[{CJK}]县")
_NOT_PLACE = {
    "全区", "我区", "本区", "该区", "辖区", "社区", "园区", "全市", "我市", "本市", "全县", "我县", "本县",
    "该县", "各区", "各县", "各市", "城区", "市区", "县区", "山区", "景区", "库区", "片区", "校区", "小区",
    "街区", "矿区", "林区", "牧区", "郊区", "灾区", "老区", "特区", "地区", "全镇", "我镇", "本镇", "各镇",
    "乡镇", "城镇", "全乡", "我乡", "本乡", "各乡", "城乡", "街道", "全省", "我省", "本省", "各省", "县市",
    "省市", "市县", "区县",
}


def split_chain(name: str) -> list[str]:
    """「潮州市潮安区金石镇」 -> ['潮州市', '潮安区', '金石镇']."""
    return _SEGMENT.findall(name)


def level_of(place: str | None) -> str | None:
    if not place:
        return None
    if DEPARTMENT_RE.search(place):
        return "部门"
    if place.endswith("街") or place.endswith("苏木"):  # 「海滨街」: a street office's short name
        return "街道" if place.endswith("街") else "乡"
    m = re.search(rf"({ADMIN_SUFFIX})$", place)
    return _LEVEL_OF.get(m[1]) if m else None


def place_from_title(title: str) -> tuple[str | None, str | None]:
    """(place, region) named in a title such as 「潮安区金石镇2021年…报告」."""
    m = _YEAR_RE.search(title)
    candidates = []
    if m:
        before = title[: m.start()]
        if "关于" in before:
            before = before.split("关于")[-1]
        candidates.append(before)
        candidates.append(title[m.end() :].removeprefix("度"))  # 「2021年度X镇…」
    candidates.append(title)
    for text in candidates:
        found = place_in(text)
        if found[0]:
            return found
    return None, None


def place_in(text: str) -> tuple[str | None, str | None]:
    """The first administrative name (or department) in a short text."""
    text = re.sub(r"中共|中国共产党", " ", text)
    for piece in re.split(r"人民政府|政府|委员会|党委|党工委|关于|[\s·、，,：:（）()]|\d{4} ?年度?", text):
        piece = re.sub(r"(?:法治|依法行政|法制|年度|工作).*$", "", piece)
        if not 2 <= len(piece) <= 40:
            continue  # no name is longer; a long run is prose
        dept = re.match(rf"(.*?(?:{ADMIN_SUFFIX}))?([{CJK}]{{1,12}}?{DEPARTMENT_RE.pattern})", piece)
        if dept and dept[1] and dept[1] not in _NOT_PLACE and len(dept[0]) <= 20:
            chain = split_chain(dept[1])
            return dept[0], "".join(chain) or None
        segments = split_chain(piece)
        chain = [s for s in segments if s not in _NOT_PLACE]
        if chain and len(chain) == len(segments) and "".join(chain) == piece:
            return re.sub("街道办事处$", "街道", chain[-1]), "".join(chain[:-1]) or None
        if re.fullmatch(rf"[{CJK}]{{2,4}}街", piece) and piece not in _NOT_PLACE:
            return piece, None  # 「海滨街2020年…」: a street office by its short name
    return None, None


def region_in_text(place: str, texts: list[str]) -> tuple[str, str | None]:
    """Find the parents of place where a text states them (「潮州市潮安区金石镇」).

    Returns (place, region); place may be normalised: 「县城南区」 (the county's 城南区) with
    「安化县城南区」 in the metadata becomes 「城南区」 in 「安化县」.
    """
    best: tuple[str, str | None] = (place, None)
    forms = [(place, "")]
    if place[0] in "县市区" and len(place) > 3:
        forms.append((place[1:], place[0]))
    for text in texts:
        for name, head in forms:
            start, seen = 0, 0
            # A text states the chain at its first mentions: a few suffice, and bound the work.
            while seen < 20 and (i := text.find(name, start)) >= 0:
                start, seen = i + 1, seen + 1
                chain = _chain_before(text[max(0, i - 14) : i])
                joined = "".join(chain)
                if not chain or not joined.endswith(head):
                    continue
                if len(joined) > len(best[1] or ""):
                    if head and DEPARTMENT_RE.search(name):
                        best = (chain[-1] + name, joined)  # 「市司法局」 in 「湘潭市司法局」
                    else:
                        best = (name, joined)
    return best


def _chain_before(text: str) -> list[str]:
    """Administrative segments ending exactly at the end of text, right to left."""
    chain: list[str] = []
    rest = text
    while True:
        m = re.search(rf"([{CJK}]{{2,5}}?)(省|自治区|自治州|地区|盟|市|州|自治县|县|旗|区)$", rest)
        if not m:
            break
        # Two-character names are by far the most common; the text before a name in running
        # prose cannot tell a longer name from a verb (「成立潮州市」).
        seg = m[1][-2:] + m[2]
        if seg in _NOT_PLACE or seg[: -len(m[2])] in {"全", "我", "本", "该", "各"}:
            break
        chain.insert(0, seg)
        rest = rest[: len(rest) - len(seg)]
    return chain


# ---------------------------------------------------------------- issuer
ISSUER_RE = re.compile(
    rf"(?:中共|中国共产党)?[{CJK}]{{2,30}}?(?:人民政府|委员会|党委|党工委|党组|办事处|管委会|管理委员会|"
    r"人民政府办公室|办公室|局|委|中心|厅)"
)


_ISSUER_PAIR = re.compile(rf"((?:中共|中国共产党)[{CJK}]{{2,20}}?(?:委员会|党委|党工委))([{CJK}]{{2,20}}?(?:人民政府|办事处))")


def split_issuers(text: str) -> list[str]:
    """「中共鱼泉镇委员会 鱼泉镇人民政府」 -> both names; [] if the line is not issuer names."""
    parts = [p for p in re.split(r"[\s\u3000、，,]+", text.strip()) if p]
    if not parts or len(parts) > 6 or any(len(p) > 40 or not ISSUER_RE.fullmatch(p) for p in parts):
        return []
    out = []
    for part in parts:  # 「中共X镇委员会X镇人民政府」 with the space lost
        m = _ISSUER_PAIR.fullmatch(part)
        out.extend([m[1], m[2]] if m else [part])
    return out


def derived_issuer(place: str | None, level: str | None, text: str) -> tuple[str, ...]:
    """An issuer derived from the place, only where the name is unambiguous."""
    if not place or not level:
        return ()
    if level in ("镇", "乡"):
        return (f"{place}人民政府",)
    if level == "街道":
        name = place if place.endswith("办事处") else f"{place}办事处"
        return (name,)
    if level == "部门":
        return (place,)
    name = f"{place}人民政府"
    return (name,) if name in text else ()


_CLAUSE_LEAD = re.compile(
    r"^(?:.{0,60}?(?:现将|现就|兹将|特将))?(?:\d{4} ?年度?(?:以来)?)?(?:近年来|今年来|今年以来|一年来|以来)?[，,]? {0,2}"
    r"(?:根据|按照|围绕|在|由|对|把|将)?"
)
_LEAD_NAME = re.compile(rf"[{CJK}]{{1,10}}?(?:{ADMIN_SUFFIX}|街(?=党工委|办事处))(?:[{CJK}]{{1,12}}?(?:局|委员会|办公室|中心))?")
_NOT_IN_NAME = re.compile("[我全该的了是将把以为对年来据照使局委办府党认围坚深贯]")
_NOT_IN_FREQ = re.compile("[我全该的了是将把以为对年来据照使和与及府委党合]")
_PROSE_BEFORE_LEVEL = re.compile("[我全该的了是将把以为对年来据照使和与及府委党合各本向由经按在于给同到至驻赴绕导持督配助服请报送呈]")
_OWN = re.compile(r"我(镇|乡|街道|县|区|市|局)")


def place_from_preamble(lines: list[str]) -> tuple[str | None, str | None]:
    """A place named at the start of an opening clause: 「2022年，西鹤县公安局坚持…」,
    「现将2019年度洪洪区法治政府建设…」. Where the text says 「我镇」, a county named as
    the leadership (「在X县委、县政府的领导下」) is not the place."""
    own = _OWN.search("".join(lines[:3]))
    for line in lines[:3]:
        for clause in re.split(r"[，,。；;：:]", line)[:4]:
            # 「在X县委、X县政府的坚强领导下」 names the superior, not the place.
            clause = re.sub(r"在[^，。]{0,40}?(?:领导|指导|监督|支持|关心)下.*", "", clause)
            rest = _CLAUSE_LEAD.sub("", clause, count=1)
            m = _LEAD_NAME.match(rest)
            if not m:
                continue
            name = m[0]
            first = split_chain(name)[0] if split_chain(name) else name
            if _NOT_IN_NAME.search(first[:-1]) or first in _NOT_PLACE:
                continue
            place, region = place_in(name)
            if place and (not own or level_of(place) == _LEVEL_OF.get(own[1], "部门")):
                return place, region
    return None, None


def place_by_frequency(opening: list[str], body: list[str], suffix: str | None = None,
                       known: "Callable[[Iterable[str]], set[str]] | None" = None) -> tuple[str | None, str | None]:
    """「我区」 in the opening and 「明溪区」 most often in the text: the place is 明溪区.
    `suffix`: the level to look for when the opening names it otherwise (「县司法局」 alone,
    「全市」); `known`: which names the gazetteer knows (they count double)."""
    if suffix is None:
        m = _OWN.search("".join(opening))
        if not m:
            return None, None
        suffix = m[1]
    if suffix == "局":  # 「我局」: the department named in full somewhere in the text
        depts: dict[str, int] = {}
        for line in opening + body:
            for found in re.finditer(rf"[{CJK}]{{2}}(?:县|区|市)[{CJK}]{{2,10}}?局", line):
                depts[found[0]] = depts.get(found[0], 0) + 1
        if not depts:
            return None, None
        name = max(depts, key=lambda k: (depts[k], k))
        return name, split_chain(name)[0]
    counts: dict[str, int] = {}
    for line in body + opening:
        for found in re.finditer(rf"([{CJK}]{{2,4}}){suffix}", line):
            stem = found[1]
            for k in (2, 3, 4):
                if len(stem) >= k:
                    name = stem[-k:] + suffix
                    counts[name] = counts.get(name, 0) + 1
    # A stem ending in a character of prose is no name (「结合县」「围绕县委」「对区」), unless the
    # gazetteer knows it; within a stem such characters are common (合水县, 和平区).
    real = known(counts) if known is not None and counts else set()
    counts = {name: count * 2 if name in real else count for name, count in counts.items()
              if name in real or not _PROSE_BEFORE_LEVEL.search(name[-len(suffix) - 1])}
    best, best_count = None, 1
    for name, count in counts.items():
        if len(name) - len(suffix) == 2 and name not in _NOT_PLACE and count > best_count:
            best, best_count = name, count
    if best is None:
        return None, None
    # A longer name wins when (almost) every mention of the short one is part of it.
    for name, count in sorted(counts.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(best) and count == best_count >= 3 and len(name) > len(best):
            return name, None
    return best, None


# An organ named by its level alone as the subject of the opening: 「2023年，县司法局认真…」
# 「现就县人民政府2023年度推进…」 (a report whose place the page names elsewhere, if at all).
_BARE_ORGAN = re.compile(
    rf"(?:^|[，,。；;]|年度?[，,]?|以来[，,]?|现就|现将|兹将) {{0,2}}(县|区|市|旗)"
    rf"(人民政府|政府|[{CJK}]{{1,8}}?(?:局|委员会|办公室))(?!的|[{CJK}]{{0,2}}领导)"
)


def bare_organ(lines: list[str]) -> tuple[str, str] | None:
    """(level character, organ) of the opening's subject when it names no place:
    「县司法局」 -> ('县', '司法局')."""
    for line in lines[:3]:
        m = _BARE_ORGAN.search(line[:200])
        if m:
            return m[1], m[2]
    return None


_LEVEL_SUBJECT = re.compile(r"(?:^|[，,。；;：:]|年来?[，,]?)(街道|镇|乡)(?=党工委|党委|办事处|政府|人民政府|依据|坚持|始终|认真|深入|紧紧|以)")
# 「法治X建设」「“法治X”」「X法治建设新局面」: a place's name as the brand of its rule-of-law work
# (a verb before 法治建设, 「落实法治建设各项任务」, is no brand).
_BRAND = re.compile(rf"法治([{CJK}]{{2}})建设|[“\"「]法治([{CJK}]{{2}})[”\"」]|([{CJK}]{{2}})法治建设新")
_NOT_BRAND = {"政府", "社会", "国家", "中国", "思维", "思想", "意识", "精神", "文化", "理念", "保障", "环境", "宣传", "教育",
              "实践", "工作", "队伍", "能力", "素养", "水平", "氛围", "道路", "方式", "轨道", "体系", "乡村", "基层",
              "城市", "营商", "推进", "全面", "加强", "深化", "持续", "扎实", "推动", "开展", "统筹", "助力", "护航",
              "引领", "服务", "强化", "提升", "夯实", "完善", "健全", "保证", "一体", "整体", "示范", "先行", "专项",
              "年度", "重点", "各项", "相关", "有关", "我们", "进一步", "部门", "单位", "系统", "领域", "行业"}


def place_from_brand(opening: list[str], body: list[str]) -> str | None:
    """「丹阳法治建设新局面」「为“法治中村”建设…」 twice in a report that calls itself 「街道」 or
    「我镇」 only: the place is the brand's name with that level (丹阳街道)."""
    own = _OWN.search("".join(opening))
    level = own[1] if own and own[1] in ("镇", "乡", "街道") else None
    if level is None:
        m = _LEVEL_SUBJECT.search("".join(opening)[:400])
        level = m[1] if m else None
    if level is None:
        return None
    counts: dict[str, int] = {}
    for line in opening + body:
        for m in _BRAND.finditer(line):
            stem = m[1] or m[2] or m[3]
            if stem not in _NOT_BRAND and not _NOT_IN_FREQ.search(stem):
                counts[stem] = counts.get(stem, 0) + 1
    stem = max(counts, key=lambda k: (counts[k], k), default=None)
    return stem + level if stem and counts[stem] >= 2 else None
