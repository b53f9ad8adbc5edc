"""Command line: `site-builder build|parse|search|serve` and `build-site` (= build)."""
from __future__ import annotations

import argparse
import json
import os
import sys
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
    build.add_argument("--keep-going", action="store_true",
                       help="publish every report except those in error (still exits 1), for unattended builds")
    build.add_argument("--allow-shrink", action="store_true",
                       help="publish even when more than half of the published reports would be removed")
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
    serve.add_argument("--keep-going", action="store_true",
                       help="publish every report except those in error (the overlay lists them)")
    serve.add_argument("--allow-shrink", action="store_true",
                       help="publish even when more than half of the published reports would be removed")
    serve.set_defaults(run=run_serve)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    from .serve.server import run_serve as serve  # the server's modules are loaded for this command only

    return serve(args)


def run_build(args: argparse.Namespace) -> int:
    from .build import build

    result = build(args.content, args.output, args.config, strict=args.strict, keep_going=args.keep_going,
                   allow_shrink=args.allow_shrink)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    errors = sum(p.severity == "error" for p in result.problems)
    warnings = len(result.problems) - errors
    if result.ok:
        print(f"已构建 {result.reports} 篇报告到 {args.output}/：{result.written} 个文件有变化，{warnings} 个警告"
              f"（built {result.reports} report(s): {result.written} file(s) changed, {warnings} warning(s)）",
              file=sys.stderr)
    elif result.published:
        print(f"构建未完全成功：{errors} 个错误、{warnings} 个警告；有错误的文件未发布，其余 {result.reports} 篇已发布到 "
              f"{args.output}/（{errors} error(s): the files in error were left out, the rest published）",
              file=sys.stderr)
    else:
        print(f"构建失败：{errors} 个错误、{warnings} 个警告；{args.output}/ 保持不变"
              f"（build failed: {errors} error(s), {warnings} warning(s); {args.output}/ left unchanged）",
              file=sys.stderr)
    if args.json:
        print(json.dumps({"ok": result.ok, "published": result.published, "reports": result.reports,
                          "written": result.written, "rendered": result.rendered, "errors": errors,
                          "warnings": warnings, "timings": dict(result.timings), "changed": list(result.changed)},
                         ensure_ascii=False))
    return 0 if result.ok else 1


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
    def shown(value) -> str:
        return "（未知）" if value in (None, "") else str(value)
    derived = "（据地点与年度生成）" if report.title_derived else ""
    print(f"{report.source}\n  标题：{report.title}{derived}\n  地点：{shown(report.place)}  地区：{shown(report.region)}"
          f"  年度：{shown(report.year)}  发布：{shown(report.published)}\n  章节：")
    for section in report.sections:
        part = f"  [第{section.part}部分]" if section.part else ""
        print(f"    {'  ' * (section.level - 1)}{section.heading}{part}")


def main(argv: list[str] | None = None) -> int:
    """Run a command. Its output may be piped into a program that stops reading (`head`):
    that ends the command quietly."""
    args = make_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would report the failed flush of stdout again at exit: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("已中断（interrupted）", file=sys.stderr)
        return 130
    return status


def site_builder_main() -> int:
    """`site-builder COMMAND [options]`."""
    return main()


def build_site_main(argv: list[str] | None = None) -> int:
    """`build-site [options]`, the same as `site-builder build [options]`."""
    return main(["build", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
