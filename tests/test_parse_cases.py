"""Tricky inputs for every class of variation in docs/domain.md §3, table-driven.

Each case is a small capture written for this test (not a copy of the samples): the
damage it carries and the fields, text and flags the parser must produce from it.
"""
from __future__ import annotations

import hashlib

import pytest

from site_builder.model import Source
from site_builder.content.parse import parse_source

# A clean report body with the four usual parts; cases wrap it in page damage.
BODY = """县委、县政府：
2023年，我镇坚持以习近平新时代中国特色社会主义思想为指导，深入推进依法行政。现将我镇2023年法治政府建设工作情况报告如下：
一、2023年推进法治政府建设的主要举措和成效
（一）加强组织领导
镇党委、政府高度重视法治政府建设工作，成立了领导小组，定期研究部署法治建设工作。
（二）严格规范公正文明执法
全年开展行政检查35场次，排查安全隐患200余个，并及时督促整改到位。
二、存在的不足和原因
普法宣传的针对性和实效性有待增强，执法人员专业化程度还不够高。
三、党政主要负责人履行推进法治建设第一责任人职责情况
镇党委书记、镇长切实履行第一责任人职责，亲自部署重要工作，亲自督办重点任务。
四、2024年工作安排
2024年，我镇将持续深入学习贯彻习近平法治思想，着力以高质量法治引领高质量发展。"""
PARAGRAPHS = [line for line in BODY.split("\n") if "。" in line]


def parse(text: str | bytes, fmt: str = "txt", overrides=(), override_lines=(), path=None):
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    if isinstance(text, bytes):
        from site_builder.content.decode import decode_bytes

        text, encoding = decode_bytes(raw)
    else:
        encoding = "utf-8"
    source = Source(path or f"case.{fmt}", fmt, raw, hashlib.sha256(raw).hexdigest(),
                    text.replace("\r\n", "\n"), encoding, tuple(overrides), tuple(override_lines))
    return parse_source(source)


def report_of(text, **kw):
    report, problems = parse(text, **kw)
    assert report is not None, problems
    return report


# (id, input, expected fields, text must contain, text must not contain, flags in, flags out)
CASES = [
    # ---- header chrome layouts
    ("breadcrumb-widgets",
     "当前位置：首页 > 政务公开 > 法治政府建设年度报告\n【字体：大 中 小】【打印本页】【关闭窗口】\n"
     "青山镇2023年法治政府建设年度报告\n" + BODY + "\n返回顶部\n网站标识码：4401000001 粤ICP备12345678号",
     dict(title="青山镇2023年法治政府建设年度报告", place="青山镇", level="镇", year=2023),
     PARAGRAPHS, ["当前位置", "字体", "网站标识码", "返回顶部"], [], ["spam-removed"]),
    ("stale-date-widget",
     "今天是：2018年5月7日 星期一 农历三月廿二\n青山镇2023年法治政府建设年度报告\n" + BODY,
     dict(year=2023, published=None), [], ["今天是", "2018"], [], []),
    ("metadata-pipes",
     "索引号：11441700007280420Y/2024-00050 | 发布机构：青山县司法局 | 发布日期：2024-03-28 | 文号：青司〔2024〕3号\n"
     "青山县司法局2023年法治政府建设年度报告\n" + BODY.replace("我镇", "我局"),
     dict(index_no="11441700007280420Y/2024-00050", published="2024-03-28", doc_no="青司〔2024〕3号",
          place="青山县", level="部门", year=2023, publisher="青山县司法局", issuer=("青山县司法局",)),
     [], ["索引号", "发布机构"], [], ["late"]),
    ("metadata-label-and-value-on-separate-lines",
     "索引号：\n620702081/2026-00007\n成文日期：\n2024年3月20日\n发布日期：\n2024-03-29\n"
     "青山镇2023年法治政府建设年度报告\n" + BODY,
     dict(index_no="620702081/2026-00007", written="2024-03-20", published="2024-03-29"), [], ["成文日期"], [], []),
    ("metadata-topic-in-a-row-of-pairs",
     "索引号：620702081/2026-00007  主题分类：综合政务/其他  发布机构：青山镇人民政府\n发布日期：2024-03-29\n"
     "青山镇2023年法治政府建设年度报告\n" + BODY,
     dict(topic="综合政务/其他", publisher="青山镇人民政府", published="2024-03-29"), [], ["主题分类", "综合政务"], [], []),
    ("metadata-topic-label-and-value-on-separate-lines",
     "索引号：\n620702081/2026-00007\n信息分类：\n司法/法治政府\n发布日期：\n2024-03-29\n"
     "青山镇2023年法治政府建设年度报告\n" + BODY,
     dict(topic="司法/法治政府", published="2024-03-29"), [], ["信息分类", "司法/法治政府"], [], []),
    ("metadata-values-without-labels",
     "11441700007280420Y/2024-00050    司法/法治政府    青山镇人民政府    2024-03-28    主动公开\n"
     "青山镇2023年法治政府建设年度报告\n" + BODY,
     dict(index_no="11441700007280420Y/2024-00050", published="2024-03-28", title="青山镇2023年法治政府建设年度报告"),
     [], ["主动公开"], [], []),
    ("source-and-time-line-spaced-labels",
     "青山镇2023年法治政府建设年度报告\n来源：青山镇人民政府 发 布 时 间：2024-03-28 10:01 浏览次数：35\n" + BODY,
     dict(source_name="青山镇人民政府", published="2024-03-28"), [], ["浏览次数", "来源"], [], []),
    ("late-publication",
     "青山镇2023年法治政府建设年度报告\n发布日期：2024-06-30\n" + BODY,
     dict(published="2024-06-30"), [], [], ["late"], []),
    # ---- aggregator lines
    ("aggregator-lines",
     "江苏/苏州 招标采购\n江苏/苏州-2025-03-02 00:00:00\n青山镇2024年法治政府建设年度报告\n"
     + BODY.replace("2023", "2024").replace("2024年工作安排", "2025年工作安排")
     + "\n本文来源于网络，如有侵权请联系删除",
     dict(year=2024, published="2025-03-02"), [], ["招标采购", "侵权"], [], []),
    # ---- titles
    ("title-missing-starts-at-addressee", BODY,
     dict(title="2023年法治政府建设年度报告", title_derived=True, year=2023), PARAGRAPHS, [], [], []),
    ("title-missing-place-in-opening",
     BODY.replace("2023年，我镇坚持", "2023年，白沙镇坚持"),
     dict(title="白沙镇2023年法治政府建设年度报告", title_derived=True, place="白沙镇"), [], [], [], []),
    ("title-twice-with-variant",
     "青山镇2023年法治政府建设年度报告\n青山镇2023年度法治政府建设工作报告\n" + BODY,
     dict(title="青山镇2023年法治政府建设年度报告"), [], ["工作报告"], [], []),
    ("title-split-over-two-lines",
     "青山县人民政府关于青山县2023年度\n法治政府建设工作总结的报告\n" + BODY.replace("我镇", "我县"),
     dict(title="青山县人民政府关于青山县2023年度法治政府建设工作总结的报告", place="青山县", level="县",
          issuer=("青山县人民政府",)), ["我县坚持以习近平"], ["2023年度\n"], [], []),
    ("issuer-lines-then-about-title",
     "中共白沙镇委员会\n白沙镇人民政府\n关于2023年法治政府建设情况的报告\n" + BODY,
     dict(title="中共白沙镇委员会 白沙镇人民政府关于2023年法治政府建设情况的报告", place="白沙镇",
          issuer=("中共白沙镇委员会", "白沙镇人民政府"), issuer_derived=False, addressee="县委、县政府"), [], [], [], []),
    ("year-first-title",
     "2020年白云区法治政府建设情况报告\n" + BODY.replace("2023", "2020").replace("2024年工作", "2021年工作"),
     dict(place="白云区", level="区", year=2020), [], [], [], []),
    # ---- year traps
    ("year-traps",
     "青山镇2023年法治政府建设年度报告\n" + BODY.replace(
         "深入推进依法行政。", "深入贯彻《法治政府建设实施纲要（2021—2025年）》和厅字〔2019〕28号文件精神(20212025年)。"),
     dict(year=2023), ["《法治政府建设实施纲要（2021—2025年）》"], [], [], []),
    ("year-from-opening-not-plan-year",
     "县委、县政府：\n现将我镇2022年法治政府建设工作情况和2023年工作安排报告如下：\n"
     "一、2023年工作安排\n继续推进法治政府建设，完善工作机制，提升依法行政水平。",
     dict(year=2022), [], [], [], []),
    # ---- dates and signature
    ("signature-and-cc",
     "白沙镇2023年法治政府建设年度报告\n" + BODY + "\n白沙镇人民政府\n2024年1月11日\n"
     "主送：县委、县政府。\n抄送：县委依法治县办。",
     dict(signed="2024-01-11", issuer=("白沙镇人民政府",), issuer_derived=False, addressee="县委、县政府",
          cc="县委依法治县办"),
     [], ["2024年1月11日", "抄送", "主送"], [], []),
    ("chinese-numeral-signature-date",
     "白沙镇2023年法治政府建设年度报告\n" + BODY + "\n中共白沙镇委员会　白沙镇人民政府\n二〇二四年一月十一日",
     dict(signed="2024-01-11", issuer=("中共白沙镇委员会", "白沙镇人民政府")), [], ["二〇二四"], [], []),
    ("issue-date-is-written-and-published",
     "青山镇2023年法治政府建设年度报告\n发文日期：2024-03-01\n" + BODY,
     dict(written="2024-03-01", published="2024-03-01"), [], [], [], []),
    # ---- who
    ("department", "青山县司法局2023年法治政府建设年度报告\n" + BODY.replace("我镇", "我局"),
     dict(place="青山县", level="部门", issuer=("青山县司法局",), issuer_derived=True),
     [], [], [], []),
    ("street-office", "沙河街道办事处2022年法治政府建设工作报告\n" + BODY.replace("2023", "2022"),
     dict(place="沙河街道", level="街道", issuer=("沙河街道办事处",), issuer_derived=True), [], [], [], []),
    ("region-stated-in-text",
     "金石镇2021年法治政府建设年度报告\n" + BODY.replace("2023", "2021").replace(
         "成立了领导小组", "成立潮州市潮安区金石镇法治建设领导小组"),
     dict(place="金石镇", region="潮州市潮安区"), [], [], [], []),
    ("town-named-like-a-brand-is-not-spam",
     "金沙镇2023年法治政府建设年度报告\n" + BODY,
     dict(place="金沙镇", title="金沙镇2023年法治政府建设年度报告"), [], [], [], ["spam-removed"]),
    # ---- spam
    ("spam-first-line-and-title-brand",
     "英国威廉希尔公司\n澳门新葡京娱乐城官网\n中共白沙镇委员会 白沙镇人民政府威尼斯人娱乐2023年法治政府建设情况的报告\n" + BODY,
     dict(title="中共白沙镇委员会 白沙镇人民政府关于2023年法治政府建设情况的报告"),
     PARAGRAPHS, ["威廉希尔", "葡京", "威尼斯人"], ["spam-removed"], []),
    ("spam-inside-body-sentence-and-legit-crackdown-kept",
     "青山镇2023年法治政府建设年度报告\n" + BODY.replace(
         "并及时督促整改到位。", "并及时督促整改到位，bet365体育在线，严厉打击跨境赌博和六合彩等违法犯罪活动。"),
     dict(), ["严厉打击跨境赌博和六合彩等违法犯罪活动"], ["bet365"], ["spam-removed"], []),
    # ---- numbering styles and levels
    ("numbering-1-directly-under-yi",
     "一、主要举措和成效\n1.加强组织领导\n成立领导小组，统筹推进法治建设。\n（1）学法\n开展学法活动。\n"
     "二、存在的不足\n宣传不够深入。",
     dict(), [], [], [], []),
    ("top-level-paren-style-and-duplicate-numbers",
     "(一) 上一年度推进法治政府建设的主要举措和成效\n1. 强化组织领导\n镇党委高度重视法治建设。\n"
     "1. 深化法治实践\n推进放管服改革。\n(二) 上一年度推进法治政府建设存在的不足和原因\n执法水平有待提高。\n"
     "(三) 上一年度党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责人带头学法。\n"
     "(四) 下一年度推进法治政府建设的主要安排\n继续加强组织领导。",
     dict(), [], [], [], ["missing-part-1", "missing-part-2", "missing-part-3", "missing-part-4"]),
    ("yi-shi-is-not-a-heading",
     "一、主要举措和成效\n一是加强学习。二是规范执法。\n二、存在问题\n一是宣传不够。",
     dict(), ["一是加强学习。二是规范执法。"], [], [], []),
    ("unnumbered-part-headings",
     "青山镇2023年法治政府建设年度报告\n2023年度推进法治政府建设的主要举措和成效\n成立领导小组，统筹推进。\n"
     "存在的主要问题及原因\n宣传不够深入。\n主要负责同志履行推进法治建设第一责任人职责情况\n书记带头述法。\n"
     "2024年工作安排\n继续推进法治建设。",
     dict(), [], [], [], ["missing-part-1", "missing-part-2", "missing-part-3", "missing-part-4"]),
    ("misnumbered-top-level",
     "一、主要工作举措及成效\n推进依法决策。\n一、存在的不足和原因\n宣传不够。\n二、第一责任人职责履行情况\n"
     "书记带头述法。\n三、2024年推进法治政府建设的工作安排\n继续推进。",
     dict(), [], [], [], ["missing-part-1", "missing-part-2", "missing-part-3", "missing-part-4"]),
    ("brand-before-a-split-title",
     "亚博娱乐平台\n亚博娱乐平台长鹤县人力资源和社会保障局2025年\n法治政府建设年度报告\n" + BODY.replace("我镇", "我局"),
     dict(title="长鹤县人力资源和社会保障局2025年法治政府建设年度报告", place="长鹤县",
          level="部门"), [], ["亚博"], ["spam-removed"], []),
    # ---- damage
    ("masked-digits-and-cut",
     "青山镇****年法治政府建设年度报告\n" + BODY.replace("35场次", "**场次").replace(
         "执法人员专业化程度还不够高。", "(略)"),
     dict(), [], [], ["masked-digits", "cut"], []),
    ("truncated-mid-sentence",
     "青山镇2023年法治政府建设年度报告\n" + BODY + "\n五、其他需要报告的情况\n全年共办理行政复议案件",
     dict(), [], [], ["truncated"], []),
    ("placeholders-and-template",
     "XX镇20XX年法治政府建设年度报告\n" + BODY.replace("2023", "20XX").replace("35场次", "XX场次").replace("镇长", "某某"),
     dict(place=None, year=None), [], [], ["placeholder", "template"], []),
    ("one-line-word-export",
     "青山镇2023年法治政府建设年度报告 " + " ".join(BODY.split("\n")).replace("法治政府建设", "法 治 政 府建设")
     .replace("组织领导", "组织 领导"),
     dict(title="青山镇2023年法治政府建设年度报告", year=2023), ["加强组织领导"], ["法 治"], [], ["missing-part-1"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_case(case):
    _, text, fields, contains, excludes, flags_in, flags_out = case
    report = report_of(text)
    for key, value in fields.items():
        assert getattr(report, key) == value, key
    for part in contains:
        assert part in report.text, part
    for part in excludes:
        assert part not in report.text, part
        assert part not in report.title, part
    for flag in flags_in:
        assert flag in report.flags, flag
    for flag in flags_out:
        assert flag not in report.flags, flag


# ---- script, pinyin glosses, encodings and character damage
def test_traditional_with_pinyin_glosses_is_converted_and_kept_as_original():
    text = ("白沙鎮(zhèn)2021年法治政府建設(shè)年度報(bào)告\n"
            "今年來，我(wǒ )鎮在上級黨委的正確領(lǐng)導下，堅持依法行政。現將工作情況匯報如下：\n"
            "一、工作措施和成效\n加強組織領導，全面深化法治建設(shè)。")
    report = report_of(text)
    assert report.script == "traditional"
    assert report.title == "白沙镇2021年法治政府建设年度报告" and report.place == "白沙镇"
    assert "我镇在上级党委的正确领导下" in report.text
    assert "(" not in report.text and "鎮" not in report.text
    kinds = [c.kind for c in report.changes]
    assert "pinyin" in kinds and "t2s" in kinds
    t2s = [c for c in report.changes if c.kind == "t2s"]
    assert any(c.line == 2 and "領導" in c.before and "领导" in c.after for c in t2s)


def test_legitimate_parentheses_are_not_taken_for_pinyin():
    report = report_of("一、主要举措和成效\n加入世界贸易组织(WTO)后，推进一村(社区)一法律顾问，落实“放管服”(ok)改革。")
    assert "(WTO)" in report.text and "一村(社区)" in report.text


@pytest.mark.parametrize("encoding", ["utf-16", "gbk", "gb18030", "utf-8-sig"])
def test_encodings_give_the_same_report(encoding):
    text = "青山镇2023年法治政府建设年度报告\n" + BODY
    raw = text.encode(encoding) if encoding != "utf-8-sig" else b"\xef\xbb\xbf" + text.encode("utf-8")
    report = report_of(raw)
    assert report.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    assert report.title == "青山镇2023年法治政府建设年度报告"
    assert report.text == report_of(text).text


def test_replacement_characters_and_misaligned_numbering_are_repaired():
    text = ("青山镇2023年法治政府建设年度报告\n一、主要举措和成效\n"
            "?。ㄒ唬?加强组织领导锟斤拷锟斤拷\n成立领导小组。\n?。ǘ?规范执法\u0000\u202e\n规范执法行为。")
    report = report_of(text)
    assert [s.number for s in report.sections] == ["一、", "（一）", "（二）"]
    assert report.sections[1].heading == "加强组织领导"
    assert "锟" not in report.text and "\u202e" not in report.text
    kinds = {c.kind for c in report.changes}
    assert {"mojibake", "replacement-char", "control-char"} <= kinds


def test_stray_markup_in_a_text_copy_is_removed_and_recorded():
    report = report_of("一、主要举措和成效\n<p>加强组织领导&nbsp;成立领导小组。</p>")
    assert "加强组织领导\xa0成立领导小组。" in report.text or "加强组织领导 成立领导小组。" in report.text
    assert "<p>" not in report.text
    assert any(c.kind == "markup" for c in report.changes)


# ---- cannot publish
@pytest.mark.parametrize("text", ["", "   \n\n  ", "\u0001\u0002" * 200, "Lorem ipsum dolor sit amet."])
def test_nothing_to_publish_is_an_error_problem(text):
    report, problems = parse(text)
    assert report is None
    assert problems and problems[0].severity == "error" and problems[0].path == "case.txt"


# ---- HTML pages
HTML = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>澳门新葡京-白沙镇2023年法治政府建设年度报告_白沙镇人民政府</title>
<meta name="ArticleTitle" content="白沙镇2023年法治政府建设年度报告">
<meta name="PubDate" content="2024-03-28 10:19">
<meta name="ContentSource" content="白沙镇人民政府">
<script>var x = "一、不是正文";</script></head>
<body><div class="header"><ul class="nav"><li>首页</li><li>政务公开</li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; 信息公开</div>
<table class="xxgk"><tr><td>索引号：</td><td>11441700007280420Y/2024-00050</td><td>成文日期：</td><td>2024-03-20</td></tr>
<tr><td>文号：</td><td>白府〔2024〕5号</td></tr></table>
<h1>白沙镇2023年法治政府建设年度报告</h1>
<div class="TRS_Editor" id="zoom">
<p style="text-align:center">白沙镇2023年法治政府建设年度报告</p>
""" + "\n".join(f"<p>{line}</p>" for line in BODY.split("\n")) + """
<p>白沙镇人民政府<br>2024年1月11日</p>
</div><div class="tools">【打印本页】【关闭窗口】</div>
<div class="footer">网站标识码：4401000001 粤ICP备12345678号</div></body></html>"""


def test_html_page_article_meta_and_table():
    report = report_of(HTML, fmt="html")
    assert report.title == "白沙镇2023年法治政府建设年度报告" and not report.title_derived
    assert report.published == "2024-03-28" and report.written == "2024-03-20"
    assert report.source_name == "白沙镇人民政府" and report.doc_no == "白府〔2024〕5号"
    assert report.index_no == "11441700007280420Y/2024-00050"
    assert report.signed == "2024-01-11" and report.year == 2023 and report.place == "白沙镇"
    for para in PARAGRAPHS:
        assert para in report.text
    for junk in ("不是正文", "首页", "打印", "网站标识码", "葡京", "<p>"):
        assert junk not in report.text
    assert [s.part for s in report.sections if s.level == 1] == [1, 2, 3, 4]
    heading = next(s for s in report.sections if s.heading == "加强组织领导")
    assert report.text.count("\n") >= 10 and heading.line > 10  # lines of the HTML source


def test_html_without_container_hint_takes_the_densest_block():
    page = ("<html><body><div id='a'><a href='/'>首页</a> <a>新闻</a></div><div id='b'>"
            + "".join(f"<p>{line}</p>" for line in BODY.split("\n")) + "</div><div>版权所有</div></body></html>")
    report = report_of(page, fmt="html")
    assert report.preamble.startswith("县委、县政府：") and "版权所有" not in report.text


# ---- Markdown with front matter, sidecar overrides
def test_markdown_front_matter_and_markup():
    text = ("---\ntitle = \"白沙镇2023年法治政府建设年度报告\"\npublished = \"2024-03-01\"\nlevel = \"镇\"\n"
            "id = \"baisha-2023\"\n---\n\n# 白沙镇2023年法治政府建设年度报告\n\n"
            + BODY.replace("一、", "## 一、").replace("（一）加强", "**（一）加强").replace("组织领导\n", "组织领导**\n"))
    report, problems = parse(text, fmt="md")
    assert report is not None and not [p for p in problems if p.severity == "error"]
    assert report.title == "白沙镇2023年法治政府建设年度报告" and report.published == "2024-03-01"
    assert report.slug == "baisha-2023" and report.place == "白沙镇"
    assert [s.number for s in report.sections][:2] == ["一、", "（一）"]
    assert "#" not in report.text and "**" not in report.text


def test_markdown_yaml_like_front_matter_with_bad_year_is_reported_at_its_line():
    text = "---\ntitle: 白沙镇年度报告\nyear: 20x3\nplace: 白沙镇\n---\n" + BODY
    report, problems = parse(text, fmt="md")
    assert report is not None
    bad = [p for p in problems if "year" in p.message]
    assert bad and bad[0].line == 3 and bad[0].path == "case.md"
    assert report.year == 2023  # the text's year stands when the override is invalid


def test_sidecar_wins_over_front_matter_and_text_and_is_validated():
    text = "---\nplace: 红山镇\n---\n青山镇2023年法治政府建设年度报告\n" + BODY
    overrides = (("place", "白沙乡"), ("published", "2024-13-01"), ("region", "某县"), ("year", "2022"))
    lines = (("place", 1), ("published", 2), ("region", 3), ("year", 4))
    report, problems = parse(text, fmt="md", overrides=overrides, override_lines=lines, path="x/r.md")
    assert report is not None
    assert (report.place, report.level, report.year, report.region) == ("白沙乡", "乡", 2022, "某县")
    assert report.published is None
    bad = [p for p in problems if p.severity == "error"]
    assert [(p.path, p.line) for p in bad] == [("x/r.meta.toml", 2)]


def test_every_numbering_style_gets_a_level():
    text = ("第一部分 主要举措和成效\n一、加强组织领导\n（一）成立领导小组\n1.明确分工\n1、细化任务\n"
            "（1）按月调度\n①建立台账\n开展工作。\n第二部分 存在的不足和原因\n一)宣传不够\n宣传不够深入。")
    report = report_of(text)
    levels = {s.number: s.level for s in report.sections}
    assert levels["第一部分"] == 1 and levels["一、"] == 2 and levels["（一）"] == 3
    assert levels["1."] < levels["1、"] < levels["（1）"] < levels["①"]
    assert levels["一)"] == levels["（一）"]
    assert [s.part for s in report.sections if s.level == 1] == [1, 2]


def test_word_saved_html_page():
    page = ("<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><style>p.MsoNormal{}</style></head>"
            "<body><div class=WordSection1>"
            "<p class=MsoNormal align=center><b>青山镇2023年法治政府建设年度报告<o:p></o:p></b></p>"
            + "".join(f"<p class=MsoNormal>&#12288;&#12288;{line}<o:p></o:p></p>" for line in BODY.split("\n"))
            + "</div></body></html>")
    report = report_of(page, fmt="html")
    assert report.title == "青山镇2023年法治政府建设年度报告"
    assert [s.part for s in report.sections if s.level == 1] == [1, 2, 3, 4]
    for para in PARAGRAPHS:
        assert para in report.text
