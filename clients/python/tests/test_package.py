"""The package installs offline and every public function of the client is exercised by these tests."""
from __future__ import annotations

import glob
import inspect
import os
import re
import shutil
import subprocess
import sys

import lineage

from lineage_server import REPO


def test_the_package_installs_offline_with_pip(tmp_path):
    # A copy: setuptools writes build/ and *.egg-info next to the sources it builds.
    source = tmp_path / "src-copy"
    shutil.copytree(os.path.join(REPO, "clients", "python"), str(source), ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps", "--quiet",
                           "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "lineage" / "py.typed").exists()
    check = subprocess.run([sys.executable, "-c", "import lineage, importlib.metadata as m; "
                            "print(lineage.__file__); print(m.version('lineage-client'))"],
                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(target)), cwd=str(tmp_path))
    assert check.returncode == 0, check.stderr
    where, version = check.stdout.split()
    assert where.startswith(str(target)) and version == lineage.__version__


def test_every_public_function_is_called_by_a_test():
    sources = ""
    for path in glob.glob(os.path.join(os.path.dirname(__file__), "test_*.py")):
        if not path.endswith("test_package.py"):
            with open(path) as f:
                sources += f.read()
    missing = []
    for cls in (lineage.Client, lineage.ActiveRun, lineage.ActiveExecution):
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                continue
            if not re.search(r"\.%s\b" % re.escape(name), sources):
                missing.append(f"{cls.__name__}.{name}")
    assert missing == []
