"""What both search indexes (the Whoosh index and the static shards) take from a site,
without loading either: each entry's fingerprint and its full report.

A build imports this, not Whoosh: Whoosh is loaded where the index is written."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from ..text.stream import TOKENIZER_VERSION
from ..model import Entry, Report, Summary

# Bump when the Whoosh schema or what goes into a document changes: everything is reindexed.
SCHEMA_VERSION = "6"

ReportOf = Callable[[str], Report]  # Summary.key -> the full Report (from the parse cache)


def full_report(report: Report | Summary | str, report_of: ReportOf | None) -> Report:
    """The full Report behind an entry's report: a Summary or its parse-cache key is read
    through `report_of`; entries built in tests may hold the Report itself."""
    if isinstance(report, Report):
        return report
    if report_of is None:
        raise ValueError("a Site of summaries needs report_of to read the full reports")
    return report_of(report if isinstance(report, str) else report.key)


def fingerprint(entry: Entry) -> str:
    """Changes whenever anything indexed about the entry may have changed. A Summary's
    parse-cache key covers the file, its sidecar and the parser version, hence every
    field of it; a bare Report is hashed whole."""
    r = entry.report
    key = getattr(r, "key", None)
    if key is not None:  # one short hash: computed for every report on every build
        return hashlib.sha256(f"{SCHEMA_VERSION}\0{TOKENIZER_VERSION}\0{entry.id}\0{key}".encode()
                              ).hexdigest()
    content = hashlib.sha256(json.dumps(
        [r.sha256, r.text, [[s.heading, s.number, s.level, s.part, s.text] for s in r.sections],
         [[c.kind, c.before, c.after] for c in r.changes if c.kind == "t2s"], r.script],
        ensure_ascii=False).encode("utf-8")).hexdigest()
    data = [SCHEMA_VERSION, TOKENIZER_VERSION, entry.id, content, r.title,
            r.place, r.level, r.year, r.published, r.region]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()

