"""Turn a file's bytes into text, recording which encoding was used."""
from __future__ import annotations


class DecodeError(ValueError):
    def __init__(self, message: str, line: int = 1, start: int = 0):
        super().__init__(message)
        self.line = line
        self.start = start  # offset of the first byte that could not be decoded


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Return (text, encoding). BOMs win; then strict UTF-8; then GB18030."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return _strict(raw[3:], "utf-8", "utf-8-sig")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(raw, "utf-16", "utf-16")
    try:
        return _normalise(raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_end = exc.start
    try:
        return _strict(raw, "gb18030", "gb18030")
    except DecodeError as exc:
        if exc.start >= utf8_end:
            raise
    # UTF-8 got further: the file is most likely damaged UTF-8; say where.
    return _strict(raw, "utf-8", "utf-8")


def _strict(raw: bytes, codec: str, name: str) -> tuple[str, str]:
    try:
        return _normalise(raw.decode(codec)), name
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DecodeError(f"cannot decode as {name} (byte {exc.start})", line, exc.start) from None


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
