"""The published site in headless Chromium: keyboard navigation, the reading settings
(font size, high contrast) kept across pages, search from the home page, print media,
a 320 px phone without horizontal scrolling, pages without JavaScript, and no request
to any other host."""
from __future__ import annotations

import struct
from urllib.parse import parse_qs, urlsplit

from browser_site import PAGE_TYPES


def root_font_px(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")


def px(page, selector: str, prop: str = "fontSize") -> float:
    return page.evaluate(f"parseFloat(getComputedStyle(document.querySelector({selector!r})).{prop})")


def test_keyboard_skip_link_and_navigation(page, site_url):
    page.goto(site_url)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused == ["skip-link", "跳到正文"]
    # the skip link is visible when focused (not left off-screen)
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # the focus ring is visible: an outline of at least 2px on the focused link
    page.focus(".site-nav a[href$='catalogue/']")
    assert page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)") >= 2
    page.keyboard.press("Enter")
    page.wait_for_url("**/catalogue/")
    assert page.locator("h1").inner_text() == "信息公开目录"
    # from the catalogue to a report, then to its year and its place
    page.locator("table.list a[href*='reports/yanpi-zhen-2024/']").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports/yanpi-zhen-2024/")
    assert "演陂镇" in page.locator("h1").inner_text()
    page.locator(".meta a", has_text="2024年").click()
    page.wait_for_url("**/years/2024/")
    page.go_back()
    page.locator(".meta a", has_text="演陂镇").click()
    page.wait_for_url("**/places/430421105/")
    assert page.locator("#timeline-h").inner_text() == "历年公开情况"
    page.locator(".site-nav a", has_text="公开情况统计").click()
    page.wait_for_url("**/compliance/")
    assert page.locator("svg.chart").count() == 2


def test_font_size_switch_by_keyboard_scales_all_text_and_persists(page, site_url):
    page.goto(site_url + PAGE_TYPES["report"])
    before = {"root": root_font_px(page), "p": px(page, ".report-body p"), "h1": px(page, "h1"),
              "meta": px(page, ".meta td"), "nav": px(page, ".site-nav a")}
    page.focus("button[data-font='large']")
    page.keyboard.press("Enter")
    assert page.get_attribute("button[data-font='large']", "aria-pressed") == "true"
    assert page.get_attribute("button[data-font='medium']", "aria-pressed") == "false"
    after = {"root": root_font_px(page), "p": px(page, ".report-body p"), "h1": px(page, "h1"),
             "meta": px(page, ".meta td"), "nav": px(page, ".site-nav a")}
    for key in before:
        assert after[key] >= before[key] * 1.2, (key, before[key], after[key])
    # line spacing stays at least 1.3 times the type size
    assert px(page, ".report-body p", "lineHeight") >= 1.3 * after["p"]
    # kept on the next page, applied before the first paint
    page.goto(site_url + PAGE_TYPES["compliance"])
    assert root_font_px(page) == after["root"]
    assert page.get_attribute("button[data-font='large']", "aria-pressed") == "true"
    page.focus("button[data-font='small']")
    page.keyboard.press("Space")
    assert root_font_px(page) < before["root"]
    page.goto(site_url)
    assert root_font_px(page) < before["root"]


# Contrast ratio of every visible button's text against its own background. axe leaves
# one-character labels (大/中/小) unjudged, so they are measured here.
BUTTON_CONTRAST = """() => {
  const rgb = c => c.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                     return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [...document.querySelectorAll('button')].filter(b => b.offsetParent).map(b => {
    const s = getComputedStyle(b); const [x, y] = [lum(s.color), lum(s.backgroundColor)];
    return [b.textContent.trim(), (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05)];
  });
}"""


def low_contrast_buttons(page) -> list:
    ratios = page.evaluate(BUTTON_CONTRAST)
    assert len(ratios) >= 5
    return [(label, round(ratio, 2)) for label, ratio in ratios if ratio < 4.5]


def test_high_contrast_mode_by_keyboard_persists(page, site_url):
    page.goto(site_url)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert not low_contrast_buttons(page)
    page.focus("button[data-contrast]")
    page.keyboard.press("Enter")
    assert page.get_attribute("button[data-contrast]", "aria-pressed") == "true"
    assert not low_contrast_buttons(page)
    page.goto(site_url + PAGE_TYPES["report"])
    assert page.evaluate("document.documentElement.classList.contains('contrast')")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)" != background


def test_search_from_the_home_page(page, site_url):
    page.goto(site_url)
    page.fill("#home-q", "行政复议")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["行政复议"]
    assert page.locator("h1").inner_text() == "全文检索"
    page.locator("#search-results a[href*='reports/']").first.wait_for(timeout=10000)
    assert page.locator("#search-results a[href*='reports/']").count() >= 1


def test_keyword_links_search_for_the_word(page, site_url):
    page.goto(site_url + PAGE_TYPES["report"])
    links = page.locator(".keywords a")
    assert links.count() >= 3
    word = links.first.inner_text()
    href = links.first.get_attribute("href")
    assert parse_qs(urlsplit(href).query)["q"] == [word]


def test_print_media_shows_the_report_and_its_metadata_only(page, site_url):
    page.goto(site_url + PAGE_TYPES["report"])
    page.emulate_media(media="print")
    hidden = [".site-header", ".site-nav", ".tools", ".breadcrumb", ".site-footer", ".report-tools",
              ".prevnext", ".skip-link"]
    for selector in hidden:
        assert not page.locator(selector).first.is_visible(), selector
    for selector in [".meta", "h1.report-title", ".report-body", ".processing"]:
        assert page.locator(selector).first.is_visible(), selector
    assert page.locator(".print-only").first.is_visible()  # where the page came from
    assert site_url + PAGE_TYPES["report"] in page.locator(".print-only").first.inner_text()
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(0, 0, 0)"
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10000
    page.emulate_media(media="screen")
    assert page.locator(".site-header").is_visible() and not page.locator(".print-only").first.is_visible()


def test_phone_width_has_no_horizontal_scroll(browser, site_url, tmp_path, page_types):
    context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    wide = {}
    try:
        for name, url in page_types.items():
            phone.goto(site_url + url)
            width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            if width > 320:
                wide[name] = width
        phone.goto(site_url + PAGE_TYPES["report"])
        shot = phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    finally:
        context.close()
    assert not wide, wide
    png_width, png_height = struct.unpack(">II", shot[16:24])
    assert png_width == 320 and png_height > 640


def test_pages_are_readable_without_javascript(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    try:
        for name in ("home", "report", "compliance", "place", "data"):
            tab.goto(site_url + PAGE_TYPES[name])
            assert tab.locator("main h1").first.is_visible(), name
            assert len(tab.locator("main").inner_text()) > 100, name
            # controls that need JavaScript are not offered
            assert not tab.locator("button[data-font]").first.is_visible(), name
        tab.goto(site_url + PAGE_TYPES["report"])
        assert tab.locator(".report-body p").count() > 10
    finally:
        context.close()


def test_nothing_is_loaded_from_other_hosts_and_no_popups(page, site_url, page_types):
    requested, popups = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("popup", lambda popup: popups.append(popup.url))
    page.on("dialog", lambda dialog: popups.append(dialog.message))
    for url in page_types.values():
        page.goto(site_url + url)
        page.wait_for_load_state("load")
    foreign = [u for u in requested if not u.startswith(site_url) and not u.startswith("data:")]
    assert not foreign, foreign
    assert not popups
    assert any(u.endswith("static/site.css") for u in requested)
