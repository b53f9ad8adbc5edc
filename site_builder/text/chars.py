"""One definition of each character class the archive's code uses.

Han characters are the CJK unified ideographs (all extension blocks up to G, in the BMP and
beyond), the compatibility ideographs and 〇 (U+3007, a numeral written as a Han character).
Every module that asks "is this Chinese?" takes its class from here, and static/search.js is
given HAN_JS by the build, so the browser agrees with Python.
"""
from __future__ import annotations

import re

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


# Characters that are never text: C0 controls but tab, newline and carriage return; DEL and
# the C1 controls; the bidirectional embedding, override and isolate controls, which make
# text display otherwise than it reads ("Trojan Source"); the noncharacters; lone
# surrogates. None is valid in XML 1.0 or safe in a page, so they are removed wherever text
# comes from (see content/read.py and content/stage.py).
UNSAFE = ("\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef"
          + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)))
UNSAFE_RE = re.compile(f"[{UNSAFE}]")


def strip_unsafe(text: str) -> str:
    return UNSAFE_RE.sub("", text) if UNSAFE_RE.search(text) else text
