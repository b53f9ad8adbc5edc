"""The publish stage: atomic swap, hard links for unchanged files, the standby, recovery
after a kill, files changed by hand."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import tree
from site_builder.model import Page
from site_builder.publish.write import STANDBY, UnsafePath, publish, recover
from site_builder.state import Store, private_folder


class Site:
    """An output folder and its state, published to again and again."""

    def __init__(self, top: Path):
        self.out = top / "output"
        self.state = private_folder(top / ".site-cache" / "output")
        self.store = Store.open(self.state)

    def publish(self, pages):
        with self.store.transaction():
            return publish(pages, self.out, self.state, self.store)


def pages(*items):
    return [Page.of(path, data) for path, data in items]


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def test_swap_replaces_output_and_removes_stale_files(site: Site):
    site.publish(pages(("a.html", b"a"), ("d/b.html", b"b")))
    stats = site.publish(pages(("a.html", b"a"), ("c.html", b"c")))
    assert tree(site.out) == {"a.html": b"a", "c.html": b"c"}
    assert (stats.written, stats.removed, stats.changed) == (1, 1, ("c.html", "d/b.html"))


def test_unchanged_files_keep_their_inode(site: Site):
    site.publish(pages(("a.html", b"a"), ("b.html", b"b")))
    inode = (site.out / "a.html").stat().st_ino
    site.publish(pages(("a.html", b"a"), ("b.html", b"B")))
    assert (site.out / "a.html").stat().st_ino == inode
    assert (site.out / "b.html").read_bytes() == b"B"
    assert (site.state / STANDBY / "b.html").read_bytes() == b"b"  # the tree replaced, kept as the standby


def test_error_while_rendering_leaves_output_intact(tmp_path: Path, site: Site):
    site.publish(pages(("a.html", b"a")))

    def files():
        yield Page.of("a.html", b"changed")
        raise RuntimeError("template broke")

    with pytest.raises(RuntimeError):
        site.publish(files())
    assert tree(site.out) == {"a.html": b"a"}
    assert site.publish(pages(("a.html", b"A"))).written == 1  # and the next build works
    assert tree(site.out) == {"a.html": b"A"}


@pytest.mark.parametrize("rel", ["../escape.html", "/abs.html", "a/../../x", "a\\b"])
def test_unsafe_paths_are_refused(tmp_path: Path, site: Site, rel):
    with pytest.raises(UnsafePath):
        site.publish(pages((rel, b"x")))
    assert not (tmp_path / "escape.html").exists()


def test_duplicate_path_is_refused_even_when_both_look_unchanged(site: Site):
    with pytest.raises(UnsafePath):
        site.publish(pages(("a.html", b"1"), ("a.html", b"2")))
    site.publish([Page("a.html", "fp1", lambda: b"a")])
    with pytest.raises(UnsafePath):
        site.publish([Page("a.html", "fp1", lambda: b"a"), Page("a.html", "fp1", lambda: b"a")])


def test_recover_after_kill_between_renames(tmp_path: Path, site: Site):
    site.publish(pages(("a.html", b"a")))
    os.rename(site.out, tmp_path / ".output.old")  # killed after moving output away
    (tmp_path / ".output.staging").mkdir()  # and a staging folder left behind
    recover(site.out)
    assert tree(site.out) == {"a.html": b"a"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site-cache", "output"]


def test_manifest_of_another_folder_is_not_trusted(tmp_path: Path, site: Site):
    """If output/ was replaced behind the manifest's back, nothing is linked from it."""
    site.publish(pages(("a.html", b"a")))
    os.rename(site.out, tmp_path / "elsewhere")
    site.out.mkdir()
    (site.out / "a.html").write_bytes(b"tampered")
    site.publish(pages(("a.html", b"a")))
    assert (site.out / "a.html").read_bytes() == b"a"


def test_page_with_unchanged_fingerprint_is_not_produced(site: Site):
    site.publish([Page("a.html", "fp1", lambda: b"a")])

    def boom() -> bytes:
        raise AssertionError("rendered although its inputs did not change")

    stats = site.publish([Page("a.html", "fp1", boom)])
    assert (stats.rendered, stats.written) == (0, 0)
    stats = site.publish([Page("a.html", "fp2", lambda: b"A")])
    assert stats.rendered == 1 and (site.out / "a.html").read_bytes() == b"A"


def test_build_with_nothing_changed_leaves_the_output_alone(site: Site):
    pages_ = [Page("a.html", "fp1", lambda: b"a"), Page("d/b.html", None, lambda: b"b")]
    site.publish(pages_)
    folder, inodes = site.out.stat().st_ino, {p: (site.out / p).stat().st_ino for p in tree(site.out)}
    stats = site.publish(pages_)
    assert (stats.written, stats.rendered) == (0, 1)  # only the page without a fingerprint
    assert site.out.stat().st_ino == folder  # not swapped
    assert {p: (site.out / p).stat().st_ino for p in tree(site.out)} == inodes
    # a file removed by hand, or one page more: staged and swapped as usual
    (site.out / "d/b.html").unlink()
    stats = site.publish(pages_)
    assert tree(site.out) == {"a.html": b"a", "d/b.html": b"b"} and site.out.stat().st_ino != folder
    assert stats.changed == ()  # the same bytes as were published: nothing for a deploy to sync
    folder = site.out.stat().st_ino
    site.publish(pages_ + [Page("c.html", None, lambda: b"c")])
    assert tree(site.out) == {"a.html": b"a", "d/b.html": b"b", "c.html": b"c"} and site.out.stat().st_ino != folder


def test_a_file_edited_in_place_by_hand_is_restored(site: Site):
    """Unchanged files are hard links shared with the standby: an edit in place changes
    both, and the next build notices (its size, time or inode differ) and writes it again."""
    pages_ = [Page("a.html", "fp1", lambda: b"<p>a</p>"), Page("b.html", "fp2", lambda: b"<p>b</p>")]
    site.publish(pages_)
    site.publish(pages_ + [Page("c.html", "fp3", lambda: b"c")])  # a standby linked to output/
    site.publish(pages_ + [Page("c.html", "fp4", lambda: b"C")])
    with open(site.out / "a.html", "r+b") as file:  # the same inode, new bytes
        file.write(b"<p>X</p>")
    stats = site.publish(pages_ + [Page("c.html", "fp4", lambda: b"C")])
    assert (site.out / "a.html").read_bytes() == b"<p>a</p>"
    assert stats.rendered == 1 and stats.changed == ()
    assert tree(site.out) == {"a.html": b"<p>a</p>", "b.html": b"<p>b</p>", "c.html": b"C"}
    assert site.publish(pages_ + [Page("c.html", "fp4", lambda: b"C")]).rendered == 0


# --- any sequence of sites is written exactly -------------------------------------------------

UNIVERSE = ["a.html", "b", "b/c.html", "b/d.html", "e/f/g.html", "e/f", "h.txt"]


def _consistent(paths) -> bool:
    """No path is a folder of another (a site cannot hold both "b" and "b/c.html")."""
    return not any(q.startswith(p + "/") for p in paths for q in paths)


SITE = st.dictionaries(st.sampled_from(UNIVERSE), st.tuples(st.sampled_from([b"1", b"2", b"3"]), st.booleans()),
                       max_size=len(UNIVERSE)).filter(lambda d: _consistent(d))


def _pages(site: dict) -> list[Page]:
    # a fingerprint, when given, is a function of the bytes, as a real one is of the inputs
    return [Page(path, f"fp-{data.decode()}" if fingerprinted else None, lambda data=data: data)
            for path, (data, fingerprinted) in sorted(site.items())]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SITE, min_size=1, max_size=6), st.lists(st.sampled_from(UNIVERSE), max_size=3))
def test_any_sequence_of_sites_is_written_exactly(tmp_path_factory, sites, touched):
    """Whatever the sites and the order, output/ holds exactly the last site, `changed`
    names what differs from the site before, and files changed by hand are mended."""
    site = Site(tmp_path_factory.mktemp("seq"))
    before: dict[str, bytes] = {}
    for number, pages_ in enumerate(sites):
        if number and touched:  # a hand edit between builds
            victim = site.out / touched[number % len(touched)]
            if victim.is_file():
                victim.write_bytes(b"by hand")
        stats = site.publish(_pages(pages_))
        expected = {path: data for path, (data, _) in pages_.items()}
        assert tree(site.out) == expected
        assert stats.changed == tuple(sorted({p for p, d in expected.items() if before.get(p) != d}
                                             | (before.keys() - expected.keys())))
        before = expected
