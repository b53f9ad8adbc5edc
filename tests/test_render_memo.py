"""The render memo: its chunks of data-file lines (an edit, an addition or a removal
makes the lines of the reports it touches, and nothing else) and its stored parts."""
from __future__ import annotations

import hashlib

from site_builder.build import RENDER_MEMO, build, state_dir
from site_builder.render.memo import CHUNK, MEMO_FORMAT, RenderMemo, chunks
from site_builder.state import load_pickle, store_pickle


def token(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


IDS = [f"place-{n:05d}-2024" for n in range(3000)]
TOKENS = [token(name) for name in IDS]


def test_chunks_cover_the_entries_in_order_and_are_cut_by_the_ids_alone():
    layout = chunks(IDS, TOKENS)
    ends = [start for _, start, _ in layout[1:]] + [len(IDS)]
    assert layout[0][1] == 0 and all(end > start for (_, start, _), end in zip(layout, ends))
    assert all(joined == "".join(TOKENS[start:end]) for (_, start, joined), end in zip(layout, ends))
    assert 3000 // CHUNK // 3 < len(layout) < 3000 // CHUNK * 3  # about CHUNK entries each
    # other tokens (edits) do not move a cut; a removed entry changes its chunk only
    assert [c[:2] for c in chunks(IDS, [token(t + "x") for t in TOKENS])] == [c[:2] for c in layout]
    before = {key: joined for key, _, joined in layout}
    for gone, touched in ((1234, 1), (layout[3][1], 2)):  # a report, then one that starts a chunk
        fewer = chunks(IDS[:gone] + IDS[gone + 1:], TOKENS[:gone] + TOKENS[gone + 1:])
        after = {key: joined for key, _, joined in fewer}
        assert len([key for key in before if after.get(key) != before[key]]) == touched
    assert chunks([], []) == []


def test_data_lines_make_only_the_lines_of_entries_whose_tokens_are_new():
    memo, made = RenderMemo(), []

    def make(name: str) -> bytes:
        made.append(name)
        return name.encode()

    def lines(ids, tokens, version="v1"):
        made.clear()
        return memo.data_lines("json", version, chunks(ids, tokens), ids, make)

    assert lines(IDS, TOKENS) == [n.encode() for n in IDS] and len(made) == len(IDS)
    assert lines(IDS, TOKENS) == [n.encode() for n in IDS] and made == []
    edited = TOKENS[:]
    edited[17] = token("edited")
    assert lines(IDS, edited)[17] == IDS[17].encode() and made == [IDS[17]]
    added = IDS[:500] + ["new-report"] + IDS[500:]
    assert lines(added, edited[:500] + [token("new")] + edited[500:]) == [n.encode() for n in added]
    assert made == ["new-report"]
    lines(IDS, TOKENS, version="v2")  # another design version: every line is made again
    assert len(made) == len(IDS)
    # each data file kind has its own lines
    assert memo.data_lines("csv", "v2", chunks(IDS, TOKENS), IDS, make) and len(made) == 2 * len(IDS)


def test_a_part_of_another_format_is_stored_again(tmp_path, small_archive):
    out = tmp_path / "output"
    assert build(small_archive, out).ok
    part = state_dir(out) / RENDER_MEMO / "lines-00.pickle"
    store_pickle(part, ("render-memo 0", {"an entry": "of an earlier version"}))
    assert build(small_archive, out).ok  # nothing changed: the part is read, not used, and replaced
    assert load_pickle(part)[0] == MEMO_FORMAT and "an entry" not in load_pickle(part)[1]
