"""The write stage: atomic swap, hard links for unchanged files, recovery after a kill."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import tree
from site_builder.write import Page, UnsafePath, recover, write_site


def pages(*items):
    return [Page.of(path, data) for path, data in items]


def test_swap_replaces_output_and_removes_stale_files(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(pages(("a.html", b"a"), ("d/b.html", b"b")), out, state)
    stats = write_site(pages(("a.html", b"a"), ("c.html", b"c")), out, state)
    assert tree(out) == {"a.html": b"a", "c.html": b"c"}
    assert (stats.written, stats.linked, stats.removed) == (1, 1, 1)


def test_unchanged_files_keep_their_inode(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(pages(("a.html", b"a"), ("b.html", b"b")), out, state)
    inode = (out / "a.html").stat().st_ino
    write_site(pages(("a.html", b"a"), ("b.html", b"B")), out, state)
    assert (out / "a.html").stat().st_ino == inode
    assert (out / "b.html").read_bytes() == b"B"


def test_error_while_rendering_leaves_output_intact(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(pages(("a.html", b"a")), out, state)

    def files():
        yield Page.of("a.html", b"changed")
        raise RuntimeError("template broke")

    with pytest.raises(RuntimeError):
        write_site(files(), out, state)
    assert tree(out) == {"a.html": b"a"}
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".output.staging-*"))


@pytest.mark.parametrize("rel", ["../escape.html", "/abs.html", "a/../../x"])
def test_unsafe_paths_are_refused(tmp_path: Path, rel):
    with pytest.raises(UnsafePath):
        write_site(pages((rel, b"x")), tmp_path / "output", tmp_path / "state")
    assert not (tmp_path / "escape.html").exists()


def test_duplicate_path_is_refused(tmp_path: Path):
    with pytest.raises(UnsafePath):
        write_site(pages(("a.html", b"1"), ("a.html", b"2")), tmp_path / "output", tmp_path / "state")


def test_recover_after_kill_between_renames(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(pages(("a.html", b"a")), out, state)
    os.rename(out, tmp_path / ".output.old")  # killed after moving output away
    (tmp_path / ".output.staging-999").mkdir()  # and a staging folder left behind
    recover(out)
    assert tree(out) == {"a.html": b"a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output", "state"]


def test_manifest_of_another_folder_is_not_trusted(tmp_path: Path):
    """If output/ was replaced behind the manifest's back, nothing is linked from it."""
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(pages(("a.html", b"a")), out, state)
    os.rename(out, tmp_path / "elsewhere")
    out.mkdir()
    (out / "a.html").write_bytes(b"tampered")
    write_site(pages(("a.html", b"a")), out, state)
    assert (out / "a.html").read_bytes() == b"a"


def test_page_with_unchanged_fingerprint_is_not_produced(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    write_site([Page("a.html", "fp1", lambda: b"a")], out, state)

    def boom() -> bytes:
        raise AssertionError("rendered although its inputs did not change")

    stats = write_site([Page("a.html", "fp1", boom)], out, state)
    assert (stats.rendered, stats.linked) == (0, 1)
    stats = write_site([Page("a.html", "fp2", lambda: b"A")], out, state)
    assert stats.rendered == 1 and (out / "a.html").read_bytes() == b"A"


def test_build_with_nothing_changed_leaves_the_output_alone(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    site = [Page("a.html", "fp1", lambda: b"a"), Page("d/b.html", None, lambda: b"b")]
    write_site(site, out, state)
    folder, inodes = out.stat().st_ino, {p: (out / p).stat().st_ino for p in tree(out)}
    stats = write_site(site, out, state)
    assert (stats.written, stats.rendered, stats.linked) == (0, 1, 2)  # only the page without a fingerprint
    assert out.stat().st_ino == folder  # not swapped
    assert {p: (out / p).stat().st_ino for p in tree(out)} == inodes
    # a file removed by hand, a changed page, or one page more: staged and swapped as usual
    (out / "d/b.html").unlink()
    write_site(site, out, state)
    assert tree(out) == {"a.html": b"a", "d/b.html": b"b"} and out.stat().st_ino != folder
    folder = out.stat().st_ino
    write_site(site + [Page("c.html", None, lambda: b"c")], out, state)
    assert tree(out) == {"a.html": b"a", "d/b.html": b"b", "c.html": b"c"} and out.stat().st_ino != folder
    # two pages on one path are refused even when both look unchanged
    with pytest.raises(UnsafePath):
        write_site([Page("a.html", "fp1", lambda: b"a"), Page("a.html", "fp1", lambda: b"a")], out, state)
