"""Getting a zoo entry's source file into the cache (stub: the download itself is being written)."""
from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from .cache import OFFLINE_VARIABLE, cached_file, offline
from .zoo import WeightsEntry


def fetch(entry: WeightsEntry, *, progress: bool = True) -> Path:
    """The verified local source file of ``entry``, downloaded into the cache when missing.

    :raises CheckpointError: offline with no cached file (naming the URL and where to put it), a
        download that fails, or a file whose hash differs from the entry's (both hashes named).
    """
    path = cached_file(entry)
    if path.is_file():
        return path
    if offline():
        raise CheckpointError(f"weights '{entry.name}' are not in the cache and {OFFLINE_VARIABLE} is set: "
                              f"download {entry.url} and put it at {path}")
    raise NotImplementedError("downloading is not written yet")


__all__ = ["fetch"]
