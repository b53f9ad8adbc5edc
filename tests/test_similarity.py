"""Similar reports: sentence hashing, the inverted index, stock phrases, shares, and the
report pages that show them (kept fresh when the other report changes)."""
from __future__ import annotations

import random
from dataclasses import fields, replace
from pathlib import Path

from conftest import report_text, write_archive
from site_builder.text import sentences as sentences_
from site_builder.site import similarity
from site_builder.site.assemble import assemble_site
from site_builder.build import build
from site_builder.model import Summary
from site_builder.text.normalize import normalize


def summary(source: str, text: str, **values) -> Summary:
    defaults = {f.name: None for f in fields(Summary) if f.init}
    defaults.update(key=source, source=source, format="txt", encoding="utf-8", sha256="", script="simplified",
                    title=source, title_derived=False, issuer=(), issuer_derived=False, publisher=None, flags=(), parts=(), lead="",
                    keywords=(), sentences=sentences_.sentence_hashes(normalize(text)))
    defaults.update(values)
    return Summary(**defaults)


def test_sentences_are_normalised_before_hashing():
    simplified = "我镇全面推进行政执法三项制度落实，规范执法行为。二〇二三年办理案件12件。"
    traditional = "我鎮全面推進行政執法三項制度落實, 規範執法行為!二〇二三年辦理案件34件。"
    simplified, traditional = normalize(simplified), normalize(traditional)
    assert sentences_.sentences(simplified) == sentences_.sentences(traditional)
    assert sentences_.sentence_hashes(simplified) == sentences_.sentence_hashes(traditional)
    # short pieces (headings, dates) do not count; each sentence is hashed once
    assert sentences_.sentences("一、主要举措\n2024年1月11日") == []
    packed = sentences_.sentence_hashes(simplified + simplified)
    assert len(packed) == 8 * len(sentences_.sentences(simplified)) == 16


def _text(rng: random.Random, n: int, tag: str) -> list[str]:
    chars = "法治政府建设推进依法行政执法监督普法宣传矛盾纠纷化解合法性审查规范性文件备案公开服务群众"
    return [f"{tag}" + "".join(rng.choice(chars) for _ in range(16)) + "。" for _ in range(n)]


def test_copied_text_is_found_with_its_share_and_stock_phrases_are_ignored():
    rng = random.Random(3)
    stock = ["现将我单位本年度法治政府建设工作情况报告如下。", "全面贯彻落实习近平法治思想和党的二十大精神。"]
    a = _text(rng, 20, "甲")
    b = a[:10] + _text(rng, 10, "乙")  # half of b is copied from a
    others = [_text(rng, 20, f"丙{i}") for i in range(8)]
    texts = [a, b, *others]
    summaries = tuple(summary(f"r{i}.txt", "".join(stock + t)) for i, t in enumerate(texts))
    found = similarity.similar_reports(summaries)
    assert found[0] == ((1, 0.5),)  # 10 of a's 20 own sentences are in b
    assert found[1] == ((0, 0.5),)
    # every report shares the two stock sentences, yet no other pair is listed
    assert all(found[i] == () for i in range(2, len(texts)))


def test_share_is_directional_and_at_most_top_reports_are_listed():
    rng = random.Random(5)
    base = _text(rng, 30, "本")
    summaries = [summary("long.txt", "".join(base)), summary("short.txt", "".join(base[24:30]))]
    for i, (lo, hi) in enumerate([(0, 5), (5, 9), (9, 12), (12, 14)]):
        summaries.append(summary(f"copy{i}.txt", "".join(base[lo:hi] + _text(rng, 10, f"c{i}"))))
    found = similarity.similar_reports(tuple(summaries), top=3)
    assert found[1] == ((0, 1.0),)  # all of the short report is in the long one
    # the long report: the most shared first (6, 5, 4 of its 30 sentences), three at most
    assert found[0] == ((1, 0.2), (2, round(5 / 30, 3)), (3, round(4 / 30, 3)))
    assert found[2] == ((0, round(5 / 15, 3)),)


def test_a_thousand_reports_with_planted_copies():
    """At archive scale every planted copy is found and nothing else is listed."""
    rng = random.Random(11)
    stock = "".join(f"这是各地报告通用的第{n}句套话，内容完全相同。" for n in "一二三四五")
    texts = ["".join(_text(rng, 25, f"{i:04d}")) for i in range(1000)]
    planted = {}
    for i in range(0, 1000, 10):  # report i+1 copies 8 sentences of report i
        sentences = texts[i].split("。")[:8]
        texts[i + 1] += "。".join(sentences) + "。"
        planted[i + 1] = i
    summaries = tuple(summary(f"r{i:04d}.txt", stock + t) for i, t in enumerate(texts))
    found = similarity.similar_reports(summaries)
    for copy, original in planted.items():
        assert found[copy] and found[copy][0][0] == original
        assert found[copy][0][1] == round(8 / 33, 3)
        assert found[original][0] == (copy, round(8 / 25, 3))
    listed = {i for i, pairs in enumerate(found) if pairs}
    assert listed == set(planted) | set(planted.values())


def test_with_similar_names_entries_and_pages_follow_the_other_report(tmp_path: Path):
    copied = "".join(f"第{n}项工作中我们坚持问题导向，逐项梳理整改清单并建立长效机制。" for n in "一二三四五六")
    content = write_archive(tmp_path / "content", {
        "a-2023.txt": report_text("甲镇", 2023, copied),
        "b-2023.txt": report_text("乙镇", 2023, copied),
        "c-2023.txt": report_text("丙镇", 2023, "本镇另有特色工作，与其他地方完全不同，具体如下所述。"),
        "d-2023.txt": report_text("丁镇", 2023),
        "e-2023.txt": report_text("戊镇", 2023),
    })
    out = tmp_path / "out"
    result = build(content, out)
    assert result.ok
    entries = {e.id: e for e in result.site.entries}
    assert [i for i, _ in entries["a-2023"].similar] == ["b-2023"]
    assert entries["c-2023"].similar == ()
    html = (out / "reports/a-2023/index.html").read_text(encoding="utf-8")
    assert 'href="../../reports/b-2023/"' in html and "乙镇2023年法治政府建设年度报告" in html
    # the other report's new title reaches this page on the next build
    (content / "b-2023.txt").write_text(report_text("乙镇", 2023, copied).replace(
        "乙镇2023年法治政府建设年度报告", "乙镇2023年度法治政府建设工作报告", 1), encoding="utf-8")
    assert build(content, out).ok
    html = (out / "reports/a-2023/index.html").read_text(encoding="utf-8")
    assert "乙镇2023年度法治政府建设工作报告" in html


def test_assembled_order_does_not_change_the_result():
    rng = random.Random(2)
    a = _text(rng, 12, "甲")
    texts = [a, a[:6] + _text(rng, 6, "乙"), a[3:9] + _text(rng, 6, "丙")]
    summaries = [summary(f"{name}.txt", "".join(t)) for name, t in zip("xyz", texts)]
    one, _ = assemble_site(tuple(summaries))
    two, _ = assemble_site(tuple(reversed(summaries)))
    assert similarity.with_similar(one) == similarity.with_similar(two)
    assert replace(similarity.with_similar(one).entries[0], similar=()) == one.entries[0]


def test_a_no_op_rebuild_reads_no_full_report(tmp_path: Path, small_archive: Path):
    """Similarity, compliance and data pages come from the summaries: with every full
    report gone from the parse cache, an unchanged archive still rebuilds."""
    from site_builder.state import Store, state_dir

    out = tmp_path / "out"
    first = build(small_archive, out)
    assert first.ok
    store = Store.open(state_dir(out))
    assert len(store.space("reports").keys()) == 3
    with store.transaction():
        store.space("reports").clear()
    store.close()
    again = build(small_archive, out)
    assert again.ok and again.site == first.site
    assert (out / "reports.json").read_bytes() and (out / "compliance/index.html").exists()
