"""decode_bytes: every encoding real captures come in, and clear errors for the rest."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from site_builder.content.decode import _NOT_ASCII_OR_CHINESE, _UTF8_SIGNS, DecodeError, decode_bytes

TEXT = "金石镇2021年法治政府建设年度报告\r\n一、主要举措和成效\r\n（一）加强组织领导"


@pytest.mark.parametrize(
    "raw, encoding",
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),  # with BOM
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("utf-16-le"), "utf-16"),  # no BOM, recognised by its NULs
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_decodes_and_records_encoding(raw, encoding):
    text, used = decode_bytes(raw)
    assert used == encoding
    assert text == TEXT.replace("\r\n", "\n")


def test_old_mac_line_ends_are_normalised():
    assert decode_bytes("一\r二".encode("utf-8"))[0] == "一\n二"


def test_binary_is_refused_with_its_line():
    raw = b"line one\nline two\n\x00\x01\x02\x89PNG\x00\x00\x10"
    with pytest.raises(DecodeError) as err:
        decode_bytes(raw)
    assert err.value.line == 3
    assert "binary" in str(err.value)


def test_broken_utf16_names_the_line():
    raw = "第一行\n第二行\n".encode("utf-16") + b"\x00\xd8"  # a lone high surrogate
    with pytest.raises(DecodeError) as err:
        decode_bytes(raw)
    assert err.value.line == 3


def test_invalid_utf8_with_bom_is_an_error_not_mojibake():
    with pytest.raises(DecodeError):
        decode_bytes(b"\xef\xbb\xbf\xe9\x87\x91\xff\xfe")


def test_short_gbk_that_is_also_valid_utf8_is_read_as_chinese():
    from site_builder.content.decode import decode_bytes

    assert decode_bytes("一".encode("gb18030")) == ("一", "gb18030")  # D2 BB is also UTF-8 「һ」
    assert decode_bytes("héllo".encode("utf-8")) == ("héllo", "utf-8")
    assert decode_bytes("一".encode("utf-8")) == ("一", "utf-8")
    # Chinese punctuation is UTF-8 evidence: E3 80 81 58 would read as GB18030 「銆乆」
    assert decode_bytes("、X".encode("utf-8")) == ("、X", "utf-8")
    assert decode_bytes("《法》".encode("utf-8")) == ("《法》", "utf-8")


@given(st.text(alphabet=st.sampled_from("aZ1 \n\u00a0é\u024f\u0250һѕ\u3000、\uff0c１\u4e00金\u9fff\u3400\u4dbf\u2014€")))
def test_the_patterns_of_the_utf8_or_gb18030_choice_agree_with_their_definitions(text: str):
    def chinese(ch: str) -> bool:  # Han, CJK punctuation (、。《》) or a fullwidth form (，：１Ａ)
        return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\u3000" <= ch <= "\u303f" \
            or "\uff00" <= ch <= "\uffef"
    assert bool(_UTF8_SIGNS.search(text)) == any(chinese(ch) or "\u00a0" <= ch <= "\u024f" for ch in text)
    assert bool(_NOT_ASCII_OR_CHINESE.search(text)) == any(not ch.isascii() and not chinese(ch) for ch in text)
