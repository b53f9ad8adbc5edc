"""Line-level cleaning: repairs inside a line and classification of whole lines.

Two jobs, both driven by the tables below:

* ``repair_line`` fixes damage inside a line (control characters, stray markup,
  misaligned-GBK numbering, 锟斤拷, inline pinyin glosses, spaces inside words,
  traditional -> simplified) and returns the changes it made.
* ``classify_line`` says whether a whole line is page chrome, an aggregator line
  or injected spam (and so must not reach the published page).

``strip_spam`` removes gambling/porn brands that were injected inside a line.
Everything here is linear in the length of the line; regexes are compiled once.
"""
from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from ..text.words import word_ends

CJK = "\u3400-\u9fff\uf900-\ufaff"

# ---------------------------------------------------------------- control chars
# C0 controls (except tab/newline), DEL, zero-width and bidi controls, BOM.
CONTROL_RE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb]"
)

# ---------------------------------------------------------------- stray markup
MARKUP_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]{0,10}(?:\s[^<>]{0,300})?/?>")
ENTITY_RE = re.compile(r"&(?:#\d{1,6}|#x[0-9a-fA-F]{1,5}|[a-zA-Z]{2,8});")

# ---------------------------------------------------------------- mojibake
# 「锟斤拷」 is U+FFFD written as UTF-8 and read as GBK; 烫烫/屯屯 are MSVC fill bytes.
REPLACEMENT_RE = re.compile("(?:锟斤拷)+|\ufffd+|(?:烫){3,}|(?:屯){3,}")

_NUMERALS = "一二三四五六七八九十"
_CN_NUMBERS = list(_NUMERALS) + ["十" + d for d in _NUMERALS[:-1]] + ["二十"]
_LOST = "[?？\ufffd\ue000-\uf8ff┣]"  # what a lost byte turns into


def _misaligned(numeral: str) -> str | None:
    """Regex for 「（n）」 read one byte off: 「?。ㄒ唬?」 for 「（一）」.

    GBK 「（n）」 is A3A8 <n> A3A9; read from the A3 of 「（」 it pairs as
    A1A3 (。) A8<n0> <n1>A3 ... and the last byte is lost.
    """
    raw = b"\xa8" + numeral.encode("gbk") + b"\xa3"
    out = []
    for i in range(0, len(raw), 2):
        try:
            out.append(re.escape(raw[i : i + 2].decode("gbk")))
        except UnicodeDecodeError:
            out.append(_LOST)
    if out[0] == _LOST:
        return None  # too ambiguous to recognise safely
    return f"{_LOST}?。" + "".join(out) + f"{_LOST}?"


MOJIBAKE_NUMBERING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), f"（{n}）")
    for n in reversed(_CN_NUMBERS)  # 「十一」 before 「十」
    if (pattern := _misaligned(n)) is not None
)
_MOJIBAKE_HINT = re.compile("。[ㄒǘㄈㄋㄎㄆòňㄊ]")

# ---------------------------------------------------------------- pinyin glosses
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PLAIN = str.maketrans(_TONED + "ü", "aaaaeeeeiiiioooouuuuvvvvv")
_SYLLABLE = re.compile(
    r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?"
    r"(?:a|o|e|ai|ei|ao|ou|an|en|ang|eng|ong|er|i|ia|ie|iao|iu|ian|in|iang|ing|iong"
    r"|u|ua|uo|uai|ui|uan|un|uang|ueng|v|ve|van|vn|ue|io)"
)
PINYIN_RE = re.compile(rf"(?<=[{CJK}]) ?[(（] {{0,2}}([a-z{_TONED}ü]{{1,6}}) {{0,2}}[)）]")
# A gloss with a tone mark after a character that mojibake turned into a letter (「Y(jié)合」).
TONED_GLOSS_RE = re.compile(rf"(?<=[A-Za-z?？])[(（]([a-z{_TONED}ü]{{0,5}}[{_TONED}][a-z{_TONED}ü]{{0,5}})[)）]")
# A gloss whose opening bracket was eaten by mojibake: 「（一）qiáng)化」.
ORPHAN_PINYIN_RE = re.compile(rf"(?<=[）)])([a-z{_TONED}ü]{{0,5}}[{_TONED}][a-z{_TONED}ü]{{0,5}})\s?[)）]")


def _is_syllable(word: str) -> bool:
    return _SYLLABLE.fullmatch(word.translate(_PLAIN)) is not None


@functools.cache
def _jieba_path() -> Path:
    import importlib.util

    return Path(importlib.util.find_spec("jieba").origin).parent / "dict.txt"  # without importing jieba


@functools.cache
def _two_char_words() -> dict[str, int]:
    """Two-character words of jieba's dictionary -> frequency."""
    from ..text.tables import table

    return table("jieba-pairs", _jieba_path(), "1", _pairs)


@functools.cache
def _word_tails() -> dict[str, tuple[int, str]]:
    """For words of 2-4 characters of jieba's dictionary: the rest of the word ->
    (weighted frequency, first character)."""
    from ..text.tables import table

    made = table("jieba-tails", _jieba_path(), "1", _tails)
    return {tail: (int(value[1:]), value[0]) for tail, value in made.items()}


def _dictionary(path: Path):
    for row in path.read_text(encoding="utf-8").splitlines():
        word, _, rest = row.partition(" ")
        if 2 <= len(word) <= 4:
            yield word, int(rest.partition(" ")[0] or 0)


def _pairs(path: Path):
    return ((word, freq) for word, freq in _dictionary(path) if len(word) == 2)


def _tails(path: Path):
    tails: dict[str, tuple[int, str]] = {}
    for word, freq in _dictionary(path):
        weighted = freq * len(word) ** 3
        if weighted > tails.get(word[1:], (0, ""))[0]:
            tails[word[1:]] = (weighted, word[0])
    return ((tail, f"{first}{weighted}") for tail, (weighted, first) in tails.items())


def warm_up() -> None:
    """Load the tables cleaning needs for most reports (the word tails only mend a kind of
    mojibake: they are loaded when it is seen)."""
    to_simplified("預覽")  # OpenCC's
    _two_char_words()


@functools.cache
def _chars_for(syllable: str) -> tuple[str, ...]:
    from pypinyin.pinyin_dict import pinyin_dict

    return tuple(chr(k) for k, v in pinyin_dict.items() if syllable in v.split(","))


# Words that start report headings, tried before the general dictionary.
_HEADING_WORDS = ("存在问题", "存在的", "存在不足", "其他需要", "主要举措", "党政主要", "工作措施", "工作开展",
                  "下一步", "下阶段", "推进法治", "加强组织", "强化组织", "深入学习", "全面推进", "健全完善")


def _restore_eaten(text: str) -> str:
    """The misaligned byte also ate the character after 「）」: guess it from the words it
    starts (「（一）作措施」 -> 「（一）工作措施」); a pinyin orphan is left to _restore."""
    if "\x00" not in text:
        return text

    def guess(m: re.Match[str]) -> str:
        after = to_simplified(m.string[m.end() : m.end() + 4])
        if ORPHAN_PINYIN_RE.match(")" + m.string[m.end() : m.end() + 8]) or not after:
            return ""
        if re.match(r"\d{3}年", after):
            return "2"
        if after.startswith("一年"):
            return "下" if re.search("安排|计划|打算|思路", m.string[m.end() :]) else "上"
        for word in _HEADING_WORDS:
            if after.startswith(word[1:4]):
                return word[0]
        if _two_char_words().get(after[:2], 0) >= 100:
            return ""  # the text after 「）」 reads well as it is: nothing was eaten
        tails = _word_tails()
        found = [tails[after[:k]] for k in (3, 2, 1) if after[:k] in tails]
        return max(found)[1] if found else ""

    return re.sub("\x00", guess, text)


def _restore(m: re.Match[str]) -> str:
    """Guess the character eaten with its gloss's bracket: 「（一）qiáng)化」 -> 「（一）強化」."""
    if not _is_syllable(m[1]):
        return m[0]
    following = m.string[m.end() : m.end() + 1]
    words = _two_char_words()
    best = max(
        ((words.get(to_simplified(c) + to_simplified(following), 0), c) for c in _chars_for(m[1])),
        default=(0, ""),
    )
    return best[1] if best[0] > 0 else ""


# ---------------------------------------------------------------- spacing
# Word/PDF exports put spaces between characters: 「法 治 政 府 建 设」.
_CJK_GAP = re.compile(rf"(?<=[{CJK}，。、；：])[ \u3000\u00a0]+(?=[{CJK}，。、；：])")


def _despace(line: str) -> str:
    gaps = _CJK_GAP.findall(line)
    if len(gaps) < 3:
        return line
    pieces = [p for p in _CJK_GAP.split(line) if p]
    if sum(len(p) for p in pieces) / len(pieces) > 4.0:
        return line  # ordinary phrase spacing: 「加强组织领导 强化理论学习」
    return _CJK_GAP.sub("", line)


# ---------------------------------------------------------------- t2s (OpenCC)
@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@functools.cache
def _traditional_chars() -> frozenset[str]:
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars = set()
    for row in path.read_text(encoding="utf-8").splitlines():
        key, _, values = row.partition("\t")
        if len(key) == 1 and values.split() != [key]:
            chars.add(key)
    return frozenset(chars)


def to_simplified(text: str) -> str:
    """OpenCC t2s, skipped when no character could change (fast path)."""
    if _traditional_chars().isdisjoint(text):
        return text
    return _t2s().convert(text)


_CJK_RUNS = re.compile(f"[{CJK}]+")


def count_traditional(text: str) -> int:
    return sum(map(_traditional_chars().__contains__, text))


def count_cjk(text: str) -> int:
    """How many CJK characters `text` holds (counted by runs: no string per character)."""
    return sum(map(len, _CJK_RUNS.findall(text)))


# ---------------------------------------------------------------- repair
def repair_line(line: str, markup: bool = True) -> tuple[str, list[tuple[str, str, str]]]:
    """Repair damage inside one line. Returns (text, [(kind, before, after)])."""
    changes: list[tuple[str, str, str]] = []

    def step(kind: str, new: str) -> None:
        nonlocal line
        if new != line:
            changes.append((kind, line, new))
            line = new

    step("control-char", CONTROL_RE.sub("", line.replace("\t", " ")))
    if markup and ("<" in line or "&" in line):
        if MARKUP_RE.search(line) or ENTITY_RE.search(line):
            step("markup", html.unescape(MARKUP_RE.sub("", line)))
    if "锟" in line or "\ufffd" in line or "烫烫" in line or "屯屯" in line:
        step("replacement-char", REPLACEMENT_RE.sub("", line))
    if _MOJIBAKE_HINT.search(line):
        new = line
        for pattern, repl in MOJIBAKE_NUMBERING:
            new = pattern.sub(repl + "\x00", new)
        step("mojibake", _restore_eaten(new))
    if "(" in line or "（" in line:
        new = PINYIN_RE.sub(lambda m: "" if _is_syllable(m[1]) else m[0], line)
        new = TONED_GLOSS_RE.sub(lambda m: "" if _is_syllable(m[1]) else m[0], new)
        step("pinyin", new)
        step("mojibake", ORPHAN_PINYIN_RE.sub(_restore, line))
    step("spacing", _despace(line))
    step("t2s", to_simplified(line))
    return line, changes


# ---------------------------------------------------------------- whole lines
SHORT = 60  # chrome/aggregator rules only ever remove lines up to this length

_WIDGET_TOKENS = re.compile(
    r"打印本页|打印此页|打印文章|打印|关闭本页|关闭窗口|关闭|加入收藏|收藏本页|收藏|我要纠错|纠错|"
    r"分享到|分享|字号|字体|默认|保存本页|保存|返回顶部|回到顶部|返回|顶部|浏览次数|阅读次数|"
    r"点击次数|访问次数|浏览量|阅读量|浏览数|阅读数|视力保护色|护眼模式|无障碍浏览|无障碍|长者模式|"
    r"关怀版|适老化|简体版|繁体版|简体|繁体|English|登录|注册|微信|微博|QQ空间|QQ|朋友圈|"
    r"发表评论|评论|点赞|下载|朗读|听全文|语音播报|播报|放大|缩小|背景色|繁體|简体中文|适老版|点击率|"
    r"[大中小]|[\[\]【】『』<>()（）|｜/:：,，、.·•\s\d次-]"
)
CHROME_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"(?:当前位置|当前的位置|您的位置|您现在的位置|你的位置|你现在的位置|所在位置|位置)\s*[:：>].*",
        r"首页\s*[>＞»/|>].*",
        r"[^>＞»]{0,60} [>＞»] [^>＞»]{0,60}[>＞»].{0,60}",  # breadcrumb without a label
        r"(?:.{0,30}? )?(?:欢迎访问.{0,20}? ?)?今天是[:：]?.*",
        # A date with its weekday is a widget, wherever it is on a short line (「青岛市X区人民政府
        # 2018年11月7日星期三」); never the page's date.
        r".{0,30}?\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日 ?(?:星期|周)[一二三四五六日天].*",
        r".*扫一扫.*|.*(?:在手机|手机上)(?:打开|查看|浏览).*|.*二维码.*",
        r"(?:主办|承办|协办|维护|运维)(?:单位)?\s*[:：].*|.*地址\s*[:：].*(?:邮编|电话|邮政编码).*",
        r"图片|图\d*|视频|附图|打印本页|打印|【?关闭】?",
        r"(?:取消收藏成功|收藏成功|相关办事指南|办事指南|语音播报|进入播报模式|退出播报模式)[!！]?|语音合成中.{0,20}",
        r"(?:上一篇|下一篇|上一条|下一条|上篇|下篇)\s*[:：].*",
        r"【?(?:相关链接|相关文章|相关阅读|相关新闻|相关信息|相关附件|友情链接)】?\s*[:：]?.*",
        r".*(?:网站标识码|ICP备|ICP证|公网安备|网安备|主办单位|承办单位|技术支持|版权所有|Copyright|©|"
        r"网站地图|联系我们|建议使用.*浏览器|分辨率|政府网站找错|党政机关).*",
        # Counters and font widgets alone (a line that goes on to the page's metadata is metadata).
        r"(?:浏览|阅读|访问|点击)(?:次数|数|量|率)? ?[:：] ?[\d,]{0,12}(?: ?次)?",
        r"(?:字号|字体|字体大小) ?[:：] ?[【\[]?[大中小 ]{0,9}[】\]]?",
    )
)
AGGREGATOR_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # 「江苏/苏州 招标采购」「江苏/苏州-2025-03-02 00:00:00」
        rf"[{CJK}]{{2,8}}\s*/\s*[{CJK}]{{2,8}}(?:\s*/\s*[{CJK}]{{2,8}})?(?:[\s\-－—_|].*)?",
        r".*(?:本文来源|本文转载|转载自|转载于|转自|原文链接|原文地址|原文出处|免责声明|如有侵权|侵删|"
        r"来源于网络|来自网络|责任编辑|本站|本网|文章来源|编辑\s*[:：]|审核\s*[:：]|校对\s*[:：]|"
        r"相关推荐|猜你喜欢|热门推荐|推荐阅读|热门文章|最新文章|文档下载|下载文档|全文阅读|展开全文|"
        r"阅读全文|免费下载|查看更多|点击查看|精选范文|范文网|文库|VIP|会员专享).*",
        r"(?:https?://|www\.)\S+",
        r"(?:第\s*\d+\s*页|共\s*\d+\s*页|上一页|下一页|尾页).*",
        r"(?:标签|关键词|关键字|Tags?)\s*[:：].*",
        # Document-sharing sites: the file name, its record and the download buttons.
        r".{2,80}\.(?:docx?|wps|pdf|txt|xlsx?)",
        r"(?:资源ID|资源大小|资源格式|全文页数|文档页数|文档格式|文档大小|下载积分|上传时间|上传者|所需积分|下载次数)\s*[:：].*",
        r"(?:快捷下载|会员登录下载|微信登录下载|三方登录下载|立即下载|免费下载|下载此文档|友情提示|微信扫一扫登录|举报|收藏)[:：]?",
    )
)
# Document-sharing and essay-site boilerplate: distinctive sentences, removed up to
# BOILERPLATE characters (longer than the chrome rules' SHORT: they are whole sentences).
BOILERPLATE = 200
BOILERPLATE_RE = re.compile(
    r".{0,20}?(?:(?:小编|本站|本网)(?:为大家|为你|为您|為你)?(?:精心)?(?:整理|收集|搜集|准备)了?.{0,100}?(?:供大家|供您|供你|仅供|希望|希望能)"
    r"|下载的PDF文件|不支持使用下载工具|下载后均不带水印|在线预览的文档|标题未注明含有答案|一律视为不含答案"
    r"|本站所有资源|本站仅提供|本文档由用户上传|文档来源于网络|全网资源每日更新).*"
)

# Brands and phrases that never belong to a report: removed wherever they occur.
# Names that are gambling brands on their own:
_BRANDS_ALONE = (
    r"(?:英国)?威廉\.?希尔|bet365|BET365|Bet365|betway|188bet|12bet|百家乐|娱乐城|娱乐场|(?:澳门)?新葡京|葡京娱乐"
    r"|威尼斯人|华体会|九游会|金博宝|易胜博|博狗|六合彩开奖|时时彩|北京赛车|真人荷官|真人视讯|雷竞技|开元棋牌"
    r"|(?:KY|AG|PG|BG|BB|OB|IM|BOB|ky|ag|pg|bg|ob|im|bob)(?:真人|视讯|电子|棋牌|体育|娱乐)"
)
# Names that are ordinary words unless a gambling suffix follows (金沙镇, 皇冠 are legitimate):
_BRANDS_SUFFIXED = (
    r"(?:澳门)?(?:金沙|皇冠|太阳城|永利|银河|开云|亚博|凯发|乐鱼|米乐|半岛|必赢|伟德|立博|大发|天博|沙巴|明升|尊龙"
    r"|利来|必发|爱游戏|新濠|美高梅|威尼斯|欧宝|乐动|星空|江南|必威|明陞|宝博|九州)"
)
_SPAM_SUFFIX = (
    r"(?:娱乐城|娱乐场|娱乐平台|娱乐官网|娱乐网址|娱乐|体育在线|体育官网|体育比分|体育|比分|在线|官网|官方网站|网址|平台|集团|"
    r"国际|公司|真人|棋牌|彩票|电子|app|APP|中文网|注册|开户|皇宫|赌场)"
)
# The characters a match of SPAM_BRAND_RE can start with (a test derives them from the
# pattern): checked first, they spare the engine trying every brand at every position of
# every line, nine tenths of the time the pattern took.
SPAM_FIRST = "1ABIKOPabikop乐九亚伟体六凯利北半华博在大天太威娱宝尊开彩必成新无时明易星棋欧永江沙注澳爱百皇真立篮米线网美色英葡足金银雷首黄"
SPAM_BRAND_RE = re.compile(
    rf"(?=[{SPAM_FIRST}])(?:"
    rf"(?:{_BRANDS_ALONE}){_SPAM_SUFFIX}*[:：]?|{_BRANDS_SUFFIXED}{_SPAM_SUFFIX}+[:：]?"
    r"|(?:网上|线上|在线)(?:赌场|博彩|娱乐平台|棋牌游戏|投注)|博彩(?:公司|网站?|平台|官网|网址|app|APP)"
    r"|澳门(?:赌场|博彩|彩票|六合彩|正规|赌博网站|网址|[^\s，。、]{0,4}(?:娱乐场|娱乐城|官网|平台|集团))"
    r"|(?:体育|足球|篮球)投注|彩票(?:平台|官网|网址|app|APP|注册|开户|投注站?网)|棋牌(?:平台|官网|网址|app|APP|游戏平台)"
    r"|(?:注册|首存|开户)送\d*元?|[aA][vV](?:在线|视频|电影)|成人(?:影院|视频|网站|电影)|无码"
    r"|(?:色情|黄色)(?:视频|电影|网站|直播)(?:在线|免费))"
)


_DATE_HINT = re.compile(r"(?:19|20)\d\d ?[-/.年] ?\d{1,2}")


def classify_line(text: str) -> str | None:
    """'spam', 'chrome' or 'aggregator' for a line to drop entirely, else None."""
    if len(text) > SHORT:
        return "aggregator" if len(text) <= BOILERPLATE and BOILERPLATE_RE.fullmatch(text) else None
    if SPAM_BRAND_RE.search(text):
        rest = SPAM_BRAND_RE.sub("", text)
        if len(re.sub(rf"[^{CJK}]", "", rest)) <= max(6, len(text) // 3):
            return "spam"
    if _WIDGET_TOKENS.sub("", text) == "" and not _DATE_HINT.search(text):
        return "chrome"
    for pattern in CHROME_RES:
        if pattern.fullmatch(text):
            return "chrome"
    for pattern in AGGREGATOR_RES:
        if pattern.fullmatch(text):
            return "aggregator"
    if BOILERPLATE_RE.fullmatch(text):
        return "aggregator"
    return None


def strip_spam(text: str) -> str:
    """Remove injected brands inside a line; a brand that replaced 「关于」 becomes 「关于」."""
    if not SPAM_BRAND_RE.search(text):
        return text
    marked = SPAM_BRAND_RE.sub("\x00", text)
    # 「…人民政府<brand>2023年…的报告」: the brand stood where 「关于」 belongs.
    marked = re.sub(r"(政府|委员会|党委|党组|局|办事处|办公室) {0,3}\x00 {0,3}(?=\S)", r"\1关于", marked)
    # 「<brand>2023年…的报告」「X镇<brand>2023年…的报告」: 「关于…的报告」 lost its 「关于」.
    if len(marked) <= 100 and re.fullmatch(
            r"(?:\S{0,30}?(?:镇|乡|县|区|市|街道))? ?\x00 ?\d{4} ?年.{0,60}的(?:报告|汇报|总结)", marked):
        marked = marked.replace("\x00", "关于", 1)
    return _join_marks(marked)


def _join_marks(marked: str) -> str:
    """The text without its brand marks and the spaces around each."""
    pieces = marked.split("\x00")
    out = pieces[0]
    for piece in pieces[1:]:
        out = out.rstrip(" \t\u3000") + piece.lstrip(" \t\u3000")
    return out.strip()


# A widget or a file name glued to the start of the title on one line: 「今天是2018年5月7日 星期一
# 青山镇2023年…报告」「沙河街2022年…情况.docx沙河街2022年…报告」.
_GLUED_HEAD = re.compile(
    r"((?:.{0,30}? )?(?:今天是[:：]? ?)?\d{4} ?年 ?\d{1,2} ?月 ?\d{1,2} ?日 ?(?:星期|周)[一二三四五六日天]"
    r"(?: ?农历[正一二三四五六七八九十冬腊]{1,2}月(?:初[一二三四五六七八九十]|十[一二三四五六七八九]|二十|廿[一二三四五六七八九]"
    r"|三十|[一二三四五六七八九十]))?|.{2,80}?\.(?:docx?|wps|pdf))[ \u3000]*(\S.{5,80})"
)
_TITLE_WORDS = re.compile(r"报告|总结|汇报")


def split_glued_head(line: str) -> list[str] | None:
    """[widget or file name, title] of a line that glues one to the other, or None."""
    m = _GLUED_HEAD.fullmatch(line)
    if m is None or not _TITLE_WORDS.search(m[2]):
        return None
    return [m[1].strip(), m[2].strip()]


# ---------------------------------------------------------------- one-line exports
# A whole report on one line (Word/PDF export): paragraphs separated by spaces, and
# stray spaces inside words. Break at sentence ends and before numbering; elsewhere join.
_NUMBERING_START = re.compile(
    r"(?:[一二三四五六七八九十]{1,3}[、．.]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十]{1,3}部分)"
)
_END_PUNCT = "。！？；：:!?"
_GAP = re.compile(r"[ \u3000\u00a0]+")
_TITLE_END = re.compile(r"(?:报告|总结|汇报)$")
_BLOCK_START = re.compile(r"(?:主送|抄送|附件) {0,2}[:：]")
# Applied to the last characters of a growing segment only (see split_export): `$` patterns
# searched over a whole segment at each step would be quadratic.
_DATE_END = re.compile(r"(?:19|20)\d\d ?年 ?\d{1,2} ?月 ?\d{1,2} ?日$")
_DATE_START = re.compile(r"(?:19|20)\d\d ?年 ?\d{1,2} ?月 ?\d{1,2} ?日")
_ISSUER_END = re.compile(r"(?:人民政府|委员会|办事处|局)$")


# The title a one-line export starts with: it ends in 报告/总结/汇报 right before the first
# sentence (「某县 2023 年度…工作报告2023 年，全县…」) or before the title printed again.
_LEADING_TITLE = re.compile(
    r"([^。，,；;：:]{6,60}?(?:报告|总结|汇报)(?:的报告)?)[ \u3000]*"
    r"(?=(?:\d{4}|20[xX]{2})[ \u3000]*年|根据|按照|为了|为进一步|现将|今年以来|近年来|一年来|[^。，,；;：:]{6,60}?(?:报告|总结|汇报))"
)


def split_export(line: str) -> list[str] | None:
    """Paragraphs of a report exported on one line, or None when the line is not one."""
    if len(line) < 80:
        return None
    if (m := _LEADING_TITLE.match(line)) is not None:
        rest = line[m.end() :]
        if (again := _LEADING_TITLE.match(rest)) is not None:
            rest = rest[again.end() :]  # the title twice: the copy is dropped with the title's duplicates
            return [m[1].strip(), again[1].strip(), *(split_export(rest) or [rest])]
        return [m[1].strip(), *(split_export(rest) or [rest])]
    if len(line) < 300:
        return None
    pieces = [p for p in _GAP.split(line) if p]
    if len(pieces) < 6:
        return None
    segments: list[tuple[str, list[int]]] = []  # text, offsets where a gap was closed
    current, gaps = pieces[0], []
    for piece in pieces[1:]:
        if (
            current[-1] in _END_PUNCT
            or _NUMBERING_START.match(piece)
            or _BLOCK_START.match(piece)
            or _DATE_END.search(current[-16:])
            or (_ISSUER_END.search(current[-8:]) and _DATE_START.match(piece))
            or (not segments and len(current) <= 60 and _TITLE_END.search(current))
        ):
            segments.append((current, gaps))
            current, gaps = piece, []
        elif re.match(f"[{CJK}，、“”]", current[-1]) and re.match(f"[{CJK}，、“”]", piece[0]):
            gaps.append(len(current))
            current += piece
        else:
            current += " "
            gaps.append(len(current))
            current += piece
    segments.append((current, gaps))
    out: list[str] = []
    for text, gaps in segments:
        out.extend(_split_heading(text, gaps))
    return out


def _split_heading(text: str, gaps: list[int]) -> list[str]:
    """「一、…的主要举措和成效 严格执行…。」: the heading ends at the last closed gap that
    falls between two words (by jieba) before the first sentence end."""
    marker = _NUMBERING_START.match(text)
    if not marker or not gaps:
        return [text]
    end = next((i for i, ch in enumerate(text) if ch in "。！？；"), len(text))
    if end == len(text) and len(text) <= 60:
        return [text]  # a heading alone
    limit = min(end - 1, 60)
    candidates = [g for g in gaps if marker.end() + 4 <= g < limit]
    if not candidates:
        return [text]
    bounds = word_ends(text[: limit + 1])
    candidates = [g for g in candidates if g in bounds]
    if not candidates:
        return [text]
    typical = next((g for g in candidates if _HEADING_END.search(text[:g].rstrip())), None)
    # Else: a heading and a short first sentence end at the last gap, a long one at the first.
    gap = typical or (candidates[-1] if end <= 80 else candidates[0])
    return [text[:gap].rstrip(), text[gap:].lstrip()]


_HEADING_END = re.compile(r"(?:情况|成效|原因|安排|机制|能力|水平|建设|工作|举措|问题|不足|打算|基础|环境|体系|职责|稳定|"
                          r"作用|意识|理念|保障|效能|运行|行政|执法|治理|功能|监督|宣传|教育|服务|思想|领导|学习|"
                          r"管理|落实|实效|素养|制度|氛围|成果|措施|部署|责任)$")

