"""One build, top to bottom, over one build context (the folders, the config, the state,
the worker pool):

    read (list the content) -> parse (cached by content hash, in the pool) -> assemble
    (ids, places, years, similar reports) -> check -> render -> publish (atomic); the search
    indexes are made from the model beside it (the Whoosh index committed once the site is
    published).

A build with any error publishes nothing: output/ stays as it was and every problem is
reported. With `keep_going`, the files in error are left out and the rest is published (the
result still fails). Warnings are published with the site, and fail the build only when
`strict`.
"""
from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from .config import SiteConfig, load_config
from .content.read import find_report_paths
from .content.stage import parse_reports, read_report
from .model import Problem, Site
from .publish.write import PublishStats, UnsafePath, publish
from .render.pages import Sources, make_environment, render_site
from .search.static_shards import static_search_later
from .search.whoosh_update import updating_index
from .site import similarity, urls
from .site.assemble import assemble_site
from .state import COMPILED_TEMPLATES, STATIC_SEARCH, WHOOSH, StateError, Store, private_folder, state_dir
from .workers import Pool

SHRINK_LIMIT = 0.5  # a build that would publish fewer than this share of the published reports is refused


@dataclass(frozen=True, slots=True)
class BuildResult:
    problems: tuple[Problem, ...]
    ok: bool  # False: the build failed (with keep_going, what could be was still published)
    reports: int  # reports published (or that would have been)
    written: int = 0  # output files whose bytes changed
    rendered: int = 0  # output files that had to be produced (the rest were unchanged inputs)
    timings: tuple[tuple[str, float], ...] = ()  # seconds per stage
    site: Site | None = None
    changed: tuple[str, ...] = ()  # output paths written or removed, sorted
    published: bool = False  # output/ now holds this build's site


@dataclass(frozen=True)
class BuildContext:
    """What every stage of one build may use."""

    content: Path
    output: Path
    config: SiteConfig
    state: Path  # the private state folder
    store: Store
    pool: Pool

    def sources(self) -> Sources:
        return Sources(report=lambda key: read_report(self.store, key), original=self.original)

    def original(self, rel: str, sha256: str) -> bytes:
        """A report's original bytes, which must be those that were parsed."""
        data = (self.content / rel).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ContentChanged(rel)
        return data


class ContentChanged(Exception):
    """A report file changed while the build ran."""


def build(content_dir: Path, output_dir: Path, config_path: Path | None = None, *, strict: bool = False,
          keep_going: bool = False, allow_shrink: bool = False) -> BuildResult:
    """Build the site of `content_dir` into `output_dir` (see the module's docstring)."""
    clock = _Clock()
    content, output = Path(content_dir).absolute(), Path(output_dir).absolute()
    folder_problems = check_folders(content, output)
    if folder_problems:
        return BuildResult(folder_problems, False, 0)
    config, config_problems = load_config(config_path, content)
    try:
        with _context(content, output, config) as ctx:
            return _build(ctx, config_problems, clock, strict, keep_going, allow_shrink)
    except StateError as exc:
        return BuildResult((Problem(exc.path, 1, exc.message),), False, 0)
    except (OSError, sqlite3.Error) as exc:  # a full or read-only disk
        where = getattr(exc, "filename", None) or state_dir(output)
        reason = getattr(exc, "strerror", None) or str(exc)
        return BuildResult((Problem(str(where), 1, f"写入失败：{reason}；output/ 保持上次成功构建的内容，"
                                                  f"请检查磁盘空间与权限（cannot write: {reason}）"),), False, 0)


def _build(ctx: BuildContext, problems: tuple[Problem, ...], clock: "_Clock", strict: bool, keep_going: bool,
           allow_shrink: bool) -> BuildResult:
    ctx.pool.prepare()  # the workers' loading overlaps the listing and hashing of the content
    rels, found_problems, sidecars = find_report_paths(ctx.content)
    summaries, parse_problems = parse_reports(ctx.store, ctx.pool, ctx.content, rels, sidecars)
    clock.lap("parse")
    if keep_going:  # leave out the files in error, publish the rest
        bad = {p.path for p in parse_problems if _failing((p,), strict)}
        summaries = tuple(s for s in summaries if s.source not in bad)
    ids = ctx.store.space("ids")
    slugs = _Slugs(ctx.store)
    site, assemble_problems = assemble_site(summaries, slugs, dict(ids.items_json()))
    site = similarity.with_similar(site)
    slugs.save()
    clock.lap("assemble")
    problems = _sorted(problems + found_problems + parse_problems + assemble_problems)
    failing = _failing(problems, strict)
    if not rels and not found_problems:
        problems += (Problem(str(ctx.content), 1, "内容文件夹中没有报告文件（.txt/.html/.md），未发布；请检查 --content"
                                                  "（no report files in the content folder）"),)
    if failing and not keep_going or not site.entries:
        return BuildResult(_sorted(problems), False, len(site.entries), timings=clock.laps)
    published = ctx.store.space("ids").keys()
    if not allow_shrink and published and len(site.entries) < SHRINK_LIMIT * len(published):
        problem = Problem(str(ctx.content), 1,
                          f"本次只有 {len(site.entries)} 篇报告，上次发布了 {len(published)} 篇，超过一半将被撤下，未发布；"
                          f"如确需删除，请加 --allow-shrink（the build would drop more than half of the published reports）")
        return BuildResult(_sorted(problems + (problem,)), False, len(site.entries), timings=clock.laps)
    try:
        stats = _publish(ctx, site, clock)
    except UnsafePath as exc:  # two pages on one path, or a path leaving output/: nothing written
        problem = Problem(str(ctx.content), 1, f"拒绝写入网站：{exc}（refused to write the site）")
        return BuildResult(_sorted(problems + (problem,)), False, len(site.entries), timings=clock.laps)
    except ContentChanged as exc:
        problem = Problem(str(exc), 1, "文件在构建过程中被修改，未发布；请重新构建（the file changed during the build）")
        return BuildResult(_sorted(problems + (problem,)), False, len(site.entries), timings=clock.laps)
    with ctx.store.transaction():
        ids.clear()
        ids.put_json((e.report.source, e.id) for e in site.entries)
    return BuildResult(problems, not failing, len(site.entries), stats.written, stats.rendered, clock.laps, site,
                       stats.changed, True)


def _publish(ctx: BuildContext, site: Site, clock: "_Clock") -> PublishStats:
    """Render and publish the site; the search indexes are built in the pool meanwhile, the
    Whoosh index committed only once the site is published."""
    sources = ctx.sources()
    store_path = ctx.store.path
    with (static_search_later(site, ctx.state / STATIC_SEARCH, ctx.pool, store_path) as search_files,
          updating_index(site, ctx.state / WHOOSH, ctx.pool, store_path) as commit):
        stats = publish(chain(render_site(site, ctx.config, make_environment(ctx.config.theme, ctx.state / COMPILED_TEMPLATES), sources), search_files),
                        ctx.output, ctx.state, ctx.store)
        clock.lap("render+publish")
        commit()
    clock.lap("whoosh")
    return stats


def check_folders(content: Path, output: Path) -> tuple[Problem, ...]:
    """Refuse folders that would publish by mistake or lose the sources."""
    def problem(message: str) -> tuple[Problem, ...]:
        return (Problem(str(content), 1, message),)
    if not content.is_dir():
        return problem("内容文件夹不存在，未发布；请检查 --content（the content folder does not exist）")
    real_content, real_output = content.resolve(), output.resolve()
    if real_output == real_content or real_content.is_relative_to(real_output):
        return problem(f"输出文件夹 {output} 包含内容文件夹，发布会移走原始报告；请选择其他 --output"
                       f"（the output folder holds the content folder）")
    if real_output.is_relative_to(real_content):
        return problem(f"输出文件夹 {output} 位于内容文件夹之内，请把 --output 放在外面"
                       f"（the output folder is inside the content folder）")
    if real_output == real_output.parent or real_output == Path.home().resolve():
        return problem(f"不能把网站发布到 {output}（整个文件夹会被替换）；请选择专用的 --output"
                       f"（refusing to replace {output}）")
    return ()


@contextmanager
def _context(content: Path, output: Path, config: SiteConfig) -> Iterator[BuildContext]:
    state = private_folder(state_dir(output))
    with _locked(state):
        store = Store.open(state)
        try:
            with Pool() as pool:
                yield BuildContext(content, output, config, state, store, pool)
        finally:
            store.close()


@contextmanager
def _locked(state: Path) -> Iterator[None]:
    """One build of an output at a time (an flock: released if the holder dies)."""
    with open(state / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class _Slugs:
    """urls.slugify, remembering the slugs of names in the state (pinyin loads slowly)."""

    def __init__(self, store: Store):
        self._space = store.space("slugs")
        self._store = store
        self._known = dict(self._space.items_json())
        self._new: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        found = self._known.get(name)
        if found is None:
            found = self._known[name] = self._new[name] = urls.slugify(name)
        return found

    def save(self) -> None:
        with self._store.transaction():
            self._space.put_json(self._new.items())
        self._new = {}


def _failing(problems: tuple[Problem, ...], strict: bool) -> bool:
    severities = {"error", "warning"} if strict else {"error"}
    return any(p.severity in severities for p in problems)


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

