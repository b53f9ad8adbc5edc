"""Stage 1, load: find report files under content/, read and decode them.

A report is a .txt, .html/.htm or .md file. Next to it, an optional sidecar
``<name>.meta.toml`` overrides fields. Nothing outside the content folder is read:
symlinks that lead out of it are refused.
"""
from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

from .config import CONFIG_NAME
from .decode import DecodeError, decode_bytes
from .model import Problem, Source

FORMATS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md"}
SIDECAR_SUFFIX = ".meta.toml"
MAX_BYTES = 20 * 1024 * 1024  # a real report is < 1 MB; anything this big is not one
OVERRIDE_KEYS = ("id", "issuer", "level", "place", "published", "region", "title", "written", "year")


def find_report_paths(content_dir: Path) -> tuple[tuple[Path, ...], tuple[Problem, ...]]:
    """All report files below content_dir, sorted by their content-relative POSIX path."""
    root = content_dir.resolve()
    found, problems = [], []
    for path in sorted(content_dir.rglob("*")):
        rel = path.relative_to(content_dir)
        if any(part.startswith(".") for part in rel.parts) or path.name == CONFIG_NAME:
            continue
        if path.name.endswith(SIDECAR_SUFFIX) or path.suffix.lower() not in FORMATS:
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            problems.append(Problem(rel.as_posix(), 1, "symlink leads outside the content folder; not read"))
            continue
        if path.is_file():
            found.append(path)
    found.sort(key=lambda p: p.relative_to(content_dir).as_posix())
    return tuple(found), tuple(problems)


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
        text = sidecar.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return (), (), (Problem(rel, 1, f"cannot read sidecar: {exc}"),)
    except tomllib.TOMLDecodeError as exc:
        return (), (), (Problem(rel, getattr(exc, "lineno", 1) or 1, f"invalid TOML: {exc}"),)
    overrides, lines, problems = [], [], []
    for key, value in sorted(data.items()):
        line = _line_of(text, key)
        if key not in OVERRIDE_KEYS:
            problems.append(Problem(rel, line, f"unknown field {key!r} (known: {', '.join(OVERRIDE_KEYS)})", "warning"))
            continue
        if isinstance(value, list):
            value = "、".join(str(v) for v in value)
        overrides.append((key, str(value)))
        lines.append((key, line))
    return tuple(overrides), tuple(lines), tuple(problems)


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(key):
            return number
    return 1
