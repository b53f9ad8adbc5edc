"""The tokenizer: normalisation, the token stream, query clauses, snippets."""
from __future__ import annotations

import unicodedata

import pytest

from site_builder.search import query as query_

from site_builder.text import chars as chars_

from site_builder.text import normalize as normalize_

from site_builder.text import stream as stream_

from site_builder.text import words as words_


def test_normalize_traditional_fullwidth_and_case():
    assert normalize_.normalize("法治政府建設") == "法治政府建设"
    assert normalize_.normalize("ＧＤＰ２０２３") == "gdp2023"
    assert normalize_.normalize("楓橋經驗") == "枫桥经验"


def test_char_map_is_one_to_one_and_from_opencc():
    table = normalize_.char_map()
    assert len(table) > 3000
    assert table["設"] == "设" and table["鎮"] == "镇"
    assert all(len(k) == 1 and len(v) == 1 and k != v for k, v in table.items())


def test_normalize_mapped_keeps_offsets():
    text = "Ａ法治建設\n２０２３年"
    normalized, origin = normalize_.normalize_mapped(text)
    assert normalized == "a法治建设\n2023年"
    assert len(origin) == len(normalized)
    assert text[origin[normalized.index("设")]] == "設"


def test_stream_positions_bigrams_and_gaps():
    assert stream_.stream(normalize_.normalize("2023年度，营商环境 GDP增长")) == [
        "2023", "年", "年度", "度", None, "营商", "商环", "环境", "境", None, "gdp", "增", "增长", "长"]


def test_spaces_between_han_characters_do_not_break_a_phrase():
    """Word and PDF exports put spaces inside sentences: the stream reads on through
    spaces, tabs and ideographic spaces between two Han characters, not through a line
    break, and not between Han and a digit or letter."""
    joined = stream_.stream(normalize_.normalize("根据上级会议"))
    for text in ("根据 上级会议", "根据\t上级  会议", "根据\u3000上级会议", "根据\u00a0上级会议"):
        assert stream_.stream(normalize_.normalize(text)) == joined, text
    assert stream_.stream("根据\n上级") == ["根据", "据", None, "上级", "级"]
    assert stream_.stream("2023 年") == ["2023", None, "年"]
    assert stream_.join_han_mapped("根 据 a 上") == ("根据 a 上", [0, 2, 3, 4, 5, 6])


def test_stream_of_blank_and_control_text_is_empty():
    assert stream_.stream("") == []
    assert stream_.stream(" \x00\x1f\n\t，。") == []


@pytest.mark.parametrize("query, expected", [
    ("营商环境", [("营商", "商环", "环境")]),
    ("2023年", [("2023", "年")]),
    ("2023年度", [("2023", "年", "年度")]),
    ("年2023", [("年", "2023")]),
    ("法治", [("法治",)]),
    ("營商環境", [("营商", "商环", "环境")]),
    ("营商 环境", [("营商",), ("环境",)]),
    ("a*b:c (d) OR NOT", [("a",), ("b",), ("c",), ("d",), ("or",), ("not",)]),
])
def test_parse_query(query, expected):
    assert [c.tokens for c in query_.parse_query(query)] == expected


def test_one_character_query_is_a_character_clause():
    (clause,) = query_.parse_query("鎮")
    assert clause.char and clause.tokens == ("镇",)


@pytest.mark.parametrize("query", ["", "   ", "\x00\x01\x7f", "\"\"", "()*?:~^", "，。！"])
def test_queries_with_nothing_searchable(query):
    assert query_.parse_query(query) == ()


def test_hostile_long_query_is_cut():
    clauses = query_.parse_query("营" * 10_000)
    assert len(clauses) == 1 and len(clauses[0].tokens) == query_.MAX_QUERY_CHARS - 1
    assert len(query_.parse_query(" ".join(str(i) for i in range(1000)))) == query_.MAX_QUERY_TERMS


def test_query_clause_is_substring_of_its_own_stream():
    # A clause's tokens appear consecutively in the stream of any text containing it.
    text = normalize_.normalize("各地在2023年度优化营商环境，GDP增长5%")
    tokens = stream_.stream(text)
    for q in ["2023年", "2023年度优", "优化营商", "gdp增长5", "增长", "地在2023"]:
        (clause,) = query_.parse_query(q)
        n = len(clause.tokens)
        assert any(tuple(tokens[i:i + n]) == clause.tokens for i in range(len(tokens))), q


def test_segmenter_keeps_domain_terms_whole():
    words = words_.words(normalize_.normalize("祠堂圩镇深化放管服改革，坚持发展楓橋經驗，推进一网通办"))
    for word in ("放管服", "枫桥经验", "一网通办"):
        assert word in words


def test_text_words_is_the_only_module_that_segments():
    import ast
    from pathlib import Path

    package = Path(words_.__file__).resolve().parent.parent
    importers = set()
    for source in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] in ("jieba", "rjieba") for name in names):
                importers.add(source.relative_to(package).as_posix())
    assert importers == {"text/words.py"}


def test_word_ends_keep_domain_terms_whole():
    ends = words_.word_ends("严格法治政府建设局党组书记")
    assert 6 not in ends and 8 in ends  # not inside 法治政府建设, which ends at 8
    assert max(ends) == len("严格法治政府建设局党组书记")


def test_snippet_highlights_match_in_original_script():
    text = "前言。" * 30 + "金石鎮推進一網通辦改革。" + "结尾。" * 30
    pieces = query_.snippet(text, query_.parse_query("一网通办"), width=20)
    assert ("一網通辦", True) in pieces
    assert pieces[0] == ("…", False) and pieces[-1] == ("…", False)


def test_snippet_does_not_highlight_inside_longer_numbers():
    pieces = query_.snippet("编号12023年与2023年", query_.parse_query("2023年"))
    marked = [p for p, m in pieces if m]
    assert marked == ["2023年"]
    assert "".join(p for p, _ in pieces).startswith("编号12023年与")


# --- the core claim, as a property: a clause matches exactly where its text occurs ---------

from hypothesis import example, given, settings, strategies as st  # noqa: E402

_ALPHABET = st.sampled_from(list("营商环境法治镇年度建設设") + list("2023") + list("ab") + list(" ，。、_\n\t\u3000"))


def _phrase_in_stream(tokens, clause) -> bool:
    if clause.char:
        return clause.tokens[0] in tokenizer_chars(tokens)
    n = len(clause.tokens)
    return any(tuple(tokens[i:i + n]) == clause.tokens for i in range(len(tokens) - n + 1))


def tokenizer_chars(tokens):
    return {ch for tok in tokens if tok for ch in tok if chars_.is_han(ch)}


def _boundary_substring(text: str, needle: str) -> bool:
    import re

    def edge(ch: str) -> str:
        return "0-9" if ch.isdigit() else "a-z" if ch.isalpha() and ch.isascii() else ""

    head, tail = edge(needle[0]), edge(needle[-1])
    pattern = (f"(?<![{head}])" if head else "") + re.escape(needle) + (f"(?![{tail}])" if tail else "")
    return re.search(pattern, text) is not None


@settings(max_examples=300, deadline=None)
@given(text=st.text(_ALPHABET, max_size=40), data=st.data())
def test_clause_matches_exactly_where_its_text_occurs(text, data):
    normalized = normalize_.normalize(text)
    tokens = stream_.stream(normalized)
    other = data.draw(st.text(_ALPHABET, min_size=1, max_size=6))
    start = data.draw(st.integers(0, max(0, len(text) - 1)))
    candidates = [text[start:start + data.draw(st.integers(1, 6))], other]
    for query in candidates:
        clauses = query_.parse_query(query)
        if len(clauses) != 1 or clauses[0].text != normalize_.normalize(query):
            continue  # queries with gaps are several clauses, each checked on its own
        (clause,) = clauses
        expected = _boundary_substring(stream_.join_han(normalized), clause.text)
        assert _phrase_in_stream(tokens, clause) == expected, (text, query, tokens, clause)
        assert query_.contains(normalized, clause) == expected


def _reference_stream(normalized: str) -> list[str | None]:
    """The stream as docs/search.md defines it, character by character: spaces and tabs
    between two Han characters left out; runs of one kind (Han, digits, other letters,
    gap); a Han run gives every bigram and its last character, and its first character
    alone when a digit or letter run precedes it; a gap is one position; no gap at
    either end."""
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    kept, i = [], 0
    while i < len(normalized):  # a run of white space but line breaks, between two Han characters: left out
        j = i
        while j < len(normalized) and normalized[j].isspace() and normalized[j] not in breaks:
            j += 1
        if j > i:
            if not (i > 0 and j < len(normalized) and chars_.is_han(normalized[i - 1]) and chars_.is_han(normalized[j])):
                kept.append(normalized[i:j])
            i = j
        else:
            kept.append(normalized[i])
            i += 1
    normalized = "".join(kept)
    kinds = [stream_._kind(ch) for ch in normalized]
    out: list[str | None] = []
    i, previous = 0, None
    while i < len(normalized):
        j = i
        while j < len(normalized) and kinds[j] == kinds[i]:
            j += 1
        run, kind = normalized[i:j], kinds[i]
        if kind == " ":
            if out:
                out.append(None)
        elif kind == "h":
            if previous in ("d", "a"):
                out.append(run[0])
            out.extend(run[k:k + 2] for k in range(len(run)))
        else:
            out.append(run)
        i, previous = j, kind
    while out and out[-1] is None:
        out.pop()
    return out


_MIXED = st.sampled_from(list("法治政府建設𠀀〇") + list("20２") + list("abÉß") + list(" ，。_\n-\t") + ["\u0301", "\u3000"])


@settings(max_examples=400, deadline=None)
@given(text=st.text(_MIXED, max_size=30))
def test_stream_is_the_character_by_character_definition(text):
    normalized = normalize_.normalize(text)
    assert stream_.stream(normalized) == _reference_stream(normalized)


@settings(max_examples=400, deadline=None)
@given(text=st.text(_MIXED, max_size=30) | st.text(max_size=30))
@example(text=":\U0003134b")  # unassigned in a Han range: a gap run goes on through it
@example(text="法\U0003134b\U0003134b，\U0003134b2023年\U0003134b")
def test_stream_codes_are_the_stream(text):
    """The index writers' numeric stream is the stream, token for token, on any text
    (astral characters, digits of other scripts, combining marks, control characters)."""
    normalized = normalize_.normalize(text)
    codes, others = stream_.stream_codes(normalized)
    assert codes.dtype.name == "int64"
    assert [stream_.code_token(c, others) for c in codes.tolist()] == stream_.stream(normalized)
    # with offsets: each position starts where its token's text is
    codes, others, where = stream_.stream_codes(normalized, offsets=True)
    joined = stream_.join_han(normalized)
    for code, at in zip(codes.tolist(), where.tolist()):
        token = stream_.code_token(code, others)
        assert token is None or joined.startswith(token, at) or joined.startswith(token[0], at), (token, at)


def test_the_table_of_character_kinds_is_the_run_patterns_own():
    """stream_codes looks a BMP character's kind up in a table made in one pass per class:
    it is what _RUN_RE gives each character alone, for all 63,488 of them."""
    table = stream_._bmp_kinds()
    assert [int(table[cp]) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000] == [
        stream_._code_kind(chr(cp)) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000]


def test_stream_codes_of_a_real_report_are_its_stream():
    from conftest import SAMPLES

    for path in sorted(SAMPLES.glob("*.txt")):
        normalized = normalize_.normalize(path.read_text(encoding="utf-8"))
        codes, others = stream_.stream_codes(normalized)
        assert [stream_.code_token(c, others) for c in codes.tolist()] == stream_.stream(normalized), path.name


def test_the_character_map_can_be_applied_before_case_and_normal_form():
    """normalize's fast path maps characters before lowering and checking the normal form:
    right only while every character of the map is Han, caseless and in NFKC."""
    for key, value in normalize_.char_map().items():
        for ch in (key, value):
            assert chars_.is_han(ch) and ch.lower() == ch == ch.upper(), (key, value)
            assert unicodedata.is_normalized("NFKC", ch) and unicodedata.combining(ch) == 0, (key, value)


TRICKY = ("aZ Σς\u0130İ\u00a0\u00a8\u00bd\u0301\u0308\u0327e\u1100\u1161\u11a8가\u2026\u2160\u2460\u2f00\u3000"
          "\u3099\u304b\u3200\u3231\u33a1\uf900\ufa0c\ufb01\uff21\uff10\uff0c\uff9e\uff76法設經驗楓\U0002f800ǅﬀ")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=12))
def test_normalize_is_nfkc_then_lower_case_then_the_map(text: str):
    assert normalize_.normalize(text) == _reference_normalize(text)


def _reference_normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().translate({ord(k): v for k, v in normalize_.char_map().items()})


# Characters of TRICKY that are in NFKC and combine with no neighbour: a long text of them
# is normalised by the arrays alone (its traditional characters mapped by them).
STABLE = "".join(c for c in TRICKY if unicodedata.is_normalized("NFKC", c) and not unicodedata.combining(c)
                 and not 0x1100 <= ord(c) <= 0x11FF)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(STABLE + "法治政府建設。\n 2023"), min_size=normalize_.LONG_TEXT,
               max_size=2 * normalize_.LONG_TEXT), st.sampled_from(("", *TRICKY)))
def test_normalize_of_a_long_text_is_the_same(text: str, odd: str):
    # From LONG_TEXT characters the map is looked up in arrays, not by str.translate.
    assert normalize_.normalize(text) == _reference_normalize(text)
    assert normalize_.normalize(text + odd + text) == _reference_normalize(text + odd + text)


def test_normalize_of_a_long_text_with_characters_the_arrays_leave_to_translate():
    body = "法治政府建設，ＡＢＣ。" * 40
    for odd in ("㈠", "\U0002f800", "ﬀ", "\ud800"):  # maps to several; outside the BMP; a surrogate
        text = body + odd + body
        assert len(text) >= normalize_.LONG_TEXT
        assert normalize_.normalize(text) == _reference_normalize(text)
    assert normalize_._map_long(body) == body.translate(normalize_._fast_table())
