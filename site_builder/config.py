"""Site configuration: an optional TOML file where every setting has a default."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from .model import Problem

CONFIG_NAME = "site.toml"
MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class SiteConfig:
    site_name: str = "法治政府建设年度报告公开档案"
    # Path the site is served under: "/" at a domain root, "/archive/" in a subfolder.
    base_path: str = "/"
    # Absolute origin for the sitemap and feed, e.g. "https://example.org"; empty = relative.
    base_url: str = ""
    per_page: int = 100  # rows per page of a listing (the catalogue, a year, …); at most 200
    newest: int = 10  # reports listed on the home page
    description: str = "汇集乡镇、街道、县区及部门法治政府建设年度报告，提供全文检索与数据下载。"
    # A folder of templates (and static/ files) that replace the default theme's of the same
    # name; relative to the config file's folder. Empty: the default theme only.
    theme: str = ""

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
    where = str(path)
    try:
        data = path.read_bytes()
        if len(data) > MAX_CONFIG_BYTES:
            return SiteConfig(), (Problem(where, 1, f"设置文件超过 {MAX_CONFIG_BYTES} 字节，未读取"
                                                    f"（the config file is over {MAX_CONFIG_BYTES} bytes）"),)
        text = data.decode("utf-8-sig")
        values = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return SiteConfig(), (Problem(where, 1, f"无法读取设置文件：{exc}；请另存为 UTF-8（cannot read config）"),)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", 1) or 1
        return SiteConfig(), (Problem(where, line, f"设置文件不是有效的 TOML：{exc}（invalid TOML）"),)
    except RecursionError:
        return SiteConfig(), (Problem(where, 1, "设置文件嵌套过深；设置应写成 key = value（the config is nested too deeply）"),)
    lines = {line.split("=", 1)[0].strip(): n for n, line in reversed(list(enumerate(text.splitlines(), 1)))
             if "=" in line}
    known = {f.name: f for f in fields(SiteConfig)}
    settings, problems = {}, []
    for key, value in sorted(values.items()):
        line = lines.get(key, 1)
        if key not in known:
            problems.append(Problem(where, line, f"未知设置 {key!r}，已忽略；可用设置：{'、'.join(known)}"
                                                 f"（unknown setting {key!r}）", "warning"))
        elif type(value) is not type(known[key].default):
            kind = "整数" if isinstance(known[key].default, int) else "文字"
            problems.append(Problem(where, line, f"设置 {key!r} 应为{kind}（setting {key!r} must be {known[key].type}）"))
        else:
            settings[key] = value
    if settings.get("theme"):
        settings["theme"] = str((path.parent / settings["theme"]).absolute())
        if not Path(settings["theme"]).is_dir():
            problems.append(Problem(where, lines.get("theme", 1), f"主题文件夹 {settings['theme']} 不存在"
                                                                  f"（the theme folder does not exist）"))
            del settings["theme"]
    return SiteConfig(**settings), tuple(problems)
