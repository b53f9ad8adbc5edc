"""Where the theme's files are: the default theme installed with the package
(site_builder.templates, the repository's templates/ folder), its assets in static/."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TEMPLATES_DIR = Path(str(files("site_builder.templates")))
STATIC_DIR = TEMPLATES_DIR / "static"
