"""The static search of a built sample archive, in Chromium: a result opens its report
with the match marked and scrolled to; the report page marks in either script and
through spaces; the build publishes the index, facets included."""
from __future__ import annotations

from urllib.parse import quote


def test_a_result_opens_its_report_with_the_match_marked_and_in_view(page, site_url):
    page.set_viewport_size({"width": 800, "height": 500})
    page.goto(site_url + "search/?q=" + quote("行政复议"))
    page.wait_for_selector("body[data-search-done]")
    link = page.query_selector("#search-results li a")
    assert "hl=" in link.get_attribute("href")
    link.click()
    page.wait_for_selector("html[data-search-marks]")
    marks = page.query_selector_all(".report-body mark.search-hit")
    assert marks and all(m.inner_text() == "行政复议" for m in marks)
    first = marks[0].bounding_box()
    assert 0 <= first["y"] <= 500  # scrolled to


def test_the_report_page_marks_through_spaces_and_case(page, site_url):
    page.goto(site_url + "reports/yanpi-zhen-2024/?hl=" + quote("法治政府建设 xyz不存在"))
    page.wait_for_selector("html[data-search-marks]")
    marks = page.eval_on_selector_all("mark.search-hit", "ms => ms.map(m => m.textContent)")
    assert marks and set(marks) == {"法治政府建设"}
    assert page.eval_on_selector("h1", "h => h.querySelectorAll('mark').length") >= 1  # the title too
    page.goto(site_url + "reports/yanpi-zhen-2024/")
    page.wait_for_load_state()
    assert page.query_selector("mark.search-hit") is None


def test_the_published_search_shows_facets_and_filters_by_part(page, site_url):
    page.goto(site_url + "search/?q=" + quote("法治政府建设"))
    page.wait_for_selector("body[data-search-done]")
    facets = page.inner_text("#search-facets")
    assert "年度" in facets and "层级" in facets
    total = len(page.query_selector_all("#search-results li"))
    page.select_option("#search-part", "2")
    page.press("#search-q", "Enter")
    page.wait_for_function("document.body.getAttribute('data-search-done') !== '1'")
    assert len(page.query_selector_all("#search-results li")) <= total
    assert "part=2" in page.url
