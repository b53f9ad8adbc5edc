"""Where the theme's files are: the default theme installed with the package
(site_builder.templates, the repository's templates/ folder, its assets in static/), and
the site's own theme folder (config.theme), whose files replace the default's of the same
name."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TEMPLATES_DIR = Path(str(files("site_builder.templates")))
STATIC_DIR = TEMPLATES_DIR / "static"  # the default theme's assets


def folders(theme: str = "") -> list[Path]:
    """The theme folders, the one whose files win first."""
    return [Path(theme), TEMPLATES_DIR] if theme else [TEMPLATES_DIR]


def theme_files(theme: str = "") -> dict[str, Path]:
    """Every file of the theme by its path in the theme (templates and static/ assets)."""
    found: dict[str, Path] = {}
    for folder in reversed(folders(theme)):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".py":
                found[path.relative_to(folder).as_posix()] = path
    return dict(sorted(found.items()))
