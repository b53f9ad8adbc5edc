"""The five real samples in content/: expected fields, table-driven."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from site_builder.content.decode import decode_bytes
from site_builder.model import Source
from site_builder.content.parse import parse_source

CONTENT = Path(__file__).resolve().parent.parent / "content"


def parse_file(name: str):
    raw = (CONTENT / name).read_bytes()
    text, encoding = decode_bytes(raw)
    source = Source(name, "txt", raw, hashlib.sha256(raw).hexdigest(), text, encoding)
    report, problems = parse_source(source)
    assert report is not None, problems
    return report


SAMPLES = {
    "yanpi-zhen-2024.txt": dict(
        title="演陂镇2024年法治政府建设年度报告", title_derived=False, place="演陂镇", level="镇",
        year=2024, script="simplified", first=("上一年度推进法治政府建设的主要举措和成效", "(一)", 1),
        removed={"英国威廉希尔公司": "spam", "图片": "chrome", "扫一扫在手机打开当前页": "chrome",
                 "演陂镇2024年度法治政府建设工作报告": "duplicate-title"},
        flags={"placeholder", "spam-removed"}, parts={1, 2, 3, 4, 5},
    ),
    "jinshi-zhen-2021.txt": dict(
        title="金石镇2021年法治政府建设年度报告", title_derived=False, place="金石镇", level="镇",
        year=2021, script="traditional", region="潮州市潮安区", first=("工作措施和成效", "一、", 1),
        removed={"金石鎮(zhèn)2021年法治政府建設(shè)年度報(bào)告": "duplicate-title"},
        flags={"missing-part-3"}, parts={1, 2, 4},
    ),
    "citangxu-zhen-2024.txt": dict(
        title="祠堂圩镇2024年法治政府建设年度报告", title_derived=True, place="祠堂圩镇", level="镇",
        year=2024, script="simplified", first=("2024年度推进法治政府建设的主要举措和成效", "一、", 1),
        removed={}, flags=set(), parts={1, 2, 3, 4},
    ),
    "yuquan-zhen-2023.txt": dict(
        title="中共鱼泉镇委员会 鱼泉镇人民政府关于2023年法治政府建设情况的报告", title_derived=False, place="鱼泉镇", level="镇",
        year=2023, script="simplified", issuer=("中共鱼泉镇委员会", "鱼泉镇人民政府"),
        addressee="县委、县政府", cc="县委依法治县办", signed="2024-01-11", publisher=None,
        first=("2023年推进法治政府建设的主要举措和成效", "一、", 1),
        removed={"2024年1月11日": "signature", "主送：县委、县政府，抄送：县委依法治县办。": "metadata"},
        flags=set(), parts={1, 2, 3, 4},
    ),
    "anhua-chengnanqu-2023.txt": dict(
        title="县城南区2023年法治政府建设工作汇报", title_derived=False, place="城南区", level="区",
        region="安化县", year=2023, script="simplified", index_no="75803364X/2024-1921136",
        published="2024-04-01", written="2024-04-01", source_name="安化县城南区事务中心", publisher="安化县城南区",
        first=("工作任务进展及成效", "一、", 1),
        removed={"当前位置: 首页 > 信息公开平台 > 县城南区": "chrome", "[打印] [收藏] [纠错] [关闭]": "chrome",
                 "分享到:": "chrome"},
        flags={"missing-part-3"}, parts={1, 2, 4},
    ),
}
FIELDS = ("title", "title_derived", "place", "level", "year", "script", "region", "issuer", "addressee",
          "cc", "signed", "index_no", "published", "written", "source_name", "publisher")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_fields(name):
    expected = SAMPLES[name]
    report = parse_file(name)
    for key in FIELDS:
        if key in expected:
            assert getattr(report, key) == expected[key], key
    heading, number, level = expected["first"]
    first = report.sections[0]
    assert (first.heading, first.number, first.level) == (heading, number, level)
    assert set(report.flags) == expected["flags"]
    assert {s.part for s in report.sections if s.part} == expected["parts"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_removals_are_recorded_and_gone(name):
    report = parse_file(name)
    removed = {c.before: c.kind for c in report.changes if c.after == ""}
    for before, kind in SAMPLES[name]["removed"].items():
        assert removed.get(before) == kind, before
        assert before not in report.text
    for junk in ("威廉希尔", "扫一扫", "[打印]", "分享到", "索引号", "发布时间", "主送"):
        assert junk not in report.text
        assert junk not in report.title


def test_jinshi_repairs_mojibake_pinyin_and_script():
    report = parse_file("jinshi-zhen-2021.txt")
    assert "（一）强化领导" in report.text and "（二）强化措施" in report.text
    assert "?。" not in report.text and "(zh" not in report.text and "qiáng" not in report.text
    assert "鎮" not in report.text and "镇" in report.text
    kinds = {c.kind for c in report.changes}
    assert {"pinyin", "mojibake", "t2s", "duplicate-title"} <= kinds
    t2s = next(c for c in report.changes if c.kind == "t2s")
    assert t2s.before != t2s.after and t2s.line >= 1


def test_yuquan_levels_and_body_end():
    report = parse_file("yuquan-zhen-2023.txt")
    assert [s.level for s in report.sections[:3]] == [1, 2, 2]
    assert report.sections[1].number == "（1）"
    assert report.preamble.startswith("县委、县政府：")
    assert report.text.rstrip().endswith("良好社会氛围。")
    assert "2024年1月11日" not in report.text


def test_citangxu_year_ignores_outline_range():
    report = parse_file("citangxu-zhen-2024.txt")
    assert report.year == 2024
    assert report.preamble.startswith("祠堂圩镇2024年法治政府建设工作")
    assert report.sections[-1].heading == "完善法治工作机制"


def test_anhua_heading_with_text_on_same_line_is_split():
    report = parse_file("anhua-chengnanqu-2023.txt")
    sub = next(s for s in report.sections if s.heading == "成立领导小组,坚持齐抓共管")
    assert sub.level == 3 and sub.text.startswith("成立了以书记")
    assert "1.成立领导小组,坚持齐抓共管。成立了以书记" in report.text
