"""Normalisation of text for matching: NFKC, lower case, then traditional -> simplified one
character at a time with a map taken from OpenCC's TSCharacters table (first candidate).

Character by character, so the browser can apply the very same map to a query
(static/search.js) and every normalised text keeps the length and offsets of its source.
"""
from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path


def _opencc_dictionary() -> Path:
    import opencc

    return Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"


@cache
def char_map() -> dict[str, str]:
    """Traditional -> simplified, one character to one character (OpenCC TSCharacters)."""
    table: dict[str, str] = {}
    for line in _opencc_dictionary().read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        value = values.split(" ")[0] if values else ""
        if len(key) == 1 and len(value) == 1 and key != value:
            table[key] = value
    return table


@cache
def _translation() -> dict[int, str]:
    return {ord(k): v for k, v in char_map().items()}




def _norm_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower().translate(_translation())


# Where the compatibility characters of real reports are: Latin-1, general punctuation,
# circled numbers, Kangxi radicals, the ideographic space, enclosed and squared CJK, CJK
# compatibility ideographs, fullwidth and halfwidth forms. See _fast_table.
_FAST_RANGES = ((0xA0, 0xFF), (0x2000, 0x206F), (0x2460, 0x24FF), (0x2F00, 0x2FDF), (0x3000, 0x3000),
                (0x3200, 0x33FF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


@cache
def _fast_table() -> dict[int, str]:
    """What normalize makes of a character alone, less the lower case: the traditional ->
    simplified map of its NFKC form, for the characters of _FAST_RANGES and of the map
    (whose characters are Han, caseless and in NFKC: a test checks)."""
    translation = _translation()
    table = {cp: unicodedata.normalize("NFKC", chr(cp)).translate(translation)
             for lo, hi in _FAST_RANGES for cp in range(lo, hi + 1)}
    return {cp: text for cp, text in table.items() if text != chr(cp)} | {
        cp: text for cp, text in translation.items() if cp not in table}


# From this many characters normalize maps a text with _fast_arrays, not str.translate.
LONG_TEXT = 256


def normalize(text: str) -> str:
    """NFKC + lower case + traditional -> simplified (characters). Mapped character by
    character first: when the result is in NFKC (nothing composes or reorders across
    characters), it is what normalising the whole text gives, a third of the time."""
    mapped = _map_long(text) if len(text) >= LONG_TEXT else None
    if mapped is None:
        mapped = text.translate(_fast_table())
    if unicodedata.is_normalized("NFKC", mapped):
        return mapped.lower()
    return unicodedata.normalize("NFKC", text).lower().translate(_translation())


@cache
def _fast_arrays():
    """_fast_table over the BMP as arrays: the code point each character maps to, and
    whether it maps to more than one character."""
    import numpy as np

    image = np.arange(0x10000, dtype="<u4")
    longer = np.zeros(0x10000, dtype=bool)
    for cp, text in _fast_table().items():
        if cp <= 0xFFFF:
            if len(text) == 1:
                image[cp] = ord(text)
            else:
                longer[cp] = True
    return image, longer


def _map_long(text: str) -> str | None:
    """text.translate(_fast_table()), as one lookup of all its code points in an array
    (0.017 s for 1,000 reports, against 0.108 s); None when a character is outside the
    BMP or maps to several (a few reports in a hundred): translate them."""
    import numpy as np

    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if int(cps.max()) > 0xFFFF:
        return None
    image, longer = _fast_arrays()
    if longer[cps].any():
        return None
    return image[cps].tobytes().decode("utf-32-le", "surrogatepass")


def normalize_mapped(text: str) -> tuple[str, list[int]]:
    """Normalise character by character; return the text and, for each of its
    characters, the index of the source character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = _norm_char(ch) if not ch.isascii() or ch.isupper() else ch
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin

