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
from ..model import OVERRIDE_KEYS, Change, Problem, Source
from ..text.chars import UNSAFE_RE, strip_unsafe

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md", **formats.SUFFIXES}
SIDECAR_SUFFIX = ".meta.toml"
MAX_BYTES = 20 * 1024 * 1024  # a real report is < 1 MB; anything this big is not one
MAX_SIDECAR_BYTES = 64 * 1024  # a sidecar holds a few fields


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
                problems.append(Problem(shown_name(rel), 1, "文件名不是有效的 UTF-8 或含控制字符，未读取；请重命名文件（file name is not valid UTF-8 or has control "
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
        return Problem(rel, 1, f"无法读取文件（符号链接失效或循环）：{reason}；请修复或删除该链接（cannot read file: {reason}）")
    if not real.is_relative_to(root):
        return Problem(rel, 1, "符号链接指向内容文件夹之外，未读取；请把文件复制进来（symlink leads outside the content folder）")
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
                return None, (Problem(rel, 1, f"文件有 {size} 字节，超过 {MAX_BYTES} 字节的上限，未读取；真实报告远小于此"
                                              f"（file is {size} bytes, over the {MAX_BYTES}-byte limit）"),)
            raw = path.read_bytes()
        except OSError as exc:
            return None, (Problem(rel, 1, f"无法读取文件：{exc.strerror or exc}；请检查权限（cannot read file）"),)
    if not raw.strip():
        return None, (Problem(rel, 1, "文件为空，请补充内容或删除（file is empty）"),)
    if fmt in formats.DOCUMENTS:
        return _load_document(path, rel, fmt, raw, sidecar)
    try:
        text, encoding = decode_bytes(raw)
    except DecodeError as exc:
        return None, (Problem(rel, exc.line, f"无法解码：{exc}；请另存为 UTF-8 文本（undecodable: {exc}）"),)
    text, changes = _without_unsafe(text)
    overrides, lines, problems, more = _read_sidecar(path, rel, sidecar)
    source = Source(
        path=rel,
        format=fmt,
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        encoding=encoding,
        overrides=overrides,
        override_lines=lines,
        changes=changes + more,
    )
    return source, problems


def _without_unsafe(text: str) -> tuple[str, tuple[Change, ...]]:
    """The text without the characters that are never text (text/chars.UNSAFE), and a
    change for each line they were taken from."""
    if not UNSAFE_RE.search(text):
        return text, ()
    lines, changes = text.split("\n"), []
    for number, line in enumerate(lines):
        if UNSAFE_RE.search(line):
            lines[number] = strip_unsafe(line)
            changes.append(Change(number + 1, "control-char", shown(line), lines[number]))
    return "\n".join(lines), tuple(changes)


def shown(text: str) -> str:
    """Text with its unsafe characters written as their code points, safe to show."""
    return UNSAFE_RE.sub(lambda m: f"[U+{ord(m[0]):04X}]", text)


def _load_document(path: Path, rel: str, fmt: str, raw: bytes, sidecar: bytes | None
                   ) -> tuple[Source | None, tuple[Problem, ...]]:
    """A document format's Source: its reader's text, paragraphs, tables and page chrome,
    without the characters that are never text (recorded as changes)."""
    try:
        found = formats.extract(fmt, raw)
    except formats.FormatError as exc:
        return None, (Problem(rel, exc.line, str(exc)),)
    text, changes = _without_unsafe(found.text)
    overrides, lines, problems, more = _read_sidecar(path, rel, sidecar)
    source = Source(
        path=rel, format=fmt, raw=raw, sha256=hashlib.sha256(raw).hexdigest(),
        text=text, encoding="", overrides=overrides, override_lines=lines,
        lines=tuple((no, strip_unsafe(text)) for no, text in found.lines),
        tables=found.tables, changes=found.changes + changes + more, pages=found.pages,
    )
    return source, problems


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + SIDECAR_SUFFIX)


def sidecar_rel(rel: str) -> str:
    """sidecar_path for a content-relative POSIX path."""
    return rel[: -len(os.path.splitext(rel)[1])] + SIDECAR_SUFFIX


def _read_sidecar(path: Path, report_rel: str, data: bytes | None = None):
    """(overrides, their lines, problems, changes) of the sidecar next to `path`, given as
    `data` (its bytes) when the caller has read it. A value's unsafe characters are removed
    and recorded as a change of the report."""
    sidecar = sidecar_path(path)
    rel = report_rel[: len(report_rel) - len(path.suffix)] + SIDECAR_SUFFIX
    try:
        if data is None:
            if not sidecar.is_file():
                return (), (), (), ()
            data = sidecar.read_bytes()
        if len(data) > MAX_SIDECAR_BYTES:
            return (), (), (Problem(rel, 1, f"旁注文件超过 {MAX_SIDECAR_BYTES} 字节，未读取；它只应写几个字段"
                                            f"（the sidecar is over {MAX_SIDECAR_BYTES} bytes）"),), ()
        text = data.decode("utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return (), (), (Problem(rel, 1, f"无法读取旁注文件：{exc}；请另存为 UTF-8（cannot read the sidecar）"),), ()
    except tomllib.TOMLDecodeError as exc:
        return (), (), (Problem(rel, toml_error_line(exc), f"旁注文件不是有效的 TOML：{exc}（invalid TOML）"),), ()
    except RecursionError:
        return (), (), (Problem(rel, 1, "旁注文件嵌套过深，未读取；字段应写成 key = \"value\" 的形式"
                                        "（the sidecar is nested too deeply）"),), ()
    line_of = _key_lines(text)
    overrides, lines, problems, changes = [], [], [], []
    for key, value in sorted(data.items()):
        line = line_of.get(key, 1)
        if key not in OVERRIDE_KEYS:
            problems.append(Problem(rel, line, f"未知字段 {key!r}，已忽略；可用字段：{'、'.join(OVERRIDE_KEYS)}"
                                               f"（unknown field {key!r}）", "warning"))
            continue
        if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            value = "、".join(str(v) for v in value)
        elif not isinstance(value, (str, int)) or isinstance(value, bool):
            problems.append(Problem(rel, line, f"字段 {key!r} 应为文字或数字，例如 {key} = \"…\"（field {key!r} must be "
                                               f"text or a number）"))
            continue
        value = str(value)
        if UNSAFE_RE.search(value):
            changes.append(Change(0, "control-char", f"{key} = {shown(value)}", f"{key} = {strip_unsafe(value)}"))
            value = strip_unsafe(value)
        overrides.append((key, value))
        lines.append((key, line))
    return tuple(overrides), tuple(lines), tuple(problems), tuple(changes)


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int:
    """The line of a TOML error (Python < 3.14 has it only in the message)."""
    found = re.search(r"at line (\d+)", str(exc))
    return getattr(exc, "lineno", None) or (int(found[1]) if found else 1)


def _key_lines(text: str) -> dict[str, int]:
    """The line where each top-level key of a TOML text is first written."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        key = line.split("=", 1)[0].strip().strip('"\'')
        if "=" in line and key:
            found.setdefault(key, number)
    return found
