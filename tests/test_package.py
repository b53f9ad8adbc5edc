"""The package as a user installs it: a wheel, not this checkout, builds the sample archive
with its default theme."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from conftest import REPO, SAMPLES


def test_an_installed_wheel_builds_a_site(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True, text=True)
    [wheel] = wheels.glob("site_builder-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    sources = {p.relative_to(REPO).as_posix() for p in (REPO / "site_builder").rglob("*.py")}
    assert sources <= set(names), sources - set(names)  # every subpackage is listed in pyproject.toml
    assert "site_builder/templates/report.html" in names and "site_builder/templates/static/site.css" in names
    assert "site_builder/serve/livereload.js" in names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, text=True)
    shutil.copytree(SAMPLES, tmp_path / "content")
    # The installed copy first, the dependencies from this environment; run away from the
    # checkout so that nothing of it is imported.
    deps = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), deps]), "PYTHONSAFEPATH": "1"}
    run = subprocess.run([sys.executable, "-c", "import site_builder, sys; print(site_builder.__file__); "
                          "from site_builder.cli import main; sys.exit(main(['build', '--content', 'content', "
                          "'--output', 'output']))"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith(str(target))
    out = tmp_path / "output"
    assert (out / "static/site.css").is_file() and (out / "reports/yanpi-zhen-2024/index.html").is_file()
    assert len(list((out / "reports").iterdir())) == 5
