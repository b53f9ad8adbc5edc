"""A small judged corpus for the search tests: Report objects built directly, with texts
in both scripts (traditional originals are stored simplified, as the cleaner leaves them)."""
from __future__ import annotations

import re

from site_builder.text import normalize as normalize_
from site_builder.text.stream import join_han
from site_builder.model import Change, Entry, Place, Report, Section, Site
from site_builder.content.stage import analysed

PARTS_HEADINGS = {
    1: "一、{y}年推进法治政府建设的主要举措和成效",
    2: "二、存在的不足和原因",
    3: "三、党政主要负责人履行推进法治建设第一责任人职责情况",
    4: "四、{y1}年工作安排",
}

# (id, place, level, year, published, script, {part: body})
SPECS = [
    ("jinshi-2021", "金石镇", "镇", 2021, "2022-03-20", "traditional", {
        1: "深化放管服改革，推進一網通辦，優化營商環境。堅持和發展新時代楓橋經驗，化解矛盾糾紛86件。"
           "全面落實行政執法三項制度，開展法治宣傳活動12次。",
        2: "基層法治力量薄弱，執法人員專業化水平有待提高。",
        3: "鎮黨委書記認真履行推進法治建設第一責任人職責，帶頭學法用法。",
        4: "持續推進法治政府建設，健全依法決策機制。",
    }),
    ("jinshi-2022", "金石镇", "镇", 2022, "2023-03-28", "simplified", {
        1: "2022年度，金石镇持续优化营商环境，推进证明事项告知承诺制。开展行政执法人员培训3期，"
           "GDP增长5.2%。",
        2: "法治宣传教育的针对性还不够强。",
        4: "2023年继续深化放管服改革。",
    }),
    ("yanpi-2024", "演陂镇", "镇", 2024, "2025-03-15", "simplified", {
        1: "演陂镇深入贯彻习近平法治思想，严格落实重大行政决策程序。推行一网通办，办件量达2024件。"
           "坚持发展新时代枫桥经验，调处矛盾纠纷45宗。",
        2: "部分干部法治意识不强，运用法治思维和法治方式解决问题的能力不足。",
        3: "镇党委、政府主要负责人切实履行第一责任人职责。",
        4: "2025年，进一步优化营商环境，加强行政复议工作。",
        5: "无其他需要报告的情况。",
    }),
    ("yuquan-2023", "玉泉镇", "镇", 2023, "2024-03-30", "simplified", {
        1: "玉泉镇2023年法治政府建设取得新成效，规范性文件合法性审查率100%。"
           "积极开展民法典宣传，营商环境持续改善。",
        2: "行政执法规范化水平有待提升。",
        4: "下一步，将持续推进严格规范公正文明执法。",
    }),
    ("anhua-2023", "城南区", "区", 2023, "2024-04-10", "traditional", {
        1: "城南區堅持以習近平新時代中國特色社會主義思想為指導，法治政府建設取得明顯成效。"
           "推進綜合行政執法改革，行政復議案件辦結率100%。",
        2: "個別部門依法行政意識不強。",
        3: "區委、區政府主要負責同志認真履行法治建設第一責任人職責。",
        4: "2024年，城南區將繼續深化放管服改革，推進一網通辦，打造一流營商環境。",
    }),
    ("citangxu-2024", "祠堂圩镇", "镇", 2024, "2025-03-01", "simplified", {
        1: "祠堂圩镇务实推进《法治政府建设实施纲要（2021－2025年）》落地落实，围绕“法治政府”建设工作目标，"
           "开展“八五”普法宣传。",
        2: "法治队伍建设仍需加强。",
        4: "2025年工作安排：继续加强法治宣传。",
    }),
    ("qingshan-2023", "青山乡", "乡", 2023, None, "simplified", {
        1: "青山乡完成权责清单调整，公开行政执法信息120条。营商 环境得到优化。",
        4: "下一年度继续推进乡村法治建设。",
    }),
    ("sifaju-2022", "县司法局", "部门", 2022, "2023-02-27", "simplified", {
        1: "县司法局组织开展法律顾问工作，审查合同56份，办理行政复议案件18件，推进府院联动。",
        2: "公职律师数量不足。",
        3: "局主要负责人履行述法职责。",
        4: "2023年将推动诉源治理。",
    }),
    ("wutitle-2021", "东湖街道", "街道", 2021, "2022-05-06", "simplified", {
        1: "东湖街道开展营商环境专项整治，推动“最多跑一次”改革，群众满意度提升。",
        4: "2022年工作打算：巩固法治创建成果。",
    }),
]


def make_report(spec, region: str | None = None) -> Report:
    """A report of a spec; a traditional one's body is stored simplified, each converted
    line recorded as a "t2s" change (as the cleaner does)."""
    entry_id, place, level, year, published, script, parts = spec
    title = f"{place}{year}年法治政府建设年度报告"
    sections, lines, changes = [], [], []
    for part, body in sorted(parts.items()):
        if script == "traditional":
            simplified = normalize_.normalize(body)
            if simplified != body:
                changes.append(Change(line=len(lines) + 3, kind="t2s", before=body, after=simplified))
            body = simplified
        heading = PARTS_HEADINGS.get(part, "五、其他需要报告的情况").format(y=year, y1=year + 1)
        sections.append(Section(heading=heading, level=1, part=part, text=body, line=len(lines) + 1))
        lines += [heading, body]
    preamble = f"现将{place}{year}年法治政府建设工作情况报告如下："
    text = "\n".join([preamble, *lines])
    return analysed(Report(
        source=f"{entry_id}.txt", format="txt", encoding="utf-8", sha256=f"{entry_id:0<64}"[:64],
        script=script, title=title, title_derived=False, place=place, level=level, issuer=(place,), issuer_derived=False, publisher=None,
        region=region, year=year, published=published, written=None, signed=None, index_no=None,
        doc_no=None, source_name=None, addressee=None, cc=None, preamble=preamble,
        sections=tuple(sections), text=text, changes=tuple(changes), flags=(),
    ))


def make_site(specs=SPECS, edit: dict[str, str] | None = None) -> Site:
    """A Site of the given reports; `edit` appends text to some reports' last part."""
    entries = []
    for spec in specs:
        report = make_report(spec, REGIONS.get(spec[0]))
        if edit and spec[0] in edit:
            report = _append(report, edit[spec[0]])
        entries.append(Entry(report=report, id=spec[0], place_key=f"|{spec[1]}"))
    entries.sort(key=lambda e: e.id)
    places = {}
    for e in entries:
        places.setdefault(e.place_key, []).append(e.id)
    place_objs = tuple(sorted(
        (Place(key=k, name=k[1:], slug=re.sub(r"\W", "", k) or "x", level=None, region=None,
               entry_ids=tuple(ids)) for k, ids in places.items()), key=lambda p: p.slug))
    years: dict[int, list[str]] = {}
    for e in entries:
        years.setdefault(e.report.year, []).append(e.id)
    return Site(entries=tuple(entries), places=place_objs,
                years=tuple((y, tuple(sorted(ids))) for y, ids in sorted(years.items(), reverse=True)))


def _append(report: Report, extra: str) -> Report:
    from dataclasses import replace

    last = report.sections[-1]
    sections = report.sections[:-1] + (replace(last, text=last.text + extra),)
    return analysed(replace(report, sections=sections, text=report.text + extra))


def searchable(report: Report) -> str:
    return report.title + "\n" + report.text


def truth(site: Site, query: str, **filters) -> set[str]:
    """Reports whose cleaned text (title + body) contains the query; digit and Latin runs
    at the query's edges must not continue in the text."""
    needle = normalize_.normalize(query.strip().strip("\""))  # quotes are query syntax
    out = set()
    for e in site.entries:
        r = e.report
        if any(filters.get(k) not in (None, str(getattr(r, k))) for k in ("year", "place", "level")):
            continue
        hay = join_han(normalize_.normalize(searchable(r)))  # spaces between Han characters do not count
        pattern = (r"(?<![0-9])" if needle[:1].isdigit() else r"(?<![a-z])" if needle[:1].isalpha() and needle[:1].isascii() else "") \
            + re.escape(needle) \
            + (r"(?![0-9])" if needle[-1:].isdigit() else r"(?![a-z])" if needle[-1:].isalpha() and needle[-1:].isascii() else "")
        if re.search(pattern, hay):
            out.add(e.id)
    return out


# Reports for judging the order: a fragment of 650 characters that names 枫桥经验 and 三项制度
# once, full reports that name them more often; the report that names 营商环境 most; one
# exported from Word with spaces inside its sentences. Filler sentences are made up.
_FILLER = ("全面推进依法行政，规范行政执法行为。", "加强法治宣传教育，提升干部法治素养。", "完善矛盾纠纷多元化解机制。",
           "健全重大行政决策程序，落实合法性审查。", "推进政务公开，主动接受社会监督。")


def _filler(chars: int, seed: int) -> str:
    out, i = [], seed
    while sum(map(len, out)) < chars:
        out.append(_FILLER[i % len(_FILLER)])
        i += 1
    return "".join(out)


RANKING_SPECS = [
    ("pianduan-2023", "白沙镇", "镇", 2023, "2024-03-01", "simplified", {
        1: _filler(300, 0) + "坚持新时代枫桥经验。落实行政执法三项制度。" + _filler(300, 2)}),
    ("quanwen-2023", "红石镇", "镇", 2023, "2024-03-02", "simplified", {
        1: _filler(800, 1) + "坚持和发展新时代枫桥经验，打造枫桥经验升级版。" + _filler(700, 3)
           + "全面落实行政执法三项制度，三项制度覆盖全部执法单位。",
        2: _filler(500, 4) + "枫桥经验的宣传还不够深入。",
        4: _filler(600, 2)}),
    ("quanwen-2022", "青石镇", "镇", 2022, "2023-03-02", "simplified", {
        1: _filler(900, 2) + "推广枫桥经验，落实三项制度。" + _filler(900, 0) + "枫桥经验在基层落地，三项制度执行有力。",
        4: _filler(700, 1)}),
    ("yingshang-2024", "金沙镇", "镇", 2024, "2025-03-03", "simplified", {
        1: _filler(600, 0) + "优化营商环境是重点工作。围绕营商环境出台措施，营商环境评价提升，"
           "开展营商环境专项监督，营商环境投诉办结率提升。" + _filler(600, 1),
        4: "持续优化营商环境。" + _filler(400, 3)}),
    ("word-2024", "石门乡", "乡", 2024, "2025-03-04", "simplified", {
        1: "根据 上级会议 部署，开展 专项 整治。" + _filler(300, 4)}),
]
REGIONS = {"pianduan-2023": "白沙县", "quanwen-2023": "白沙县", "quanwen-2022": "东山区", "yingshang-2024": "东山区"}

# The judged queries: (query, expected ids or None = "whatever the truth says", note).
# Expected sets were judged by reading the texts above.
JUDGED = [
    ("营商", {"jinshi-2021", "jinshi-2022", "yanpi-2024", "yuquan-2023", "anhua-2023", "wutitle-2021", "qingshan-2023"}, "two characters"),
    ("营商环境", {"jinshi-2021", "jinshi-2022", "yanpi-2024", "yuquan-2023", "anhua-2023", "wutitle-2021", "qingshan-2023"},
     "phrase; qingshan has 营商 环境, a space inside the phrase"),
    ("放管服", {"jinshi-2021", "jinshi-2022", "anhua-2023"}, "policy term"),
    ("枫桥经验", {"jinshi-2021", "yanpi-2024"}, "policy term, one traditional source"),
    ("楓橋經驗", {"jinshi-2021", "yanpi-2024"}, "traditional query"),
    ("法治政府建設", None, "traditional query, long"),
    ("一網通辦", {"jinshi-2021", "yanpi-2024", "anhua-2023"}, "traditional"),
    ("2023年", None, "digits + Han"),
    ("2024件", {"yanpi-2024"}, "digits + Han, exact"),
    ("100%", {"yuquan-2023", "anhua-2023"}, "digits with a sign"),
    ("gdp", {"jinshi-2022"}, "Latin, lower case"),
    ("GDP增长", {"jinshi-2022"}, "Latin + Han"),
    ("金石镇", {"jinshi-2021", "jinshi-2022"}, "place name"),
    ("祠堂圩", {"citangxu-2024"}, "place name part"),
    ("城南区", {"anhua-2023"}, "place name from a traditional source"),
    ("镇", None, "one character"),
    ("複", {"anhua-2023", "yanpi-2024", "sifaju-2022"}, "one traditional character (复)"),
    ("行政复议", {"anhua-2023", "yanpi-2024", "sifaju-2022"}, "phrase"),
    ("第一责任人职责", None, "long phrase"),
    ("深入贯彻习近平法治思想，严格落实重大行政决策程序", {"yanpi-2024"}, "a whole clause with punctuation"),
    ("最多跑一次", {"wutitle-2021"}, "quoted term in the text"),
    ("\"最多跑一次\"", {"wutitle-2021"}, "quoted query"),
    ("诉源治理", {"sifaju-2022"}, "rare term"),
    ("不存在的词语", set(), "no match"),
]

# Judged on SPECS + RANKING_SPECS: (query, the ids that must come first, in that order, note)
JUDGED_ORDER = [
    ("枫桥经验", ["quanwen-2023", "quanwen-2022"], "full reports that name it 4 and 3 times before the fragment that names it once"),
    ("三项制度", ["quanwen-2022", "quanwen-2023"], "full reports that name it twice (the shorter first) before the fragment"),
    ("营商环境", ["yingshang-2024"], "the report that names it most comes first"),
    ("根据上级会议", ["word-2024"], "found through the spaces of a Word export"),
    ("金石镇", ["jinshi-2022", "jinshi-2021"], "title matches first (the newest first among equals)"),
]
