"""axe-core (npm, test-time only: tests/axe/, installed by .ci/run) on one page of every type
in headless Chromium, in the default, high-contrast and large-type modes: no serious or
critical violation of WCAG 2.1 A/AA or axe's best practices."""
from __future__ import annotations

from pathlib import Path

import pytest

from browser_site import PAGE_TYPES, require

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="module")
def axe_source() -> str:
    require(AXE.exists(), "axe-core (npm install in tests/axe)")
    return AXE.read_text(encoding="utf-8")


def scan(page, axe_source: str) -> list[dict]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS)
    return result["violations"]


def serious(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


def test_every_page_type_has_no_serious_violation(page, site_url, axe_source, page_types):
    found = {}
    for name, url in page_types.items():
        page.goto(site_url + url)
        bad = serious(scan(page, axe_source))
        if bad:
            found[name] = bad
    assert not found, found


@pytest.mark.parametrize("mode", ["contrast", "large"])
def test_reading_modes_keep_contrast_and_structure(page, site_url, axe_source, mode):
    page.goto(site_url)
    page.evaluate("mode => localStorage.setItem(mode === 'contrast' ? 'contrast' : 'font-size', "
                  "mode === 'contrast' ? '1' : 'large')", mode)
    found = {}
    for name in ("home", "report", "compliance-year"):
        page.goto(site_url + PAGE_TYPES[name])
        assert page.evaluate("document.documentElement.className").count(
            "contrast" if mode == "contrast" else "font-large") == 1
        bad = serious(scan(page, axe_source))
        if bad:
            found[name] = bad
    assert not found, found


def test_the_scan_finds_a_real_violation(page, site_url, axe_source):
    """The scan is not vacuous: an unlabeled input and grey-on-white text are caught."""
    page.goto(site_url)
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend',
          '<input type="text"><p style="color:#bbb;background:#fff">浅色文字</p>');
    }""")
    ids = {v["id"] for v in scan(page, axe_source) if v["impact"] in ("serious", "critical")}
    assert {"label", "color-contrast"} <= ids
