"""Stage 1, load: find report files under content/, read and decode them.

A report is a .txt, .html/.htm or .md file. Next to it, an optional sidecar
``<name>.meta.toml`` overrides fields. Nothing outside the content folder is read:
symlinks that lead out of it are refused.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from .config import CONFIG_NAME
from .decode import DecodeError, decode_bytes
from .model import OVERRIDE_KEYS, Problem, Source

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md"}
SIDECAR_SUFFIX = ".meta.toml"
MAX_BYTES = 20 * 1024 * 1024  # a real report is < 1 MB; anything this big is not one
# Never in a real report: C0 controls except tab/newline/CR/VT/FF (the cleaner turns those
# into spaces), DEL, C1 controls, and the bidi embedding/override/isolate controls that can
# make text display differently from what it is ("Trojan Source"). Zero-width characters
# and a stray BOM are common in copied web text: the cleaner removes those.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
FORBIDDEN_CHARS = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def find_report_paths(content_dir: Path) -> tuple[tuple[Path, ...], tuple[Problem, ...]]:
    """All report files below content_dir, sorted by their content-relative POSIX path.
    Files (or their sidecars) that resolve outside the folder, dangling or looping
    symlinks and names that are not clean UTF-8 are reported, never read."""
    root = content_dir.resolve()
    found, problems = [], []
    linked: dict[Path, bool] = {content_dir: False}  # folder -> it or a parent is a symlink

    def through_link(folder: Path) -> bool:
        if folder not in linked:
            linked[folder] = folder.is_symlink() or through_link(folder.parent)
        return linked[folder]

    for path in sorted(content_dir.rglob("*")):
        rel = path.relative_to(content_dir)
        if any(part.startswith(".") for part in rel.parts) or path.name == CONFIG_NAME:
            continue
        if path.name.endswith(SIDECAR_SUFFIX) or path.suffix.lower() not in FORMATS:
            continue
        name = rel.as_posix()
        if not _clean_name(name):
            problems.append(Problem(shown_name(name), 1, "file name is not valid UTF-8 or has control "
                                    "characters; rename the file"))
            continue
        # Only a path through a symlink can lead outside (resolving every path is slow).
        problem = (_outside(path, name, root) if path.is_symlink() or through_link(path.parent) else None) or (
            _outside(sidecar_path(path), name[: -len(path.suffix)] + SIDECAR_SUFFIX, root)
            if sidecar_path(path).is_symlink() else None)
        if problem:
            problems.append(problem)
            continue
        if path.is_file():
            found.append(path)
    found.sort(key=lambda p: p.relative_to(content_dir).as_posix())
    return tuple(found), tuple(problems)


def shown_name(name: str) -> str:
    """A file name safe to print: undecodable bytes and control characters escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _clean_name(name: str) -> bool:
    return shown_name(name) == name


def _outside(path: Path, rel: str, root: Path) -> Problem | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # dangling link, symlink loop (RuntimeError < 3.13)
        reason = getattr(exc, "strerror", None) or "symlink loop or missing target"
        return Problem(rel, 1, f"cannot read file: {reason}")
    if not real.is_relative_to(root):
        return Problem(rel, 1, "symlink leads outside the content folder; not read")
    return None


def load_source(path: Path, rel: str) -> tuple[Source | None, tuple[Problem, ...]]:
    """Read one report file (named `rel` in messages and URLs) and its sidecar.
    Never raises for content problems."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, (Problem(rel, 1, f"file is {size} bytes, over the {MAX_BYTES}-byte limit"),)
        raw = path.read_bytes()
    except OSError as exc:
        return None, (Problem(rel, 1, f"cannot read file: {exc.strerror or exc}"),)
    if not raw.strip():
        return None, (Problem(rel, 1, "file is empty"),)
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
    overrides, lines, problems = _read_sidecar(path, rel)
    source = Source(
        path=rel,
        format=FORMATS[path.suffix.lower()],
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        text=text,
        encoding=encoding,
        overrides=overrides,
        override_lines=lines,
    )
    return source, problems


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + SIDECAR_SUFFIX)


def _read_sidecar(path: Path, report_rel: str):
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return (), (), ()
    rel = report_rel[: len(report_rel) - len(path.suffix)] + SIDECAR_SUFFIX
    try:
        if sidecar.stat().st_size > MAX_BYTES:
            return (), (), (Problem(rel, 1, f"sidecar is over the {MAX_BYTES}-byte limit"),)
        text = sidecar.read_text(encoding="utf-8-sig")
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
