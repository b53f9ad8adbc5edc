"""A slip of the maintainer never unpublishes the site: a missing or empty content folder,
folders that overlap, a build that would drop most reports; and a report keeps its URL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, report_text, tree, write_archive
from site_builder.build import build
from site_builder.content import stage


def test_a_missing_or_empty_content_folder_publishes_nothing(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    before = tree(out)
    for content in (tmp_path / "mistyped", tmp_path / "empty"):
        if content.name == "empty":
            content.mkdir()
            (content / "notes.docx.bak").write_text("x", encoding="utf-8")
        result = build(content, out)
        assert not result.ok and not result.published
        [problem] = result.problems
        assert problem.path == str(content.absolute()) and "--content" in problem.message
        assert tree(out) == before


@pytest.mark.parametrize("layout", ["same", "content-inside-output", "output-inside-content"])
def test_overlapping_folders_are_refused(tmp_path: Path, layout: str):
    files = {"yanpi-2024.txt": report_text("演陂镇", 2024)}
    if layout == "same":
        content = out = write_archive(tmp_path / "site", files)
    elif layout == "content-inside-output":
        out = tmp_path / "output"
        content = write_archive(out / "content", files)
    else:
        content = write_archive(tmp_path / "content", files)
        out = content / "output"
    result = build(content, out)
    assert not result.ok and not result.published
    assert (content / "yanpi-2024.txt").is_file()  # the sources stay where they are
    assert "--output" in result.problems[0].message


def test_the_current_folder_or_home_as_output_is_refused(tmp_path: Path, small_archive: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for out in (Path("."), Path("/"), Path.home()):
        result = build(small_archive, out)
        assert not result.ok and not result.published, out
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--content", str(small_archive),
                          "--output", "."], capture_output=True, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 1 and "Traceback" not in run.stderr


def test_a_build_that_drops_more_than_half_of_the_reports_needs_allow_shrink(tmp_path: Path):
    content = write_archive(tmp_path / "content", {
        f"r{n}.txt": report_text(f"{'东南西北中'[n]}山镇", 2023) for n in range(5)})
    out = tmp_path / "output"
    assert build(content, out).ok
    before = tree(out)
    for n in range(3):
        (content / f"r{n}.txt").unlink()
    result = build(content, out)
    assert not result.ok and not result.published and "--allow-shrink" in result.problems[-1].message
    assert tree(out) == before
    result = build(content, out, allow_shrink=True)
    assert result.ok and result.reports == 2
    assert not (out / "reports/r0").exists()


def test_keep_going_publishes_all_but_the_files_in_error(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    (small_archive / "broken.txt").write_bytes(b"")
    result = build(small_archive, out)
    assert not result.ok and not result.published and not out.exists()
    result = build(small_archive, out, keep_going=True)
    assert not result.ok and result.published and result.reports == 3
    assert [p.path for p in result.problems if p.severity == "error"] == ["broken.txt"]
    assert (out / "reports/yanpi-2024/index.html").is_file()
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "build", "--keep-going", "--content",
                          str(small_archive), "--output", str(out)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 1 and "broken.txt:1: error:" in run.stderr


def test_a_report_keeps_the_url_it_had_in_the_last_build(tmp_path: Path):
    """A new file whose path gives an existing report's id does not take its URL, even
    when it sorts first."""
    content = write_archive(tmp_path / "content", {"b/yanpi.txt": report_text("演陂镇", 2024)})
    out = tmp_path / "output"
    assert build(content, out).ok
    write_archive(content, {"b-yanpi.txt": report_text("演陂镇", 2023)})  # "b-yanpi" < "b/yanpi"
    result = build(content, out)
    assert result.ok
    ids = {e.report.source: e.id for e in result.site.entries}
    assert ids == {"b/yanpi.txt": "b-yanpi", "b-yanpi.txt": "b-yanpi-2"}


def test_an_explicit_id_cannot_take_another_reports_url(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    before = tree(out)
    write_archive(small_archive, {"intruder.txt": report_text("白沙镇", 2024),
                                  "intruder.meta.toml": 'id = "yanpi-2024"\n'})
    result = build(small_archive, out)
    assert not result.ok and tree(out) == before
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert problem.path == "intruder.txt" and "yanpi-2024.txt" in problem.message


def test_the_parse_is_keyed_by_the_bytes_it_parsed(tmp_path: Path, small_archive: Path, monkeypatch):
    """A file edited between the moment a build hashes it and the moment a worker reads it:
    the parse is stored under the key of the bytes the worker read, so a later build of the
    old bytes never publishes the new text."""
    out = tmp_path / "output"
    path = small_archive / "yanpi-2024.txt"
    old = report_text("演陂镇", 2024, "原来的文字。")
    path.write_text(old, encoding="utf-8")
    real = stage.content_key

    def edited_meanwhile(version, root, rel):
        key = real(version, root, rel)
        if rel == "yanpi-2024.txt":
            path.write_text(report_text("演陂镇", 2024, "中途改写的文字。"), encoding="utf-8")
        return key
    monkeypatch.setattr(stage, "content_key", edited_meanwhile)
    build(small_archive, out)  # the file changed during the build: published or refused, never mixed
    monkeypatch.setattr(stage, "content_key", real)
    path.write_text(old, encoding="utf-8")
    assert build(small_archive, out).ok
    page = (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")
    assert "原来的文字" in page and "中途改写" not in page


def test_a_full_disk_is_a_message_and_the_next_build_heals(tmp_path: Path, small_archive: Path):
    """Writes over a file size limit fail as on a full disk (EFBIG, as ENOSPC would): the
    build says so and exits 1 without a traceback, output/ keeps the last good site, and
    the state it left behind does not fail the next build."""
    out = tmp_path / "output"
    limited = ("import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000)); "
               "from site_builder.cli import main; sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for attempt in ("first build", "rebuild"):
        if attempt == "rebuild":
            assert build(small_archive, out).ok
            before = tree(out)
            write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。" * 3000)})
        run = subprocess.run([sys.executable, "-c", limited, "build", "--content", str(small_archive),
                              "--output", str(out)], capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr and "error:" in run.stderr, run.stderr
        if attempt == "rebuild":
            assert tree(out) == before
    result = build(small_archive, out)
    assert result.ok, [str(p) for p in result.problems]
    assert "新增一句" in (out / "reports/yanpi-2024/index.html").read_text(encoding="utf-8")
