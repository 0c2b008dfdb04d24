"""Where downloaded and converted checkpoints live: one cache folder, shared by processes.

``ACTIONCORE_HOME`` names the folder; unset, it is ``$XDG_CACHE_HOME/actioncore`` (``~/.cache/actioncore``).
A zoo entry's source file is kept under ``weights/`` with the name its URL gives it (so a file a user
downloaded by hand can be dropped in place), and its conversion to our layout under ``converted/``.
``ACTIONCORE_OFFLINE=1`` (also ``true``/``yes``) means the network is never touched: a file that is
not in the cache is an error naming the URL and the path to put it at.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .zoo import WeightsEntry

HOME_VARIABLE = "ACTIONCORE_HOME"
OFFLINE_VARIABLE = "ACTIONCORE_OFFLINE"


def weights_home() -> Path:
    """The cache folder (not created here)."""
    home = os.environ.get(HOME_VARIABLE)
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "actioncore"


def offline() -> bool:
    """Whether ``ACTIONCORE_OFFLINE`` forbids the network."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def file_name(entry: WeightsEntry) -> str:
    """The source file's name: the last part of its URL's path."""
    name = unquote(urlsplit(entry.url).path.rsplit("/", 1)[-1])
    return name or f"{entry.name}.pth"


def cached_file(entry: WeightsEntry) -> Path:
    """Where ``entry``'s source file is (or will be) kept."""
    return weights_home() / "weights" / file_name(entry)


def converted_file(entry: WeightsEntry) -> Path:
    """Where ``entry``'s weights in our checkpoint layout are (or will be) kept."""
    return weights_home() / "converted" / f"{entry.name}.pth"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for writing ``path`` (on ``PATH.lock``, waiting while another process
    holds it), so that two processes (ranks of one run, two commands) never write one file at once;
    whoever gets the lock second finds the file written. The lock goes with the process if it dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


__all__ = ["HOME_VARIABLE", "OFFLINE_VARIABLE", "cached_file", "converted_file", "file_lock", "file_name", "offline",
           "weights_home"]
