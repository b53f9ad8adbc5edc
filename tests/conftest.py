"""Shared fixtures: small archives written inline, built for real."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "content"

# The browser fixtures (one built site, one loopback server, one Chromium for the session).
pytest_plugins = ("browser_site",)


def report_text(place: str, year: int, extra: str = "") -> str:
    """A small, clean report in the usual shape."""
    return (
        f"{place}{year}年法治政府建设年度报告\n"
        f"现将我镇{year}年法治政府建设工作情况报告如下：\n"
        f"一、{year}年推进法治政府建设的主要举措和成效\n"
        f"（一）加强组织领导\n{place}党委、政府高度重视法治政府建设工作，坚持依法行政。{extra}\n"
        f"（二）严格规范公正文明执法\n全面落实行政执法三项制度，规范执法行为。\n"
        f"二、存在的不足和原因\n法治宣传教育的针对性还不够强。\n"
        f"三、党政主要负责人履行推进法治建设第一责任人职责情况\n主要负责人带头学法，亲自部署。\n"
        f"四、{year + 1}年工作安排\n继续深化放管服改革，推进一网通办。\n"
    )


def write_archive(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    return root


@pytest.fixture
def small_archive(tmp_path: Path) -> Path:
    return write_archive(tmp_path / "content", {
        "yanpi-2023.txt": report_text("演陂镇", 2023),
        "yanpi-2024.txt": report_text("演陂镇", 2024),
        "hebei/qingshan-2024.txt": report_text("青山乡", 2024),
    })


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


HREF = re.compile(r'(?:href|src)="([^"#?]*)[^"]*"')


def internal_links(html: str) -> list[str]:
    return [h for h in HREF.findall(html) if h and not re.match(r"^[a-z][a-z0-9+.-]*:", h)]
