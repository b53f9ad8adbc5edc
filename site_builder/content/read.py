"""Stage 1, load: find report files under content/, read and decode them.

A report is a text file (.txt, a saved page .html/.htm, curated Markdown .md), decoded
here, or a document (.pdf, .docx, .doc), whose text its reader in formats/ takes out;
.ofd and .wps files are found and refused with what to do. Next to it, an optional
sidecar ``<name>.meta.toml`` overrides fields. Nothing outside the content folder is
read: symlinks that lead out of it are refused.
"""
from __future__ import annotations

import hashlib
import os
import re
import tomllib
from pathlib import Path

from ..config import CONFIG_NAME
from .decode import DecodeError, decode_bytes
from . import formats
from ..model import OVERRIDE_KEYS, Problem, Source

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md", **formats.SUFFIXES}
SIDECAR_SUFFIX = ".meta.toml"
MAX_BYTES = 20 * 1024 * 1024  # a real report is < 1 MB; anything this big is not one
# Never in a real report: C0 controls except tab/newline/CR/VT/FF (the cleaner turns those
# into spaces), DEL, C1 controls, and the bidi embedding/override/isolate controls that can
# make text display differently from what it is ("Trojan Source"). Zero-width characters
# and a stray BOM are common in copied web text: the cleaner removes those.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FORBIDDEN_CHARS = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def find_report_paths(content_dir: Path) -> tuple[tuple[str, ...], tuple[Problem, ...], frozenset[str]]:
    """The content-relative POSIX paths of all report files below content_dir, sorted, the
    problems found, and which of those reports have a sidecar (the listing shows it: no
    need to look for the others'). Files (or their sidecars) that resolve outside the
    folder, dangling or looping symlinks and names that are not clean UTF-8 are reported,
    never read. Hidden files and folders are skipped; symlinked folders are not entered."""
    root = content_dir.resolve()
    found: list[str] = []
    problems: list[Problem] = []
    with_sidecar: set[str] = set()
    folders = [(os.fspath(content_dir), "")]
    while folders:  # os.scandir: the file types come with the listing, no stat per file
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = {entry.name: entry for entry in listing if not entry.name.startswith(".")}
        except OSError:
            continue
        for name, entry in entries.items():
            rel = prefix + name
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, rel + "/"))
                continue
            suffix = os.path.splitext(name)[1]
            if name == CONFIG_NAME or name.endswith(SIDECAR_SUFFIX) or suffix.lower() not in FORMATS:
                continue
            if not _clean_name(rel):
                problems.append(Problem(shown_name(rel), 1, "file name is not valid UTF-8 or has control "
                                        "characters; rename the file"))
                continue
            sidecar = entries.get(name[: -len(suffix)] + SIDECAR_SUFFIX)
            # Only a symlink can lead outside (resolving every path is slow).
            problem = (_outside(Path(entry.path), rel, root) if entry.is_symlink() else None) or (
                _outside(Path(sidecar.path), rel[: -len(suffix)] + SIDECAR_SUFFIX, root)
                if sidecar is not None and sidecar.is_symlink() else None)
            if problem:
                problems.append(problem)
            elif entry.is_file():
                found.append(rel)
                if sidecar is not None:
                    with_sidecar.add(rel)
    problems.sort(key=lambda p: p.path)
    return tuple(sorted(found)), tuple(problems), frozenset(with_sidecar)


def shown_name(name: str) -> str:
    """A file name safe to print: undecodable bytes and control characters escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _clean_name(name: str) -> bool:
    """shown_name(name) == name, without building it: undecodable bytes (kept as lone
    surrogates) and control characters are exactly what is not printable."""
    return name.isprintable()


def _outside(path: Path, rel: str, root: Path) -> Problem | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # dangling link, symlink loop (RuntimeError < 3.13)
        reason = getattr(exc, "strerror", None) or "symlink loop or missing target"
        return Problem(rel, 1, f"cannot read file: {reason}")
    if not real.is_relative_to(root):
        return Problem(rel, 1, "symlink leads outside the content folder; not read")
    return None


def load_source(path: Path, rel: str, raw: bytes | None = None, sidecar: bytes | None = None
                ) -> tuple[Source | None, tuple[Problem, ...]]:
    """Read one report file (named `rel` in messages and URLs) and its sidecar; `raw` and
    `sidecar`: their bytes, when the caller has read them. Never raises for content problems."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(FORMATS))
        return None, (Problem(rel, 1, f"不支持 {path.suffix or '无扩展名'} 格式的文件；可读取的格式：{known}"
                                      f"（unsupported file format {path.suffix!r}）"),)
    if raw is None:
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                return None, (Problem(rel, 1, f"file is {size} bytes, over the {MAX_BYTES}-byte limit"),)
            raw = path.read_bytes()
        except OSError as exc:
            return None, (Problem(rel, 1, f"cannot read file: {exc.strerror or exc}"),)
    if not raw.strip():
        return None, (Problem(rel, 1, "file is empty"),)
    if fmt in formats.DOCUMENTS:
        return _load_document(path, rel, fmt, raw, sidecar)
    try:
        text, encoding = decode_bytes(raw)
    except DecodeError as exc:
        return None, (Problem(rel, exc.line, f"undecodable: {exc}"),)
    bad = FORBIDDEN_CHARS.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        kind = "bidirectional control" if bad[0] in BIDI_CONTROLS else "control"
        return None, (Problem(rel, line, f"{kind} character U+{ord(bad[0]):04X} in the text "
                                         f"(binary or tampered file); remove it"),)
    overrides, lines, problems = _read_sidecar(path, rel, sidecar)
    source = Source(
        path=rel,
        format=fmt,
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        encoding=encoding,
        overrides=overrides,
        override_lines=lines,
    )
    return source, problems


def _load_document(path: Path, rel: str, fmt: str, raw: bytes, sidecar: bytes | None
                   ) -> tuple[Source | None, tuple[Problem, ...]]:
    """A document format's Source: its reader's text, paragraphs, tables and page chrome.
    Control characters in the text a reader took out are dropped (they are no text);
    bidirectional controls mean a tampered file, as in a text file."""
    try:
        found = formats.extract(fmt, raw)
    except formats.FormatError as exc:
        return None, (Problem(rel, exc.line, str(exc)),)
    bad = re.search(f"[{BIDI_CONTROLS}]", found.text)
    if bad:
        line = found.text.count("\n", 0, bad.start()) + 1
        return None, (Problem(rel, line, f"文字中有双向控制字符 U+{ord(bad[0]):04X}（文件可能被篡改）；请删除后再提供"
                                         f"（bidirectional control character in the text）"),)
    overrides, lines, problems = _read_sidecar(path, rel, sidecar)
    source = Source(
        path=rel, format=fmt, raw=raw, sha256=hashlib.sha256(raw).hexdigest(),
        text=FORBIDDEN_CHARS.sub("", found.text), encoding="", overrides=overrides, override_lines=lines,
        lines=tuple((no, FORBIDDEN_CHARS.sub("", text)) for no, text in found.lines),
        tables=found.tables, changes=found.changes, pages=found.pages,
    )
    return source, problems


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + SIDECAR_SUFFIX)


def sidecar_rel(rel: str) -> str:
    """sidecar_path for a content-relative POSIX path."""
    return rel[: -len(os.path.splitext(rel)[1])] + SIDECAR_SUFFIX


def _read_sidecar(path: Path, report_rel: str, data: bytes | None = None):
    """The overrides of the sidecar next to `path`, given as `data` (its bytes) when the
    caller has read it."""
    sidecar = sidecar_path(path)
    rel = report_rel[: len(report_rel) - len(path.suffix)] + SIDECAR_SUFFIX
    try:
        if data is None:
            if not sidecar.is_file():
                return (), (), ()
            if sidecar.stat().st_size > MAX_BYTES:
                return (), (), (Problem(rel, 1, f"sidecar is over the {MAX_BYTES}-byte limit"),)
            data = sidecar.read_bytes()
        text = data.decode("utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return (), (), (Problem(rel, 1, f"cannot read sidecar: {exc}"),)
    except tomllib.TOMLDecodeError as exc:
        return (), (), (Problem(rel, toml_error_line(exc), f"invalid TOML: {exc}"),)
    overrides, lines, problems = [], [], []
    for key, value in sorted(data.items()):
        line = _line_of(text, key)
        if key not in OVERRIDE_KEYS:
            problems.append(Problem(rel, line, f"unknown field {key!r} (known: {', '.join(OVERRIDE_KEYS)})", "warning"))
            continue
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        if FORBIDDEN_CHARS.search(str(value)):
            problems.append(Problem(rel, line, f"field {key!r} has a control character; remove it"))
            continue
        overrides.append((key, str(value)))
        lines.append((key, line))
    return tuple(overrides), tuple(lines), tuple(problems)


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    """The line of a TOML error (Python < 3.14 has it only in the message)."""
    found = re.search(r"at line (\d+)", str(exc))
    return getattr(exc, "lineno", None) or (int(found[1]) if found else 1)


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(key):
            return number
    return 1
