"""docs/python.md runs as written: its ```python blocks, in order, in one namespace, against a fresh server."""
from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from lineage_server import REPO, Server


def python_blocks(path: str):
    with open(path) as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


@pytest.fixture(scope="module")
def fresh_server():
    s = Server()
    yield s
    s.stop()


def test_the_python_page_runs_as_written(fresh_server, workdir, monkeypatch):
    blocks = python_blocks(os.path.join(REPO, "docs", "python.md"))
    assert len(blocks) >= 8
    monkeypatch.setenv("LINEAGE_URL", fresh_server.url)
    monkeypatch.delenv("LINEAGE_TOKEN", raising=False)
    monkeypatch.delenv("LINEAGE_PROJECT", raising=False)
    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "docs_python_md"}
    out = io.StringIO()
    for i, block in enumerate(blocks):
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(block, f"docs/python.md block {i + 1}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"docs/python.md block {i + 1} failed: {exc!r}\n{block}") from exc
    printed = out.getvalue()
    assert printed.startswith("ok\n")
    assert "RESOURCE_DOES_NOT_EXIST 404" in printed
    assert "flowchart" in printed or "graph" in printed
