"""A real ``lineage server`` child process for the Python client's tests and bench/python.

The server is the built CLI (``lineage server``, src/Lineage.Cli) on a free loopback port with a
throwaway SQLite database and artifact folder, as tests/Lineage.Tests/Support/ServerProcess.cs does.
The CLI is built once (``dotnet build src/Lineage.Cli -c Release``) when it is not there yet;
``LINEAGE_CLI_DLL`` points at another build.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from typing import List, Optional

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def cli_dll() -> str:
    """The built ``lineage.dll``; builds it once when missing."""
    dll = os.environ.get("LINEAGE_CLI_DLL") or os.path.join(REPO, "src", "Lineage.Cli", "bin", "Release", "net10.0", "lineage.dll")
    if not os.path.exists(dll):
        subprocess.run(["dotnet", "build", os.path.join(REPO, "src", "Lineage.Cli"), "-c", "Release", "-nologo", "-v", "q"],
                       check=True, cwd=REPO)
    if not os.path.exists(dll):
        raise RuntimeError(f"the Lineage CLI was not built at {dll}")
    return dll


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lineage_cli(db: str, *args: str, stdin: Optional[str] = None) -> str:
    """Runs a ``lineage`` command on ``db`` and returns its standard output."""
    done = subprocess.run(["dotnet", cli_dll(), *args, "--db", db], input=stdin, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"lineage {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


class Server:
    """One ``lineage server`` child process with its own database and artifact folder."""

    def __init__(self, *extra_args: str, setup: Optional[List[List[str]]] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="lineage-pytest-")
        self.db = os.path.join(self.dir, "lineage.db")
        self.artifacts = os.path.join(self.dir, "artifacts")
        self.outputs: List[str] = [lineage_cli(self.db, *cmd) for cmd in (setup or [])]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(self.dir, "server.log"), "w+")
        env = dict(os.environ, DOTNET_gcServer="0", DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
        self.process = subprocess.Popen(
            ["dotnet", cli_dll(), "server", "--db", self.db, "--artifacts", self.artifacts, "--port", str(self.port), *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"lineage server exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"lineage server did not become ready in 90 s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
