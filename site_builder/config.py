"""Site configuration: an optional TOML file where every setting has a default."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .model import Problem

CONFIG_NAME = "site.toml"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    site_name: str = "法治政府建设年度报告公开档案"
    # Path the site is served under: "/" at a domain root, "/archive/" in a subfolder.
    base_path: str = "/"
    # Absolute origin for the sitemap and feed, e.g. "https://example.org"; empty = relative.
    base_url: str = ""
    per_page: int = 50  # rows per catalogue page
    newest: int = 10  # reports listed on the home page
    description: str = "汇集乡镇、街道、县区及部门法治政府建设年度报告，提供全文检索与数据下载。"

    @property
    def root(self) -> str:
        """base_path normalised to start and end with "/"."""
        return "/" + self.base_path.strip("/") + "/" if self.base_path.strip("/") else "/"


def load_config(path: Path | None, content_dir: Path) -> tuple[SiteConfig, tuple[Problem, ...]]:
    """Read the config file (default: <content>/site.toml when it exists)."""
    if path is None:
        path = content_dir / CONFIG_NAME
        if not path.exists():
            return SiteConfig(), ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return SiteConfig(), (Problem(str(path), 1, f"cannot read config: {exc}"),)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 1) or 1
        return SiteConfig(), (Problem(str(path), line, f"invalid TOML: {exc}"),)
    known = {f.name: f for f in fields(SiteConfig)}
    values, problems = {}, []
    for key, value in sorted(data.items()):
        if key not in known:
            problems.append(Problem(str(path), 1, f"unknown setting {key!r}", "warning"))
        elif not isinstance(value, type(known[key].default)):
            problems.append(Problem(str(path), 1, f"setting {key!r} must be {known[key].type}"))
        else:
            values[key] = value
    return SiteConfig(**values), tuple(problems)
