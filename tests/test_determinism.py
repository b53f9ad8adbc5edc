"""Two builds of the same input are byte-identical, whatever the hash seed, locale, time
zone, file modification times, the folder the content sits in, or the order its files were
created in. Both builds are real `site-builder build` runs in fresh processes, compared
file by file (pages, data downloads, feeds, the static search bundle)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SAMPLES, report_text, tree

ENVIRONMENTS = (
    {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"},
    {"PYTHONHASHSEED": "3141592653", "LC_ALL": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8",
     "TZ": "America/Los_Angeles", "LANGUAGE": "zh_CN"},
)


def _sources(tmp_path: Path) -> dict[str, bytes]:
    generated = tmp_path / "generated"
    done = subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(generated),
                           "--count", "10", "--seed", "11"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = {f"gen/{k}": v for k, v in tree(generated).items()}
    files.update({f"samples/{p.name}": p.read_bytes() for p in sorted(SAMPLES.glob("*.txt"))})
    files["extra/qingshan-2024.txt"] = report_text("青山乡", 2024).encode("utf-8")
    files["extra/qingshan-2024.meta.toml"] = 'region = "河北省某县"\npublished = "2025-03-30"\n'.encode()
    files["site.toml"] = 'site_name = "确定性测试"\nbase_url = "https://example.org"\n'.encode()
    return files


def _write(root: Path, files: dict[str, bytes], order: list[str], mtime: float | None) -> None:
    for rel in order:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
        if mtime is not None:
            os.utime(path, (mtime, mtime))


def test_two_builds_in_different_environments_are_byte_identical(tmp_path: Path):
    files = _sources(tmp_path)
    names = sorted(files)
    first, second = tmp_path / "a" / "content", tmp_path / "b" / "deeper" / "content-copy"
    _write(first, files, names, None)
    _write(second, files, list(reversed(names)), 978307200.0)  # other order, year-2001 mtimes

    runs = []
    for content, env in zip((first, second), ENVIRONMENTS):
        output = content.parent / "site"
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONHASHSEED"))}
        environ.update(env)
        runs.append((output, subprocess.Popen(
            [sys.executable, "-m", "site_builder.cli", "build", "--content", str(content),
             "--output", str(output)],
            cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for output, proc in runs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr[-3000:]

    a, b = tree(runs[0][0]), tree(runs[1][0])
    assert len(a) > 50
    assert sorted(a) == sorted(b)
    different = sorted(path for path in a if a[path] != b[path])
    assert different == []
    assert any(path.startswith("search/index/") for path in a)  # the static search index is compared too

