import pytest

from site_builder.site import urls


@pytest.mark.parametrize("text, slug", [
    ("演陂镇", "yanbeizhen"),
    ("金石镇", "jinshizhen"),
    ("yanpi-zhen-2024", "yanpi-zhen-2024"),
    ("鱼泉镇 2023", "yuquanzhen-2023"),
    ("../../etc/passwd", "etc-passwd"),
])
def test_slugify_is_ascii_pinyin(text, slug):
    assert urls.slugify(text) == slug


@pytest.mark.parametrize("text", ["", "CON", "\x00", "……", "index"])
def test_slugify_never_empty_or_reserved(text):
    slug = urls.slugify(text)
    assert slug and slug.isascii() and slug not in {"con", "index", ""}
    assert slug == urls.slugify(text)  # stable


def test_report_id_comes_from_path_not_title():
    assert urls.report_id("guangdong/演陂镇-2024.txt", None) == "guangdong-yanbeizhen-2024"
    assert urls.report_id("a.txt", "../../evil") == "evil"


def test_page_urls_and_files():
    assert urls.file_path(urls.report("x")) == "reports/x/index.html"
    assert urls.file_path(urls.home()) == "index.html"
    assert urls.root_prefix(urls.report("x")) == "../../"
    assert urls.root_prefix(urls.original("x")) == "../../"
    assert urls.root_prefix(urls.feed()) == ""
