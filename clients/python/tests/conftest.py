"""Fixtures: real Lineage servers (tests/lineage_server.py) for the client's tests.

A server that cannot start fails the tests: nothing is skipped.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from typing import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from lineage_server import REPO, Server, free_port, lineage_cli  # noqa: E402,F401

sys.path.insert(0, os.path.join(REPO, "clients", "python", "src"))
import lineage  # noqa: E402


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The shared open server (no users) for most tests."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def client(server: Server) -> lineage.Client:
    return lineage.Client(server.url)


@pytest.fixture()
def unique() -> str:
    """A suffix that keeps the names of one test apart from every other's on the shared server."""
    return uuid.uuid4().hex[:10]


@pytest.fixture()
def workdir() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="lineage-pytest-files-")
    yield d
    shutil.rmtree(d, ignore_errors=True)
