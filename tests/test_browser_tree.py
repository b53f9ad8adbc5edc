"""Browsing without search in headless Chromium: from the home page down the region tree to a
town's report by clicks; the catalogue's filters and orders (pre-rendered views, and the
client-side filter's shareable URLs); and the 390 px phone layout of the tree, catalogue and
coverage pages: no sideways scroll, no number, date or year broken inside a table cell, form
controls at the page's type size. Also the reading measure of a report on a desktop."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from browser_site import PAGE_TYPES

# Every run of digits in a table cell (a year, a date, a count) on one line: the number of
# runs drawn on more than one line.
BROKEN_NUMBERS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main td, main th')) {
    if (!cell.offsetParent) continue;
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walk.nextNode(); node; node = walk.nextNode()) {
      for (const m of node.data.matchAll(/[0-9][0-9\\-:/.]*[0-9]/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def test_from_home_to_a_towns_report_by_clicks(page, site_url):
    page.goto(site_url)
    clicks = 0
    for name in ("湖南省", "衡阳市", "衡阳县", "演陂镇"):
        page.locator("main a", has_text=name).first.click()
        clicks += 1
        page.wait_for_load_state("load")
        assert page.locator("main h1").inner_text() == name
    crumbs = page.locator(".breadcrumb li").all_inner_texts()
    assert crumbs == ["首页", "按地区", "湖南省", "衡阳市", "衡阳县", "演陂镇"]
    page.locator("main table.reports a[href*='reports/yanpi-zhen-2024/']").click()
    clicks += 1
    page.wait_for_url("**/reports/yanpi-zhen-2024/")
    assert clicks <= 6 and "演陂镇" in page.locator("h1").inner_text()
    # the report's breadcrumb goes back up the tree
    page.locator(".breadcrumb a", has_text="衡阳县").click()
    page.wait_for_url("**/places/430421/")
    # the county's coverage grid: its towns from the gazetteer, the report linked in its year
    grid = page.locator("#coverage table.coverage")
    assert grid.locator("tbody tr").count() > 10
    row = grid.locator("tbody tr", has=page.locator("th", has_text="演陂镇"))
    assert row.locator("a", has_text="已收录").get_attribute("href").endswith("reports/yanpi-zhen-2024/")
    assert row.locator("td", has_text="未收录").count() >= 1
    assert "未公开" not in grid.inner_text()


def test_a_place_the_gazetteer_does_not_list_hangs_under_its_county(page, site_url):
    page.goto(site_url + PAGE_TYPES["place-county"])
    page.locator("main a", has_text="城南区").first.click()
    page.wait_for_url("**/places/430923/chengnanqu/")
    assert page.locator(".breadcrumb li").all_inner_texts() == ["首页", "按地区", "湖南省", "益阳市", "安化县", "城南区"]


def rows(page) -> list[list[str]]:
    return [r.locator("td").all_inner_texts() for r in page.locator("#catalogue-results table.reports tbody tr").all()]


def test_catalogue_filters_and_orders(page, site_url):
    page.goto(site_url + PAGE_TYPES["catalogue"])
    assert len(rows(page)) == 5
    # one filter in the default order: its pre-rendered page
    page.select_option("#f-province", "430000")
    page.click("#catalogue-filters button[type=submit]")
    page.wait_for_url("**/catalogue/province-430000/")
    assert len(rows(page)) == 3 and page.locator("#f-province").input_value() == "430000"
    # a year and another order: drawn in the browser, at a URL that says so
    page.select_option("#f-province", "")
    page.select_option("#f-year", "2024")
    page.select_option("#f-sort", "region")
    page.click("#catalogue-filters button[type=submit]")
    page.wait_for_url("**/catalogue/?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"year": ["2024"], "sort": ["region"]}
    page.wait_for_function("document.querySelectorAll('#catalogue-results tbody tr').length == 2")
    found = rows(page)
    assert [r[3] for r in found] == ["2024", "2024"]
    assert [r[2] for r in found] == ["衡阳县演陂镇", "蓝山县祠堂圩镇"]  # 衡阳市 (430400) before 永州市 (431100)
    assert "2024年" in page.locator("#catalogue-status").inner_text()
    # the same URL opened afresh shows the same view: it can be shared
    shared = page.url
    page.goto(site_url)
    page.goto(shared)
    page.wait_for_function("document.querySelectorAll('#catalogue-results tbody tr').length == 2")
    assert rows(page) == found and page.locator("#f-sort").input_value() == "region"
    # a city and a quality flag
    page.goto(site_url + "catalogue/?province=430000&city=431100")
    page.wait_for_function("document.querySelectorAll('#catalogue-results tbody tr').length == 1")
    assert rows(page)[0][2] == "蓝山县祠堂圩镇"
    page.goto(site_url + "catalogue/?province=440000&flag=late")
    page.wait_for_function("document.getElementById('catalogue-status').textContent.includes('没有符合条件')")
    # the pre-rendered orders, linked for readers without JavaScript
    page.goto(site_url + PAGE_TYPES["catalogue"])
    page.locator(".facets a", has_text="年度").first.click()
    page.wait_for_url("**/catalogue/sort-year/")
    years = [r[3] for r in rows(page)]
    assert years == sorted(years, reverse=True)


def test_catalogue_without_javascript_offers_the_prerendered_views(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    try:
        tab.goto(site_url + PAGE_TYPES["catalogue"])
        assert not tab.locator("#catalogue-filters").is_visible()  # the filter form needs JavaScript
        tab.locator(".facets a", has_text="2024年").click()
        tab.wait_for_url("**/catalogue/year-2024/")
        assert len(rows(tab)) == 2
        tab.locator(".facets a", has_text="广东省").click()
        tab.wait_for_url("**/catalogue/province-440000/")
        assert [r[2] for r in rows(tab)] == ["潮安区金石镇"]
    finally:
        context.close()


def test_phone_layout_of_the_tree_catalogue_and_coverage_pages(browser, site_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    phone = context.new_page()
    try:
        for name in ("places", "place-province", "place-county", "place", "catalogue", "catalogue-view",
                     "year-region", "compliance", "compliance-year", "compliance-region"):
            phone.goto(site_url + PAGE_TYPES[name])
            width = phone.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            assert width <= 390, (name, width)
            assert phone.evaluate(BROKEN_NUMBERS) == [], name
        phone.goto(site_url + "catalogue/?year=2024&sort=region")
        phone.wait_for_function("document.querySelectorAll('#catalogue-results tbody tr').length == 2")
        assert phone.evaluate(BROKEN_NUMBERS) == []
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # form controls at the page's type size (a phone zooms into smaller ones)
        sizes = phone.evaluate("""() => [...document.querySelectorAll('input, select, button')]
            .filter(e => e.offsetParent).map(e => parseFloat(getComputedStyle(e).fontSize))""")
        base = phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert sizes and min(sizes) >= base >= 16
        # a coverage grid on a phone: one block per unit, each year's cell on one line
        phone.goto(site_url + PAGE_TYPES["place-county"])
        cells = phone.evaluate("""() => [...document.querySelectorAll('table.coverage td')].map(
            td => Math.round(td.getBoundingClientRect().height))""")
        line = phone.evaluate("parseFloat(getComputedStyle(document.querySelector('table.coverage td')).lineHeight)")
        assert cells and max(cells) <= line * 1.5
        # the check is not vacuous: a cell that may break anywhere, squeezed, is caught
        phone.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
            '<table style="width:3em"><tr><td style="overflow-wrap:anywhere">2027-04-21</td></tr></table>')""")
        assert phone.evaluate(BROKEN_NUMBERS) == ["2027-04-21"]
    finally:
        context.close()


def test_report_text_is_35_to_40_characters_a_line_on_a_desktop(page, site_url):
    page.goto(site_url + PAGE_TYPES["report"])
    per_line = page.evaluate("""() => { const p = document.querySelector('.report-body p');
        return p.getBoundingClientRect().width / parseFloat(getComputedStyle(p).fontSize); }""")
    assert 35 <= per_line <= 40, per_line
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("static/favicon.svg")
