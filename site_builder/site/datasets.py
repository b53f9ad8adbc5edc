"""Data downloads: every report's metadata, flags and URLs as reports.json and reports.csv,
and robots.txt. Pure functions of the Site; no wall-clock time, rows sorted by id.

The CSV is meant to be opened in a spreadsheet: UTF-8 with a BOM (so Excel reads the
Chinese), CRLF rows, and every cell that a spreadsheet could run as a formula (starting
with = + - @, a tab or a carriage return) prefixed with an apostrophe.
"""
from __future__ import annotations

import csv
import io
import json

from . import compliance, urls
from ..config import SiteConfig
from ..model import FLAGS, Entry, Site

FIELDS = (
    "id", "title", "title_derived", "place", "level", "region", "region_chain", "division_code", "year",
    "published", "written",
    "signed", "on_time", "index_no", "doc_no", "topic", "publisher", "issuer", "issuer_derived", "source",
    "parts", "flags", "keywords", "similar", "url", "json_url", "original_url", "original_file_url",
    "file", "format", "encoding", "script",
)
# What each field means, shown on the data page.
FIELD_NOTES = {
    "id": "报告编号（网址的一部分，不随标题变化）",
    "title": "标题", "title_derived": "标题是否据地区与年度生成", "place": "地区或部门",
    "level": "层级", "region": "所属上级地区",
    "region_chain": "在本站地区树中的位置：从省级到本报告所属地区或部门的名称（区划表未列的地区接在其最近的已知上级之下）",
    "division_code": "所属行政区划代码（民政部区划代码，到乡级；部门为其所在县、市的代码；无法识别时为空）",
    "year": "报告年度", "published": "发布日期",
    "written": "成文日期", "signed": "落款日期", "on_time": "是否于次年4月1日前公开（空：发布日期不详）",
    "index_no": "索引号", "doc_no": "文号", "topic": "主题分类（原网页元数据所载）", "publisher": "发布机构（原网页元数据所载）",
    "issuer": "署名机关（正文所列；未列明时据地区推定）", "issuer_derived": "署名机关是否据地区推定（原文未列明）",
    "source": "信息来源",
    "parts": "包含的法定内容（1–5）", "flags": "质量提示", "keywords": "关键词",
    "similar": "相似报告及相同句子占比", "url": "报告页网址", "json_url": "单篇数据（JSON）网址",
    "original_url": "原文页网址", "original_file_url": "原始文件网址", "file": "原始文件名",
    "format": "原始格式", "encoding": "原始编码", "script": "原文字体（simplified/traditional）",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def absolute(config: SiteConfig, url: str) -> str:
    """A site URL as published: with base_url when one is set, else from the site root."""
    return config.base_url.rstrip("/") + config.root + url


def chains(site: Site) -> dict[str, tuple[list[str], str | None]]:
    """Node key -> the names from the province down to the node (not the 未识别地区 list)
    and the code of the most local division the node is, or is in."""
    places = {p.key: p for p in site.places}
    out: dict[str, tuple[list[str], str | None]] = {}
    for place in site.places:
        names, code = [], None
        at: str | None = place.key
        while at is not None:
            node = places[at]
            if node.kind != "list":
                names.append(node.name)
            if code is None and node.kind == "division":
                code = node.code
            at = node.parent
        out[place.key] = (names[::-1], code)
    return out


def record(entry: Entry, config: SiteConfig, chain: tuple[list[str], str | None] = ([], None)) -> dict:
    r = entry.report
    return {
        "id": entry.id,
        "title": r.title,
        "title_derived": r.title_derived,
        "place": r.place,
        "level": r.level,
        "region": r.region,
        "region_chain": chain[0],
        "division_code": chain[1],
        "year": r.year,
        "published": r.published,
        "written": r.written,
        "signed": r.signed,
        "on_time": compliance.on_time(r),
        "index_no": r.index_no,
        "doc_no": r.doc_no,
        "topic": r.topic,
        "publisher": r.publisher,
        "issuer": list(r.issuer),
        "issuer_derived": r.issuer_derived,
        "source": r.source_name,
        "parts": list(r.parts),
        "flags": list(r.flags),
        "keywords": list(r.keywords),
        "similar": [{"id": other, "share": share} for other, share in entry.similar],
        "url": absolute(config, urls.report(entry.id)),
        "json_url": absolute(config, urls.report_json(entry.id)),
        "original_url": absolute(config, urls.original(entry.id)),
        "original_file_url": absolute(config, urls.original_raw(entry.id, r.format)),
        "file": r.source,
        "format": r.format,
        "encoding": r.encoding,
        "script": r.script,
    }


def reports_json(site: Site, config: SiteConfig) -> bytes:
    """The archive as one JSON document, one report per line (compact lines, so that the
    file stays readable and the C encoder writes it)."""
    head = {"site": config.site_name, "count": len(site.entries), "fields": FIELD_NOTES, "flags": FLAGS}
    text = json.dumps(head, ensure_ascii=False, sort_keys=True, indent=1)
    where = chains(site)
    lines = [json_line(e, config, where[e.place_key]) for e in site.entries]
    return (text[:-2] + ',\n "reports": [\n').encode("utf-8") + b",\n".join(lines) + b"\n ]\n}\n"


def csv_cell(value) -> str:
    """One CSV cell as text, never a formula: lists joined with "；", booleans as 是/否."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, list):
        text = "；".join(
            f"{v['id']}（{v['share'] * 100:.0f}%）" if isinstance(v, dict) else str(v) for v in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def reports_csv(site: Site, config: SiteConfig) -> bytes:
    """The archive as CSV, one line per report."""
    where = chains(site)
    return b"".join([b"\xef\xbb\xbf", _csv_line(FIELDS).encode("utf-8"),
                     *(csv_line(e, config, where[e.place_key]) for e in site.entries)])


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def json_line(entry: Entry, config: SiteConfig, chain: tuple[list[str], str | None] = ([], None)) -> bytes:
    """An entry's line in reports.json, in UTF-8."""
    return json.dumps(record(entry, config, chain), ensure_ascii=False, sort_keys=True).encode("utf-8")


def csv_line(entry: Entry, config: SiteConfig, chain: tuple[list[str], str | None] = ([], None)) -> bytes:
    """An entry's line in reports.csv, in UTF-8."""
    data = record(entry, config, chain)
    return _csv_line([csv_cell(data[name]) for name in FIELDS]).encode("utf-8")



def robots_txt(config: SiteConfig) -> bytes:
    lines = ["User-agent: *", "Allow: /"]
    if config.base_url:  # the Sitemap line must be an absolute URL
        lines.append(f"Sitemap: {absolute(config, urls.sitemap())}")
    return ("\n".join(lines) + "\n").encode("ascii", "backslashreplace")
