"""One definition of each character class the archive's code uses.

Han characters are the CJK unified ideographs (all extension blocks up to G, in the BMP and
beyond), the compatibility ideographs and 〇 (U+3007, a numeral written as a Han character).
Every module that asks "is this Chinese?" takes its class from here, and static/search.js is
given HAN_JS by the build, so the browser agrees with Python.
"""
from __future__ import annotations

HAN_RANGES = (
    (0x3007, 0x3007),  # 〇
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
# The ranges as the inside of a regular-expression character class (Python re).
HAN = "\u3007\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\U00020000-\U000323AF"
# The same class as JavaScript regex source (with the u flag).
HAN_JS = r"[\u3007\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{323AF}]"
# CJK punctuation (、。〈〉《》「」【】…) and the fullwidth and halfwidth forms (，：（）０-９).
CJK_PUNCTUATION = "\u3000-\u303F\uFF00-\uFFEF"


def is_han(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in HAN_RANGES)
