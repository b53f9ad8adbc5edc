"""Golden check of one whole report page: any change to what a reader sees shows up here.

After an intended change, regenerate with:  UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
and review the diff of tests/golden/ before committing it.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

from conftest import SAMPLES
from site_builder.build import build

GOLDEN = Path(__file__).parent / "golden"
PAGES = ["reports/yuquan-zhen-2023/index.html"]


def test_report_page_matches_golden(tmp_path: Path):
    out = tmp_path / "output"
    assert build(SAMPLES, out).ok
    for page in PAGES:
        golden = GOLDEN / page.replace("/", "__")
        actual = (out / page).read_text(encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        expected = golden.read_text(encoding="utf-8")
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            "golden", "built", n=1))
        assert actual == expected, f"{page} differs from its golden copy:\n{diff[:4000]}"
