"""Turn a file's bytes into text, recording which encoding was used."""
from __future__ import annotations

import re

from ..text.chars import CJK_PUNCTUATION, HAN

_CHINESE = HAN + CJK_PUNCTUATION
# A character that valid UTF-8 mistaken for GB18030 would not give: Chinese, or Latin-1
# and Latin Extended.
_UTF8_SIGNS = re.compile(f"[{_CHINESE}\u00a0-\u024f]")
_NOT_ASCII_OR_CHINESE = re.compile(f"[^\x00-\x7f{_CHINESE}]")


class DecodeError(ValueError):
    def __init__(self, message: str, line: int = 1, start: int = 0):
        super().__init__(message)
        self.line = line
        self.start = start  # offset of the first byte that could not be decoded


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding). BOMs win; then strict UTF-8; then GB18030 (which covers
    GBK and GB2312). UTF-16 without a BOM is recognised by its NUL bytes; other NUL
    bytes, but for one in a thousand, mean a binary file, which is refused rather than
    shown as mojibake."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return _strict(raw[3:], "utf-8", "utf-8-sig")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(raw, "utf-16", "utf-16")
    if b"\x00" in raw:
        codec = _utf16_without_bom(raw)
        if codec is not None:
            return _strict(raw, codec, "utf-16")
        if raw.count(b"\x00") > max(2, len(raw) // 1000):  # a stray NUL in a text is removed later (text/chars.UNSAFE)
            line = raw[: raw.index(b"\x00")].count(b"\n") + 1
            raise DecodeError("binary file (NUL bytes), not text", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    else:
        return _prefer_gb18030_if_chinese(raw, text)
    try:
        return _strict(raw, "gb18030", "gb18030")
    except DecodeError as exc:
        if exc.start >= utf8_error:
            raise
    return _strict(raw, "utf-8", "utf-8")  # damaged UTF-8 (it got further): say where


def _prefer_gb18030_if_chinese(raw: bytes, utf8_text: str) -> tuple[str, str]:
    """Short GBK text can also be valid UTF-8 (「一」 = D2 BB = Cyrillic 「һ」). Valid UTF-8
    with no Han, no CJK punctuation and no Latin letters beyond ASCII, whose bytes read
    entirely as Chinese in GB18030, is taken as GB18030; accented Latin text and Chinese
    punctuation (「、X」, which GB18030 would read as 「銆乆」) stay UTF-8."""
    if utf8_text.isascii() or _UTF8_SIGNS.search(utf8_text):
        return _normalise(utf8_text), "utf-8"
    try:
        gb_text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return _normalise(utf8_text), "utf-8"
    if not _NOT_ASCII_OR_CHINESE.search(gb_text):
        return _normalise(gb_text), "gb18030"
    return _normalise(utf8_text), "utf-8"


def _utf16_without_bom(raw: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes read as Chinese text in one of them."""
    if len(raw) % 2:
        return None
    best, best_score = None, 0.0
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = raw[:8192].decode(codec)
        except UnicodeDecodeError:
            continue
        good = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or " " <= ch <= "~" or ch in "\r\n\t"
                   or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")
        score = good / max(1, len(text))
        if score > best_score:
            best, best_score = codec, score
    return best if best_score >= 0.9 else None


def _strict(raw: bytes, codec: str, name: str) -> tuple[str, str]:
    try:
        return _normalise(raw.decode(codec)), name
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        if codec.startswith("utf-16"):
            line = raw[: exc.start].count(b"\n\x00" if codec != "utf-16-be" else b"\x00\n") + 1
        raise DecodeError(f"cannot decode as {name} (byte {exc.start})", line, exc.start) from None


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
