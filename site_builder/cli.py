"""Command line: `site-builder build|parse|search|serve` and `build-site` (= build)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path

from .search.cli import add_search_arguments, run_search


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), metavar="DIR",
                        help="folder of reports (default: content/)")
    parser.add_argument("--output", type=Path, default=Path("output"), metavar="DIR",
                        help="folder the site is written to (default: output/)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="site config (default: <content>/site.toml when present)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="site-builder", description="Build the 法治政府建设年度报告 archive.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build the site into --output")
    _common(build)
    build.add_argument("--json", action="store_true",
                       help="also print the outcome as one JSON object on stdout: the counts, the seconds "
                            "per stage and the output paths written or removed (what a deploy must sync)")
    build.set_defaults(run=run_build)

    parse = commands.add_parser("parse", help="show how report files are read")
    parse.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.set_defaults(run=run_parse)

    search = commands.add_parser("search", help="search the index of a build")
    _common(search)
    add_search_arguments(search)
    search.set_defaults(run=run_search)

    serve = commands.add_parser("serve", help="build, serve on 127.0.0.1, rebuild on change")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this machine only)")
    serve.add_argument("--port", type=int, default=8000,
                       help="port to listen on (default 8000; 0 picks a free port)")
    serve.add_argument("--open", action="store_true", help="open the site in a web browser")
    serve.set_defaults(run=run_serve)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    from .serve.server import run_serve as serve  # the server's modules are loaded for it only (0.05 s)

    return serve(args)


def run_build(args: argparse.Namespace) -> int:
    from .content.stage import early_parser
    from .state import state_dir

    # A first build parses everything: its parser process loads the parser while this one
    # imports the rest of the build (0.2 s). A rebuild starts it later, when this process
    # has loaded what the parser would otherwise load again (a no-op does not wait for it).
    cache = state_dir(args.output) / "parse"
    with early_parser(cache) if not cache.is_dir() else nullcontext() as parser:
        from .build import build

        result = build(args.content, args.output, args.config, strict=args.strict, parser=parser)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    errors = sum(p.severity == "error" for p in result.problems)
    warnings = len(result.problems) - errors
    if result.ok:
        print(f"built {result.reports} report(s) into {args.output}/: {result.written} file(s) changed, "
              f"{warnings} warning(s)", file=sys.stderr)
    else:
        print(f"build failed: {errors} error(s), {warnings} warning(s); {args.output}/ left unchanged",
              file=sys.stderr)
    if args.json:
        print(json.dumps({"ok": result.ok, "reports": result.reports, "written": result.written,
                          "rendered": result.rendered, "errors": errors, "warnings": warnings,
                          "timings": dict(result.timings), "changed": list(result.changed)}, ensure_ascii=False))
    status = 0 if result.ok else 1
    if getattr(args, "exit_now", False):
        _leave(status)  # with the result and all it holds still referenced: nothing is freed
    return status


def run_parse(args: argparse.Namespace) -> int:
    from .content.stage import parse_file

    status = 0
    for path in args.files:
        report, problems = parse_file(path, path.as_posix())
        for problem in problems:
            print(problem, file=sys.stderr)
        if report is None:
            status = 1
            continue
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False, sort_keys=False))
        else:
            _print_summary(report)
    return status


def _print_summary(report) -> None:
    derived = "（据地点与年度生成）" if report.title_derived else ""
    print(f"{report.source}\n  标题：{report.title}{derived}\n  地点：{report.place}  年度：{report.year}"
          f"  发布：{report.published}\n  章节：")
    for section in report.sections:
        part = f"  [第{section.part}部分]" if section.part else ""
        print(f"    {'  ' * (section.level - 1)}{section.heading}{part}")


def main(argv: list[str] | None = None, exit_now: bool = False) -> int:
    """Run a command; with `exit_now` (the commands' own processes), a build ends the
    process itself (see _leave)."""
    args = make_parser().parse_args(argv)
    args.exit_now = exit_now
    return args.run(args)


def _leave(status: int):
    """End the process without the interpreter's teardown, which frees a build's millions
    of objects one by one (0.15 s at 10,000 reports, with what the build read of its
    state: see BuildResult.held) for nothing. By then every file is written and closed and
    every worker process joined; only the streams need a flush."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def site_builder_main() -> int:
    """`site-builder COMMAND [options]`."""
    return main(exit_now=True)


def build_site_main(argv: list[str] | None = None) -> int:
    """`build-site [options]`, the same as `site-builder build [options]`."""
    return main(["build", *(sys.argv[1:] if argv is None else argv)], exit_now=True)


if __name__ == "__main__":
    sys.exit(main(exit_now=True))
