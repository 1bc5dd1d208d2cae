"""What a run records about where it ran, as the C# SDK does (src/Lineage.Client/RunEnvironment.cs).

System tags under ``lineage.``: user, host, OS, runtime (Python version), command line, working
directory, the installed Python packages and, inside a git work tree, commit, branch, dirty flag
and remote (credentials removed).
"""
from __future__ import annotations

import getpass
import os
import platform
import socket
import subprocess
import sys
from typing import Dict, Optional
from urllib.parse import urlsplit, urlunsplit

USER = "lineage.user"
HOST = "lineage.host"
OS = "lineage.os"
RUNTIME = "lineage.runtime"
COMMAND = "lineage.command"
WORKING_DIRECTORY = "lineage.cwd"
PACKAGES = "lineage.python.packages"
GIT_COMMIT = "lineage.source.git.commit"
GIT_BRANCH = "lineage.source.git.branch"
GIT_DIRTY = "lineage.source.git.dirty"
GIT_REMOTE = "lineage.source.git.remote"

#: Tag values are limited to 8,000 characters by the server.
MAX_TAG_VALUE = 8000


def capture(working_directory: Optional[str] = None) -> Dict[str, str]:
    """The ``lineage.*`` tags for this process and ``working_directory`` (default: the current one)."""
    cwd = working_directory or os.getcwd()
    tags = {
        USER: _user(),
        HOST: socket.gethostname(),
        OS: platform.platform(),
        RUNTIME: f"Python {platform.python_version()} ({platform.python_implementation()})",
        COMMAND: _truncate(" ".join([sys.executable] + sys.argv)),
        WORKING_DIRECTORY: _truncate(cwd),
        PACKAGES: _truncate(packages()),
    }
    commit = _git(cwd, "rev-parse", "HEAD")
    if commit is None:
        return tags
    tags[GIT_COMMIT] = commit
    tags[GIT_DIRTY] = "true" if _git(cwd, "status", "--porcelain", "--untracked-files=no") else "false"
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        tags[GIT_BRANCH] = branch
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    if remote:
        tags[GIT_REMOTE] = strip_credentials(remote)
    return tags


def packages() -> str:
    """Installed distributions as sorted ``name==version`` lines."""
    from importlib import metadata

    seen = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            seen.add(f"{name}=={dist.version}")
    return "\n".join(sorted(seen, key=str.lower))


def strip_credentials(remote: str) -> str:
    """``https://user:token@host/repo`` → ``https://host/repo``: tokens never end up in tags."""
    parts = urlsplit(remote)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return remote


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container: not worth failing a run for
        return "unknown"


def _git(cwd: str, *args: str) -> Optional[str]:
    """Runs git; ``None`` when git is missing, the folder is not a repository, or it takes too long."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_TAG_VALUE else text[:MAX_TAG_VALUE]
