"""Time similar-report search and the compliance figures on synthetic summaries.

    python bench/similarity_scale.py --count 200000

Each synthetic report has 120 sentences of its own, 20 stock phrases drawn from 200, and
the opening of one of 2,000 circulating templates; places and years cycle. Prints seconds
per step and the peak memory of the process (the summaries included)."""
from __future__ import annotations

import argparse
import resource
import time
from dataclasses import fields

import numpy as np

from site_builder.site import compliance

from site_builder.site import similarity
from site_builder.site.assemble import assemble_site
from site_builder.model import Summary


def summaries(count: int, seed: int = 1) -> tuple[Summary, ...]:
    rng = np.random.default_rng(seed)
    stock = rng.integers(0, 2**63, 200, dtype=np.uint64)
    templates = rng.integers(0, 2**63, (2000, 40), dtype=np.uint64)
    base = {f.name: None for f in fields(Summary)}
    base.update(format="txt", encoding="utf-8", sha256="", script="simplified", title_derived=False,
                issuer=(), issuer_derived=False, publisher=None, flags=(), parts=(1, 2, 3, 4), lead="", keywords=())
    out = []
    for i in range(count):
        hashes = np.concatenate([rng.integers(0, 2**63, 120, dtype=np.uint64), stock[rng.integers(0, 200, 20)],
                                 templates[rng.integers(0, 2000)][: rng.integers(0, 40)]])
        values = dict(base, key=str(i), source=f"p{i % 40000}/r{i}.txt", title=f"t{i}", place=f"镇{i % 40000}",
                      year=2018 + i % 8, published=f"{2019 + i % 8}-03-{1 + i % 28:02d}",
                      sentences=np.unique(hashes).astype("<u8").tobytes())
        out.append(Summary(**values))
    return tuple(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=200_000)
    args = ap.parse_args()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        print(f"{name:12} {now - clock:7.1f} s")
        clock = now

    items = summaries(args.count)
    lap("summaries")
    site, _ = assemble_site(items)
    lap("assemble")
    site = similarity.with_similar(site)
    lap("similarity")
    compliance.year_stats(site), compliance.rows_by_year(site)
    lap("compliance")
    listed = sum(1 for e in site.entries if e.similar)
    print(f"{listed} of {args.count} reports list similar ones; "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
