"""Saved HTML pages: the article body as text lines, plus the page's machine-readable fields."""
from __future__ import annotations


def extract(text: str) -> tuple[list[tuple[int, str]], dict[str, str]]:
    """(lines of the article as (source line, text), fields from <meta> tags)."""
    return list(enumerate(text.split("\n"), 1)), {}
