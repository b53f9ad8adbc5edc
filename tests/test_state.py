"""The state a build keeps: a private folder, one SQLite database of plain values, no
pickle; anything damaged or foreign is dropped and made again, never fatal."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from conftest import report_text, tree, write_archive
from site_builder import codec
from site_builder.build import build
from site_builder.content.stage import parse_file
from site_builder.model import Report
from site_builder.state import DATABASE, StateError, Store, private_folder, state_dir


def test_the_state_folder_is_made_private(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    for folder in (state_dir(out), state_dir(out).parent):
        assert folder.stat().st_mode & 0o777 == 0o700


def test_a_state_folder_that_others_may_write_is_made_private_or_refused(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    state = state_dir(out)
    state.mkdir(parents=True)
    os.chmod(state, 0o777)
    assert build(small_archive, out).ok
    assert state.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="making a folder another user owns needs root")
def test_a_state_folder_of_another_user_is_refused(tmp_path: Path, small_archive: Path):
    """Another user who made the folder first (an output under /tmp, a shared runner) could
    have planted files that are read with pickle (Whoosh's): the build refuses it."""
    out = tmp_path / "output"
    state = state_dir(out)
    state.mkdir(parents=True)
    os.chown(state, 12345, 12345)
    result = build(small_archive, out)
    assert not result.ok and not out.exists()
    [problem] = result.problems
    assert problem.path == str(state) and "其他用户" in problem.message and "another user" in problem.message
    os.chown(state, 0, 0)
    os.symlink(tmp_path, state.parent / "elsewhere")
    with pytest.raises(StateError, match="symlink"):
        private_folder(state.parent / "elsewhere")


def test_nothing_in_the_state_is_a_pickle_of_ours(tmp_path: Path, small_archive: Path):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, "新增一句。")})
    assert build(small_archive, out).ok
    state = state_dir(out)
    theirs = [state / name for name in ("whoosh", "standby", "templates")]  # Whoosh's, output/'s, Jinja's
    ours = [p for p in state.rglob("*") if p.is_file() and not any(p.is_relative_to(t) for t in theirs)]
    assert ours and not [p for p in ours if p.read_bytes()[:1] == b"\x80"]  # the pickle protocol mark


def test_a_damaged_database_is_started_afresh(tmp_path: Path, small_archive: Path):
    out, fresh = tmp_path / "output", tmp_path / "fresh"
    assert build(small_archive, out).ok
    database = state_dir(out) / DATABASE
    for damage in (b"garbage" * 100, b"", database.read_bytes()[:1000]):
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        database.write_bytes(damage)
        write_archive(small_archive, {"yanpi-2024.txt": report_text("演陂镇", 2024, f"{len(damage)}。")})
        result = build(small_archive, out)
        assert result.ok, [str(p) for p in result.problems]
        assert build(small_archive, fresh).ok and tree(out) == tree(fresh)


def test_damaged_entries_cost_time_never_a_wrong_build(tmp_path: Path, small_archive: Path):
    out, fresh = tmp_path / "output", tmp_path / "fresh"
    assert build(small_archive, out).ok
    db = sqlite3.connect(state_dir(out) / DATABASE)
    with db:  # every value of every space replaced by garbage
        db.execute("UPDATE entries SET value = x'00ff00'")
    db.close()
    result = build(small_archive, out)
    assert result.ok, [str(p) for p in result.problems]
    assert build(small_archive, fresh).ok and tree(out) == tree(fresh)


def test_a_database_of_another_schema_version_is_replaced(tmp_path: Path):
    store = Store.open(tmp_path)
    with store.transaction():
        store.space("parsed").put_json([("k", [1, 2])])
        store._db.execute("UPDATE meta SET value = '999' WHERE key = 'schema'")
    store.close()
    store = Store.open(tmp_path)
    assert store.space("parsed").keys() == set()
    store.close()


def test_a_report_goes_through_the_codec_unchanged():
    from conftest import SAMPLES

    for path in sorted(SAMPLES.glob("*.txt")):
        report, _ = parse_file(path, path.name)
        assert isinstance(report, Report)
        assert codec.decode(Report, codec.encode(report)) == report
    with pytest.raises(ValueError):
        codec.decode(Report, ["too", "short"])
