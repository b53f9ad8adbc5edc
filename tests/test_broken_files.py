"""Broken input files: each gives one clear error naming the file, every other file is
still read and checked, and a build with errors writes nothing (output/ stays as it was)."""
from __future__ import annotations

import json

import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from conftest import REPO, report_text, tree, write_archive
from site_builder.content import read as load
from site_builder.build import build

MARKER = "破损文件标记"  # text of the broken files: must never reach the site
PROBLEM_LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+): (?P<severity>error|warning): (?P<message>.+)$")
HUGE = 100 * 1024 * 1024


def _good(root: Path) -> Path:
    return write_archive(root, {
        "yanpi-2024.txt": report_text("演陂镇", 2024),
        "hebei/qingshan-2023.txt": report_text("青山乡", 2023),
    })


def _broken(root: Path) -> dict[str, int | None]:
    """Write one file per class of damage; return {content path: line of its error}."""
    body = report_text("坏文件镇", 2024, MARKER)
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "blank.txt": b" \n\t\n\n",
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + MARKER.encode(),
        "undecodable.txt": body.encode("utf-8") + b"\xff\xfe\x80\n",
        "utf16-odd.txt": b"\xff\xfe" + body.encode("utf-16-le") + b"\x00",
    }
    write_archive(root, files)
    lines = {"empty.txt": 1, "blank.txt": 1, "binary.txt": None, "undecodable.txt": body.count("\n") + 1,
             "utf16-odd.txt": None}
    # Unreadable: a dangling symlink and a symlink loop (chmod 000 means nothing to root).
    os.symlink("no-such-report.txt", root / "dangling.txt")
    os.symlink("loop-b.txt", root / "loop-a.txt")
    os.symlink("loop-a.txt", root / "loop-b.txt")
    lines.update({"dangling.txt": 1, "loop-a.txt": 1, "loop-b.txt": 1})
    # Huge: 100 MB, sparse, so the test is fast; the loader must not read it.
    with open(root / "huge.txt", "wb") as handle:
        handle.write(MARKER.encode())
        handle.truncate(HUGE)
    lines["huge.txt"] = 1
    # A report the loader accepts but the parser rejects: checked in the same build.
    (root / "no-text.txt").write_text("Lorem ipsum dolor sit amet.\n" * 3, encoding="utf-8")
    lines["no-text.txt"] = 1
    # A good report with a broken sidecar: the sidecar is named, with its line.
    (root / "sidecar-bad.txt").write_text(report_text("侧车镇", 2024), encoding="utf-8")
    (root / "sidecar-bad.meta.toml").write_text('place = "侧车镇"\nyear = = 2024\n', encoding="utf-8")
    lines["sidecar-bad.meta.toml"] = 2
    return lines


def test_each_broken_file_gives_one_error_and_nothing_is_written(tmp_path: Path):
    content, output = _good(tmp_path / "content"), tmp_path / "output"
    first = build(content, output)
    assert first.ok and first.reports == 2
    before = tree(output)

    expected = _broken(content)
    if os.geteuid() != 0:  # a permission error is only testable as an ordinary user
        unreadable = content / "unreadable.txt"
        unreadable.write_text(report_text("无权镇", 2024), encoding="utf-8")
        unreadable.chmod(0)
        expected["unreadable.txt"] = 1
    result = build(content, output)

    assert not result.ok
    errors = [p for p in result.problems if p.severity == "error"]
    by_path: dict[str, list] = {}
    for problem in errors:
        by_path.setdefault(problem.path, []).append(problem)
    assert sorted(by_path) == sorted(expected), [str(p) for p in errors]
    for path, problems in by_path.items():
        assert len(problems) == 1, [str(p) for p in problems]
        assert expected[path] in (None, problems[0].line), str(problems[0])
        assert PROBLEM_LINE.match(str(problems[0])), str(problems[0])
    # The good reports were parsed in the same build (no problem of theirs is hidden).
    assert result.reports >= 2
    # output/ is exactly the previous good build; nothing of the broken files leaked.
    assert tree(output) == before
    assert not any(MARKER.encode() in data for data in before.values())


def test_messages_name_the_damage(tmp_path: Path):
    content = _good(tmp_path / "content")
    _broken(content)
    messages = {p.path: p.message for p in build(content, tmp_path / "output").problems
                if p.severity == "error"}
    assert "empty" in messages["empty.txt"] and "empty" in messages["blank.txt"]
    assert "binary" in messages["binary.txt"]
    assert "undecodable" in messages["undecodable.txt"] and "undecodable" in messages["utf16-odd.txt"]
    assert f"{HUGE} bytes" in messages["huge.txt"] and str(load.MAX_BYTES) in messages["huge.txt"]
    assert "cannot read" in messages["dangling.txt"] and "cannot read" in messages["loop-a.txt"]
    assert "invalid TOML" in messages["sidecar-bad.meta.toml"]


def test_cli_lists_every_problem_and_exits_1(tmp_path: Path):
    """The real command: exit code 1, one `path:line: severity: message` line each, no output."""
    content, output = _good(tmp_path / "content"), tmp_path / "output"
    expected = _broken(content)
    proc = subprocess.run(
        [sys.executable, "-m", "site_builder.cli", "build", "--content", str(content), "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    stderr = proc.stderr
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("构建失败") and "left unchanged" in lines[-1]
    reported = [PROBLEM_LINE.match(line) for line in lines[:-1]]
    assert all(reported), lines
    assert {m["path"] for m in reported if m["severity"] == "error"} == set(expected)
    assert not output.exists()


def test_huge_file_is_not_read(tmp_path: Path):
    """The 100 MB report is refused from its size: the build allocates far less than that."""
    content, output = _good(tmp_path / "content"), tmp_path / "output"
    assert build(content, output).ok  # parse cache warm: only the huge file is new below
    with open(content / "huge.txt", "wb") as handle:
        handle.truncate(HUGE)
    tracemalloc.start()
    try:
        result = build(content, output)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.path for p in result.problems if p.severity == "error"] == ["huge.txt"]
    assert peak < 20 * 1024 * 1024, peak


@pytest.mark.parametrize("name", ["a\nb.txt", "tab\there.txt", b"\xff\xfe-latin1.txt"])
def test_unprintable_file_names_are_reported_not_crashed_on(tmp_path: Path, name):
    content = _good(tmp_path / "content")
    raw = name if isinstance(name, bytes) else name.encode()
    with open(os.path.join(os.fsencode(content), raw), "wb") as handle:
        handle.write(report_text("怪名镇", 2024).encode("utf-8"))
    result = build(content, tmp_path / "output")
    assert not result.ok
    (problem,) = [p for p in result.problems if p.severity == "error"]
    assert "file name" in problem.message
    assert problem.path.isprintable() and "\n" not in str(problem)


def test_characters_that_are_never_text_are_removed_and_recorded(tmp_path: Path):
    """C0/C1 controls, bidi overrides and noncharacters, from the text, entities or a
    sidecar's TOML escapes, reach no page, JSON, CSV or feed; each removal is listed."""
    body = report_text("净字镇", 2024)
    content = write_archive(tmp_path / "content", {
        "nul-byte.txt": body.replace("依法行政", "依法\x00行政"),
        "bidi.md": "---\ntitle: 净字镇2024年法治政府建设年度报告\n---\n"
                   + body.replace("规范执法行为", "规范\u202e为行法执\u202c"),
        "c1.html": "<html><body><p>" + body.replace("\n", "</p><p>") + "\x85&#x202e;&#xFFFF;</p></body></html>",
        "c1.meta.toml": 'publisher = "净字镇\\u202e司法所\\u0000"\n',
    })
    output = tmp_path / "output"
    result = build(content, output)
    assert result.ok, [str(p) for p in result.problems]
    unsafe = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
    for path, data in tree(output).items():
        if not path.endswith((".bin", "original.txt")):  # binary index files; the original, byte for byte
            assert not unsafe.search(data.decode("utf-8", "replace")), path
    for stem in ("nul-byte", "bidi", "c1"):
        report = json.loads((output / f"reports/{stem}/report.json").read_text(encoding="utf-8"))
        assert any(c["kind"] == "control-char" for c in report["changes"]), stem
    data = json.loads((output / "reports/c1/report.json").read_text(encoding="utf-8"))
    assert data["publisher"] == "净字镇司法所"
    assert "[U+202E]" in (output / "reports/bidi/index.html").read_text(encoding="utf-8")  # shown, not obeyed
