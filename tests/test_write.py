"""The write stage: atomic swap, hard links for unchanged files, recovery after a kill."""
from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest

from conftest import tree
from site_builder.publish import folders
from site_builder.publish import standby as standby_module
from site_builder.publish.write import Carried, Page, UnsafePath, recover, write_site


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


# --- the standby tree: any sequence of sites is written exactly ------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

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
@given(st.lists(SITE, min_size=1, max_size=6))
def test_any_sequence_of_sites_is_written_exactly(tmp_path_factory, sites):
    _writes_exactly(tmp_path_factory.mktemp("seq"), sites)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(SITE, min_size=1, max_size=6))
def test_any_sequence_of_sites_is_written_exactly_with_every_folder_taken_at_its_record(tmp_path_factory,
                                                                                      monkeypatch, sites):
    monkeypatch.setattr(folders, "now", lambda near: 2**62)  # no folder is looked into for being recent
    _writes_exactly(tmp_path_factory.mktemp("seq"), sites)


def _writes_exactly(top: Path, sites) -> None:
    out, state = top / "output", top / "state"
    before: dict[str, bytes] = {}
    for site in sites:
        stats = write_site(_pages(site), out, state)
        expected = {path: data for path, (data, _) in site.items()}
        assert tree(out) == expected
        assert stats.written == sum(1 for p, d in expected.items() if before.get(p) != d)
        assert stats.changed == tuple(sorted({p for p, d in expected.items() if before.get(p) != d}
                                             | (before.keys() - expected.keys())))
        before = expected


def test_standby_touches_only_what_changed(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    site = {f"p{i}.html": (b"x%d" % i, True) for i in range(20)}
    for data in (b"first", b"second", b"third"):
        site["p0.html"] = (data, True)
        write_site(_pages(site), out, state)
    # the standby is the output before the last one; the next build changes p0 only there
    standby = {p.name: p.stat().st_ino for p in (state / "standby").iterdir()}
    site["p0.html"] = (b"fourth", True)
    rendered = []
    pages = [Page(p.path, p.fingerprint, lambda p=p: rendered.append(p.path) or p.produce()) for p in _pages(site)]
    stats = write_site(pages, out, state)
    assert rendered == ["p0.html"] and stats.written == 1
    now = {p.name: p.stat().st_ino for p in out.iterdir()}
    # swapped in: the other files are the very ones the standby held (p0's new file may
    # reuse the number of the inode it replaced, so only its bytes are checked)
    assert {n: i for n, i in now.items() if n != "p0.html"} == {n: i for n, i in standby.items() if n != "p0.html"}
    assert (out / "p0.html").read_bytes() == b"fourth"


def test_failure_while_updating_the_standby_leaves_output_and_recovers(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    site = {"a.html": (b"a", True), "b/c.html": (b"c", False)}
    write_site(_pages(site), out, state)
    write_site(_pages({**site, "a.html": (b"A", True)}), out, state)

    def boom() -> bytes:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        write_site(_pages({"a.html": (b"x", True)}) + [Page("z.html", None, boom)], out, state)
    assert tree(out) == {"a.html": b"A", "b/c.html": b"c"}
    write_site(_pages({"a.html": (b"a", True), "h.txt": (b"h", False)}), out, state)
    assert tree(out) == {"a.html": b"a", "h.txt": b"h"}


def test_new_fingerprints_for_the_same_bytes_are_remembered(tmp_path: Path):
    """After a code change every fingerprint is new; the bytes are checked once, and the
    next build trusts the new fingerprints instead of rendering everything again."""
    out, state = tmp_path / "output", tmp_path / "state"
    write_site([Page("a.html", "old", lambda: b"a")], out, state)
    rendered = []

    def render() -> bytes:
        rendered.append(1)
        return b"a"

    assert write_site([Page("a.html", "new", render)], out, state).written == 0 and rendered == [1]
    assert write_site([Page("a.html", "new", render)], out, state).rendered == 0 and rendered == [1]


def test_the_standby_is_described_by_how_it_differs_from_the_output(tmp_path: Path):
    """Its manifest holds the few entries that differ from the output's manifest, and the
    identity of that file: kept when a build only gives the same bytes new fingerprints,
    and not taken at its word once that file is another."""
    out, state = tmp_path / "output", tmp_path / "state"
    site = {f"p{i}.html": (b"x%d" % i, True) for i in range(20)}
    for data in (b"first", b"second"):
        site["p0.html"] = (data, True)
        write_site(_pages(site), out, state)
    described = _state(state / "standby.marshal")
    assert described["delta"] == {"p0.html": [hashlib.sha256(b"first").hexdigest(), "fp-first"]}

    def change(data: bytes) -> bool:
        """Whether the build staged in the standby: a file no manifest lists, put there
        first, is then in the output."""
        (state / "standby/marker").write_bytes(b"")
        site["p0.html"] = (data, True)
        write_site([Page(p.path, "new-" + p.fingerprint, p.produce) for p in _pages(site)], out, state)
        staged_there = (out / "marker").exists()
        (out / "marker").unlink(missing_ok=True)
        assert tree(out) == {p: d for p, (d, _) in site.items()}
        return staged_there

    # the same bytes with new fingerprints (a new version of the code): a new manifest,
    # and the standby described again from it, so the next change still stages there
    renamed = [Page(p.path, "new-" + p.fingerprint, p.produce) for p in _pages(site)]
    assert write_site(renamed, out, state).written == 0
    assert change(b"third")
    # a manifest file other than the one the standby was described from: not used
    (state / "manifest.marshal").write_bytes((state / "manifest.marshal").read_bytes())
    os.utime(state / "manifest.marshal", ns=(1, 1))
    assert not change(b"fourth")
    assert change(b"fifth")


def test_first_output_gets_a_standby_of_hard_links(tmp_path: Path):
    """So the build after the first touches only what changed instead of staging it all."""
    out, state = tmp_path / "output", tmp_path / "state"
    write_site(_pages({"a.html": (b"a", True), "d/b.html": (b"b", True)}), out, state)
    standby = state / "standby"
    assert {p: (standby / p).stat().st_ino for p in ("a.html", "d/b.html")} == {
        p: (out / p).stat().st_ino for p in ("a.html", "d/b.html")}
    rendered = []
    pages = [Page(p.path, p.fingerprint, lambda p=p: rendered.append(p.path) or p.produce())
             for p in _pages({"a.html": (b"A", True), "d/b.html": (b"b", True)})]
    assert write_site(pages, out, state).written == 1 and rendered == ["a.html"]
    assert tree(out) == {"a.html": b"A", "d/b.html": b"b"}


def test_carried_files_are_taken_as_they_are_or_made_when_the_output_disagrees(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"

    def fingerprinted(path, data, fingerprint):
        return Page(path, fingerprint, lambda: data)

    def made(*items):
        asked.append([p for p, _, _ in items])
        return [fingerprinted(*item) for item in items]

    write_site([fingerprinted("a.html", b"a", "fa"), fingerprinted("r/b.html", b"b", "fb")], out, state)
    inode = (out / "r/b.html").stat().st_ino
    asked = []
    # nothing changed: carried without being made or looked at
    write_site([fingerprinted("a.html", b"a", "fa"),
                Carried((("r/b.html", "fb"),), lambda: made(("r/b.html", b"b", "fb")))], out, state)
    assert asked == [] and (out / "r/b.html").stat().st_ino == inode
    # a file changed before it: the carried one goes into the new output unchanged
    write_site([fingerprinted("a.html", b"A", "fA"),
                Carried((("r/b.html", "fb"),), lambda: made(("r/b.html", b"b", "fb")))], out, state)
    assert asked == [] and tree(out) == {"a.html": b"A", "r/b.html": b"b"}
    assert (out / "r/b.html").stat().st_ino == inode
    # the previous build did not leave what the caller thinks: the pages are made
    write_site([fingerprinted("a.html", b"A", "fA"),
                Carried((("r/b.html", "fB"),), lambda: made(("r/b.html", b"B", "fB")))], out, state)
    assert asked == [["r/b.html"]] and tree(out) == {"a.html": b"A", "r/b.html": b"B"}
    with pytest.raises(UnsafePath):
        write_site([fingerprinted("r/b.html", b"B", "fB"),
                    Carried((("r/b.html", "fB"),), lambda: made(("r/b.html", b"B", "fB")))], out, state)


def test_a_carried_file_removed_from_the_output_by_hand(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"

    def page(path, data):
        return Page(path, "f" + data.decode(), lambda: data)

    def carried(path, data):
        return Carried(((path, "f" + data.decode()),), lambda: (asked.append(path), [page(path, data)])[1])

    asked = []
    write_site([page("a.html", b"a"), page("r/b.html", b"b")], out, state)
    (out / "r/b.html").unlink()
    # after a change, a copy the stage (the standby) holds is taken from there
    write_site([page("a.html", b"A"), carried("r/b.html", b"b")], out, state)
    assert asked == [] and tree(out) == {"a.html": b"A", "r/b.html": b"b"}
    # the standby is now the old output, which lost b: its manifest's word is not taken
    write_site([page("a.html", b"a"), carried("r/b.html", b"b")], out, state)
    assert asked == [] and tree(out) == {"a.html": b"a", "r/b.html": b"b"}
    write_site([page("a.html", b"A"), page("r/b.html", b"B")], out, state)  # the standby: b, not B
    (out / "r/b.html").unlink()
    # held by no copy: its page is made
    write_site([page("a.html", b"x"), carried("r/b.html", b"B")], out, state)
    assert asked == ["r/b.html"] and tree(out) == {"a.html": b"x", "r/b.html": b"B"}
    # not looked at (look=False, the preview server) while nothing has changed: a later
    # change finds it in no copy and refuses with what to do, leaving the output intact
    write_site([page("a.html", b"x"), page("r/b.html", b"C")], out, state)
    (out / "r/b.html").unlink()
    write_site([page("a.html", b"x"), carried("r/b.html", b"C")], out, state, look=False)
    assert tree(out) == {"a.html": b"x"}
    with pytest.raises(UnsafePath, match="r/b.html.*removed by hand"):
        write_site([carried("r/b.html", b"C"), page("z.html", b"z")], out, state, look=False)
    assert tree(out) == {"a.html": b"x"}
    # looked at (the command line): made again, though nothing else changed
    write_site([page("a.html", b"x"), carried("r/b.html", b"C")], out, state)
    assert tree(out) == {"a.html": b"x", "r/b.html": b"C"}


def test_a_cached_manifest_is_used_only_while_its_file_is_the_one_written(tmp_path: Path):
    out, state = tmp_path / "output", tmp_path / "state"
    cache = {}
    write_site(pages(("a.html", b"a")), out, state, cache=cache)
    assert cache  # what this process wrote
    write_site(pages(("a.html", b"b")), out, state)  # another process builds meanwhile
    write_site(pages(("a.html", b"a")), out, state, cache=cache)
    assert tree(out) == {"a.html": b"a"}


# --- folder records: what a rebuild looks at ------------------------------------------------

def _records_after_a_tick(monkeypatch) -> None:
    """Records taken once the file system's clock has moved on (a real build spans many of
    its ticks; a test's folders are all changed within one, and would all be racy)."""
    real = folders.now

    def later(near: str) -> int:
        first = real(near)
        while (moved := real(near)) == first:
            time.sleep(0.001)
        return moved
    monkeypatch.setattr(folders, "now", later)


def _carried_site(tmp_path: Path, version: bytes):
    """A page that changes, then 40 files in 8 folders carried over as they were."""
    files = {f"r/{n % 8}/{n}.html": b"page %d" % n for n in range(40)}

    def made():
        return [Page(rel, "f-" + rel, lambda data=data: data) for rel, data in files.items()]

    return [Page("a.html", "fa-" + version.decode(), lambda: version),
            Carried(tuple((rel, "f-" + rel) for rel in files), made)], files


def _looked_for(monkeypatch) -> list[str]:
    """The paths os.access is asked about from now on."""
    asked, real = [], os.access

    def access(path, mode, **kwargs):
        asked.append(os.fspath(path))
        return real(path, mode, **kwargs)
    monkeypatch.setattr(os, "access", access)
    return asked


def test_folders_unchanged_since_their_record_are_not_looked_into(tmp_path: Path, monkeypatch):
    out, state = tmp_path / "output", tmp_path / "state"
    _records_after_a_tick(monkeypatch)
    for version in (b"1", b"2"):
        write_site(_carried_site(tmp_path, version)[0], out, state)
    asked = _looked_for(monkeypatch)
    write_site(_carried_site(tmp_path, b"3")[0], out, state)  # staged in the standby: its 40 files carried
    assert not [path for path in asked if "/r/" in path]
    # folders changed in the clock tick of their record are looked into file by file:
    # here (a record taken at the beginning of time), the standby's r/ folders
    monkeypatch.setattr(folders, "now", lambda near: 0)
    for version in (b"4", b"5"):  # the standby of the build after these two was recorded so
        write_site(_carried_site(tmp_path, version)[0], out, state)
    asked.clear()
    write_site(_carried_site(tmp_path, b"6")[0], out, state)
    assert len([path for path in asked if "/r/" in path]) == 40


@pytest.mark.parametrize("removed", ["r/3/11.html", "r/3", "r"])
def test_a_file_removed_from_a_folder_taken_at_its_record_comes_back(tmp_path: Path, monkeypatch, removed):
    out, state = tmp_path / "output", tmp_path / "state"
    _records_after_a_tick(monkeypatch)
    for version in (b"1", b"2"):
        write_site(_carried_site(tmp_path, version)[0], out, state)
    target = out / removed
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    site, files = _carried_site(tmp_path, b"2")
    write_site(site, out, state)  # nothing changed: the output's record shows the loss
    assert tree(out) == {"a.html": b"2", **files}
    for version in (b"3", b"4"):  # and each tree, taken as the stage in turn, gets it back
        site, files = _carried_site(tmp_path, version)
        write_site(site, out, state)
        assert tree(out) == {"a.html": version, **files}


def test_a_file_removed_from_the_standby_is_made_again(tmp_path: Path, monkeypatch):
    out, state = tmp_path / "output", tmp_path / "state"
    _records_after_a_tick(monkeypatch)
    for version in (b"1", b"2"):
        write_site(_carried_site(tmp_path, version)[0], out, state)
    (state / "standby/r/5/13.html").unlink()
    (out / "r/5/13.html").unlink()  # and from the output: in neither copy, so its page is made
    site, files = _carried_site(tmp_path, b"3")
    write_site(site, out, state)
    assert tree(out) == {"a.html": b"3", **files}


def test_without_a_record_every_file_is_looked_for_and_every_folder_recorded(tmp_path: Path):
    root = tmp_path / "tree"
    for rel in ("a.html", "d/b.html", "d/e/c.html"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "d/b.html").unlink()
    lost, verified = folders.verify(str(root), ["a.html", "d/b.html", "d/e/c.html"], None)
    assert lost == {"d/b.html"} and set(verified) == {"", "d", "d/e"}
    # a folder replaced by another of the same name is not the one recorded
    at, recorded = folders.take(str(root), ["", "d", "d/e"], {})
    shutil.rmtree(root / "d/e")
    (root / "d/e").mkdir()
    assert folders.verify(str(root), ["a.html", "d/e/c.html"], (2**62, recorded))[0] == {"d/e/c.html"}


def _state(path: Path) -> dict:
    return standby_module.read_state(path, {})


def test_manifests_of_an_earlier_version_are_read_once_and_trusted_only_where_they_hold(tmp_path: Path):
    """Pickled, without folder records, the standby's with all its files: read, so that
    the upgrade rewrites nothing that did not change, then replaced."""
    out, state = tmp_path / "output", tmp_path / "state"
    for version in (b"1", b"2"):
        write_site(_carried_site(tmp_path, version)[0], out, state)
    manifest, standby = _state(state / "manifest.marshal"), _state(state / "standby.marshal")
    standby_files = dict(manifest["files"], **{k: v for k, v in standby["delta"].items() if v is not None})
    for name, data in (("manifest", {"inode": manifest["inode"], "files": manifest["files"]}),
                       ("standby", {"inode": standby["inode"], "files": standby_files})):
        (state / f"{name}.marshal").unlink()
        (state / f"{name}.pickle").write_bytes(pickle.dumps(data))
    inodes = {p: (out / p).stat().st_ino for p in tree(out) if p != "a.html"}
    (out / "r/2/10.html").unlink()
    site, files = _carried_site(tmp_path, b"3")
    assert write_site(site, out, state).written == 1  # a.html: the rest is as it was
    assert tree(out) == {"a.html": b"3", **files}
    assert {p: (out / p).stat().st_ino for p in inodes if p != "r/2/10.html"} == {
        p: i for p, i in inodes.items() if p != "r/2/10.html"}
    assert not list(state.glob("*.pickle"))
    assert _state(state / "manifest.marshal")["folders"][1].keys() >= {"", "r/0", "r/7"}
