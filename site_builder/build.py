"""One build, top to bottom:

    config -> load + parse (cached by content hash) -> assemble -> render -> write
    -> search indexes (from the model, not from the HTML)

A build with any error writes nothing: output/ stays as it was and every problem is
reported. Warnings are published with the site, and fail the build only with strict.
"""
from __future__ import annotations

import gc
import shutil
import time
from contextlib import contextmanager, nullcontext
from functools import partial
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .content import stage as parse_cache
from .site import similarity
from .site.assemble import assemble_site
from .config import SiteConfig, load_config
from .content.read import find_report_paths
from .model import Problem, Site
from .search.whoosh_update import updating_index
from .search.static_shards import SEARCH_FILES, build_bundle, ready_static_search_pages, static_search_pages_later
from .render.pages import Sources, make_environment, render_site
from .render.memo import RenderMemo
from .state import GC_THRESHOLDS, kept_to_the_end, state_dir
from .publish.standby import read_ahead
from .publish.write import UnsafePath, WriteStats, write_site

SEARCH_WORK = "static-search"  # the state dir's folder of built static search shards
RENDER_MEMO = "render-memo"  # the state dir's folder of render_memo.RenderMemo
# From this many reports a command-line build reads its state ahead while a worker process
# parses what changed (see _read_ahead); below, there is too little to read to pay for it.
READ_AHEAD_REPORTS = 500
# What earlier versions kept in the state dir and nothing reads any more.
LEGACY_STATE = ("pagefind", "manifest.json", "standby.json", "parse/stat-memo.pickle", "parse/memo.pickle",
                "render-memo.pickle")


@dataclass(frozen=True, slots=True)
class BuildResult:
    problems: tuple[Problem, ...]
    ok: bool  # False: nothing was written, output/ is as it was
    reports: int  # reports published
    written: int  # output files whose bytes changed
    rendered: int = 0  # output files that had to be produced (the rest were unchanged inputs)
    timings: tuple[tuple[str, float], ...] = ()  # seconds per stage
    site: Site | None = None
    search_stale: bool = False  # the static search still shows an earlier build
    changed: tuple[str, ...] = ()  # output paths written or removed, sorted
    # What the build read of its state dir (memos, manifests), returned with the result:
    # freeing it takes 0.04 s at 10,000 reports, which a caller that ends its process next
    # (the command line) need not spend.
    held: "Warm | None" = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Warm:
    """What a process that builds again and again (the preview server) keeps in memory
    between builds: the parse memo, the render memo (read from the state dir by the first
    build and stored after it only), the manifests it read or wrote, the Whoosh segments'
    id columns, the compiled templates. Each entry is keyed by all its value is made from
    (a manifest by its file's identity; a template is reloaded when its file changes), so
    a failed or interrupted build leaves nothing stale. A command-line build makes one for
    itself, to read ahead into (see _read_ahead)."""

    parse: dict = field(default_factory=dict)
    render: RenderMemo = field(default_factory=RenderMemo)
    write: dict = field(default_factory=dict)
    search: dict = field(default_factory=dict)  # the Whoosh segments' id columns
    templates: jinja2.Environment = field(default_factory=make_environment)


def search_index_dir(output_dir: Path) -> Path:
    """Where a build keeps the Whoosh index (in its state folder: not published)."""
    return state_dir(output_dir) / "whoosh"


def build(content_dir: Path, output_dir: Path, config_path: Path | None = None,
          strict: bool = False, search_now: bool = True, warm: Warm | None = None,
          parser: "parse_cache.Parser | None" = None) -> BuildResult:
    """Build the site. With `search_now` False (the preview server), the static search is
    not rebuilt: the result says whether it is stale (see refresh_static_search). `warm`
    is kept by a caller that builds again in the same process. `parser`: the parser
    process the caller started (parse_cache.early_parser with this state dir's "parse")
    before it imported this module; else a build without `warm` starts one."""
    with _fewer_collections():
        return _build(Path(content_dir), Path(output_dir), config_path, strict, search_now, warm, parser)


def _build(content_dir: Path, output_dir: Path, config_path: Path | None, strict: bool, search_now: bool,
           warm: Warm | None, given: "parse_cache.Parser | None") -> BuildResult:
    clock = _Clock()
    config, problems = load_config(config_path, content_dir)
    state = state_dir(output_dir)

    held = warm if warm is not None else Warm()  # what a server keeps, or this build reads ahead
    starting = parse_cache.early_parser(state / "parse") if warm is None and given is None else nullcontext(given)
    with starting as parser:
        rels, found_problems, sidecars = find_report_paths(content_dir)
        ahead = partial(_read_ahead, held, state) if warm is None and len(rels) >= READ_AHEAD_REPORTS else None
        summaries, parse_problems = parse_cache.parse_files(content_dir, rels, state / "parse",
                                                            warm.parse if warm else None, meanwhile=ahead,
                                                            keep=True, sidecars=sidecars, parser=parser)
    clock.lap("load+parse")
    site, assemble_problems = assemble_site(summaries)
    site = similarity.with_similar(site)
    gc.freeze()  # the site lives as long as the build: no collection walks it (see _fewer_collections)
    clock.lap("assemble")
    problems = _sorted(problems + found_problems + parse_problems + assemble_problems)

    if not _passes(problems, strict):
        return BuildResult(problems, False, len(summaries), 0, 0, clock.laps)
    _drop_legacy_state(state)
    try:
        stats, stale = _publish(site, config, content_dir, output_dir, state, clock, search_now, held,
                                again=warm is not None)
    except UnsafePath as exc:  # two pages on one path, or a path leaving output/: nothing written
        problem = Problem(str(content_dir), 1, f"refused to write the site: {exc}")
        return BuildResult(problems + (problem,), False, len(summaries), 0, 0, clock.laps)
    return BuildResult(problems, True, len(summaries), stats.written, stats.rendered, clock.laps, site,
                       stale, stats.changed, held if warm is None else None)


def _publish(site: Site, config: SiteConfig, content_dir: Path, output_dir: Path, state: Path,
             clock: "_Clock", search_now: bool, held: Warm, again: bool) -> tuple[WriteStats, bool]:
    """Render and write the site, the search indexes built beside it. `held`: what was read
    ahead, or what a process that builds `again` keeps (it does not look for files removed
    from output/ by hand while nothing changed, and stores its render memo once)."""
    env, memo = held.templates, held.render
    memo.load(state / RENDER_MEMO)
    sources = Sources(
        report=partial(parse_cache.load_report, state / "parse"),  # pickles: indexing workers use it
        original=lambda rel: (content_dir / rel).read_bytes(),
    )
    # While the site renders, worker processes build the changed static search shards and
    # the Whoosh index; the index is committed only if the site was written.
    with (_static_search_files(site, state, sources.report, search_now) as (files, keep),
          updating_index(site, search_index_dir(output_dir), sources.report,
                         held.search if again else None) as commit):
        clock.lap("static search")
        stats = write_site(chain(render_site(site, config, env, sources, memo), files),
                           output_dir, state, keep, held.write, look=not again)
        commit()  # the site is written: its index follows, committed while the memo is stored
        if not again or not memo.saved:  # a process that builds again stores its memo
            memo.save(state / RENDER_MEMO)  # after its first build only
        clock.lap("render+write")
    clock.lap("whoosh (rest)")
    return stats, bool(keep)


def _read_ahead(held: Warm, state: Path) -> None:
    """Read what publishing will need while worker processes parse the reports that
    changed (on a rebuild after an edit, 0.4 s it would otherwise wait for): the render
    memo, the manifests, the templates compiled."""
    with kept_to_the_end():
        held.render.load(state / RENDER_MEMO)
        read_ahead(state, held.write)
    for name in held.templates.list_templates(extensions=("html", "xml")):
        held.templates.get_template(name)


@contextmanager
def _static_search_files(site: Site, state: Path, report_of, now: bool):
    """(files, keep): the static search files for `site`, built now (in worker processes
    while the site renders: `files` waits for them); or, when not `now`, the bundle if it
    is ready for this site, else none and the prefixes of the current output's search
    files, to be kept as they are (stale)."""
    if now:
        with static_search_pages_later(site, state / SEARCH_WORK, report_of) as files:
            yield files, ()
        return
    with ready_static_search_pages(site, state / SEARCH_WORK) as files:
        yield (files, ()) if files is not None else ((), SEARCH_FILES)


def refresh_static_search(site: Site, output_dir: Path) -> None:
    """Rebuild the static search shards for `site` in the state dir (the preview server runs
    this in the background after a build that left the static search stale); the next
    build publishes it."""
    state = state_dir(output_dir)
    build_bundle(site, state / SEARCH_WORK, partial(parse_cache.load_report, state / "parse"), background=True)


@contextmanager
def _fewer_collections():
    """A build makes millions of objects that live as long as it does (memos, manifests,
    summaries) and few reference cycles; with CPython's default thresholds the collector
    walks the growing heap again and again while they load (0.5 s of a one-report rebuild
    at 10,000 reports). Collect less often during the build; parse workers forked meanwhile
    inherit it. What the build reads of its state is frozen as it is read (see
    state.kept_to_the_end), the site once assembled, and both are unfrozen here."""
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        if not frozen:  # what state.kept_to_the_end froze (a caller's own frozen objects stay)
            gc.unfreeze()
        gc.set_threshold(*before)


def _drop_legacy_state(state: Path) -> None:
    for rel in LEGACY_STATE:
        path = state / rel
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _passes(problems: tuple[Problem, ...], strict: bool) -> bool:
    failing = {"error", "warning"} if strict else {"error"}
    return not any(p.severity in failing for p in problems)


def _sorted(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.path, p.line, p.severity, p.message)))


class _Clock:
    def __init__(self):
        self.laps: tuple[tuple[str, float], ...] = ()
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps += ((name, round(now - self._last, 4)),)
        self._last = now
