"""Shared by the browser tests: the sample archive built once, served by one http.server
thread on 127.0.0.1, and a headless Debian Chromium driven by Playwright per module.

Outside CI a missing tool skips these tests; with CI set they must run."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from conftest import SAMPLES
from site_builder.build import build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]

# One page of each type, as URLs relative to the site root.
PAGE_TYPES = {
    "home": "",
    "catalogue": "catalogue/",
    "places": "places/",
    "place-province": "places/430000/",
    "place-county": "places/430923/",  # 安化县: its towns' coverage grid, and 城南区 below it
    "place-unknown": "places/430923/chengnanqu/",  # a place the gazetteer does not list
    "place": "places/430421105/",  # 演陂镇
    "years": "years/",
    "year": "years/2024/",
    "year-region": "years/2024/430000/",
    "catalogue-view": "catalogue/year-2024/",
    "report": "reports/yanpi-zhen-2024/",
    "original": "reports/yanpi-zhen-2024/original.html",
    "compliance": "compliance/",
    "compliance-year": "compliance/2024/",
    "compliance-region": "compliance/2024/430000/",
    "data": "data/",
    "not-found": "404.html",
    "search": "search/",
}


@pytest.fixture(scope="session")
def page_types(built_site: Path) -> dict[str, str]:
    """PAGE_TYPES, each checked to be in the build."""
    missing = [name for name, url in PAGE_TYPES.items()
               if not (built_site / (url + "index.html" if url == "" or url.endswith("/") else url)).exists()]
    assert not missing, missing
    return dict(PAGE_TYPES)


def require(tool_ok: bool, what: str) -> None:
    """Skip when a tool is missing, except in CI, where that is a failure."""
    if tool_ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} not installed")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "output"
    result = build(SAMPLES, out)
    assert result.ok, [str(p) for p in result.problems]
    return out


@pytest.fixture(scope="session")
def site_url(built_site: Path):
    handler = functools.partial(_Quiet, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API allows one running instance at a time, and
    other test modules start their own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require(sync_playwright is not None, "playwright")
    require(os.path.exists(CHROMIUM) or bool(shutil.which("chromium")), "chromium")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM)
                                          else shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()
