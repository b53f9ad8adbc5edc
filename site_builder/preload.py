"""Imported once by the worker pool's server process (see workers.py) before it forks the
workers: the parser's modules and the tables parsing and indexing read (jieba's dictionary
and IDF table, OpenCC's, the gazetteer), so that every worker starts with them loaded."""
from __future__ import annotations

from .content import parse  # noqa: F401 - loaded for the workers
from .content.clean import warm_up as _warm_cleaner
from .gazetteer import gazetteer
from .text.words import warm_up as _warm_words

_warm_cleaner()
_warm_words()
gazetteer()
