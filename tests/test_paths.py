"""Paths: nothing from the content (ids, slugs, places, years, file names, symlinks) can
make a build write outside its output folder or read outside its content folder, and two
reports wanting one URL are a reported conflict, never an overwrite."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import report_text, tree, write_archive
from site_builder.site import urls
from site_builder.build import build
from site_builder.state import state_dir
from site_builder.publish.write import UnsafePath, check_path

SECRET = "机密外部文件内容"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}

HOSTILE_IDS = [
    "../../../escape", "/etc/passwd", "..", ".", "./.", "a/../../b", "C:\\\\Windows\\\\x",
    "\\\\\\\\server\\\\share", "%2e%2e%2fetc", "CON", "com3", "lpt9", "nul", "index", "page",
    "reports", "演陂镇/../..", "x" * 1000, "😀", " ", "-", "a\\tb", "~root",
]


def _files_outside(tmp_path: Path, allowed: tuple[Path, ...]) -> list[str]:
    out = []
    for path in tmp_path.rglob("*"):
        if path.is_file() and not any(path.is_relative_to(a) for a in allowed):
            out.append(str(path.relative_to(tmp_path)))
    return sorted(out)


def test_hostile_ids_places_and_years_stay_inside_the_output(tmp_path: Path):
    files: dict[str, str] = {}
    for n, value in enumerate(HOSTILE_IDS):
        files[f"r{n:02d}.txt"] = report_text("青山镇", 2000 + n)
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        files[f"r{n:02d}.meta.toml"] = f'id = "{escaped}"\nplace = "{escaped}"\nregion = "{escaped}"\n'
    files["front.md"] = "---\nid: ../../../front-escape\nplace: ../../..\n---\n" + report_text("白山镇", 2024)
    content = write_archive(tmp_path / "content", files)
    output = tmp_path / "site" / "output"
    result = build(content, output)
    assert result.ok, [str(p) for p in result.problems if p.severity == "error"]

    allowed = (content, output, state_dir(output))
    assert _files_outside(tmp_path, allowed) == []
    written = tree(output)
    report_dirs = {p.split("/")[1] for p in written if p.startswith("reports/")}
    place_dirs = {p.split("/")[1] for p in written if p.startswith("places/") and p.count("/") == 2}
    assert len(report_dirs) == len(HOSTILE_IDS) + 1  # one page per report, none overwritten
    for name in report_dirs | place_dirs:
        assert SLUG.match(name) and len(name) <= urls.MAX_SLUG + 8, name
        assert name not in WINDOWS_DEVICES and name not in ("index", "page"), name
    for entry in result.site.entries:
        assert f"reports/{entry.id}/index.html" in written


@pytest.mark.parametrize("year", ["2024/../../../x", "../2024", "-1", "99999999999999999999", "2024\\\\..\\\\x"])
def test_hostile_year_override_cannot_name_a_folder(tmp_path: Path, year: str):
    content = write_archive(tmp_path / "content", {
        "a.txt": report_text("青山镇", 2024),
        "a.meta.toml": f'year = "{year}"\n',
    })
    output = tmp_path / "output"
    result = build(content, output)
    assert _files_outside(tmp_path, (content, output, state_dir(output))) == []
    if result.ok:
        for path in tree(output):
            if path.startswith("years/"):
                assert re.match(r"^years/(?:\d{1,4}/|undated/)?index\.html$", path), path


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../x", "a//b", "./a", "a\\..\\b", "a\x00b",
                                 "", ".", "a/", "C:/x"])
def test_output_paths_that_leave_the_folder_are_refused(rel: str):
    if rel == "C:/x":  # a drive letter is just a folder name on POSIX, and stays inside
        check_path(rel)
        return
    with pytest.raises(UnsafePath):
        check_path(rel)


def test_symlinks_leading_outside_the_content_are_refused(tmp_path: Path):
    outside = write_archive(tmp_path / "outside", {
        "secret.txt": report_text("外部镇", 2024, SECRET),
        "secret.meta.toml": f'title = "{SECRET}"\n',
        "dir/inner.txt": report_text("外部乡", 2023, SECRET),
    })
    content = write_archive(tmp_path / "content", {
        "good.txt": report_text("青山镇", 2024),
        "sidecar.txt": report_text("白山镇", 2024),
        "sub/real.txt": report_text("黑山镇", 2023),
    })
    os.symlink(outside / "secret.txt", content / "file-link.txt")
    os.symlink(outside / "secret.meta.toml", content / "sidecar.meta.toml")
    os.symlink(outside / "dir", content / "dir-link")
    os.symlink("../sub/real.txt", content / "sub" / "inside-link.txt")  # stays inside: fine
    output = tmp_path / "output"
    result = build(content, output)
    errors = {p.path: p.message for p in result.problems if p.severity == "error"}
    assert set(errors) == {"file-link.txt", "sidecar.meta.toml"}
    assert all("symlink leads outside the content folder" in message for message in errors.values())
    assert not result.ok and not output.exists()

    # Without the refused links the rest builds, and nothing from outside is in it.
    (content / "file-link.txt").unlink()
    (content / "sidecar.meta.toml").unlink()
    result = build(content, output)
    assert result.ok
    sources = sorted(e.report.source for e in result.site.entries)
    assert sources == ["good.txt", "sidecar.txt", "sub/inside-link.txt", "sub/real.txt"]
    assert not any(SECRET.encode() in data for data in tree(output).values())


def test_two_reports_with_one_url_are_a_reported_conflict(tmp_path: Path):
    """Two files whose paths give one URL: a warning, and the second by path is published
    at a suffixed URL. An id set in a sidecar that another report has: an error naming
    both files (a new file must not take another's URL); with keep_going the rest is
    published."""
    content = write_archive(tmp_path / "content", {
        "a/yanpi.txt": report_text("演陂镇", 2023),
        "a/yanpi.meta.toml": 'id = "yanpi"\n',
        "b/yanpi.txt": report_text("演陂镇", 2024),
        "b/yanpi.meta.toml": 'id = "YANPI"\n',
        "Qingshan.txt": report_text("青山镇", 2024),
        "qingshan.txt": report_text("青山镇", 2023),
    })
    output = tmp_path / "output"
    result = build(content, output)
    assert not result.ok and not result.published
    [taken] = [p for p in result.problems if p.severity == "error"]
    assert taken.path == "b/yanpi.txt" and "a/yanpi.txt" in taken.message
    [suffixed] = [p for p in result.problems if p.severity == "warning"]
    assert suffixed.path == "qingshan.txt" and "Qingshan.txt" in suffixed.message
    result = build(content, output, keep_going=True)
    assert not result.ok and result.published
    ids = {e.report.source: e.id for e in result.site.entries}
    assert ids == {"a/yanpi.txt": "yanpi", "Qingshan.txt": "qingshan", "qingshan.txt": "qingshan-2"}
    pages = tree(output)
    assert '"file": "a/yanpi.txt"' in pages["reports/yanpi/report.json"].decode()
    assert '"file": "qingshan.txt"' in pages["reports/qingshan-2/report.json"].decode()


def test_places_whose_regions_slug_alike_get_separate_pages(tmp_path: Path):
    content = write_archive(tmp_path / "content", {
        "a.txt": report_text("青山镇", 2024), "a.meta.toml": 'region = "广东省 某市"\n',
        "b.txt": report_text("青山镇", 2023), "b.meta.toml": 'region = "广东省·某市"\n',
        "c.txt": report_text("青山镇", 2022), "c.meta.toml": 'region = "廣東省某市"\n',
        "d.txt": report_text("青山镇", 2021), "d.meta.toml": 'region = "广东省某市"\n',
    })
    result = build(content, tmp_path / "output")
    assert result.ok
    slugs = [p.slug for p in result.site.places]
    assert len(slugs) == len(set(slugs)) == 4
