"""The ``auto`` decoder: frame folders with ``frame_folder``, every other path with ``pyav``."""
from __future__ import annotations

import os

from ...data.reader import VideoReader
from .frame_folder import FrameFolderDecoder
from .pyav import PyAVDecoder


class AutoDecoder:
    """For lists that mix video files and frame folders (the X-Temporal/CMR three-column list)."""

    def __init__(self, *, threads: int = 1, filename_tmpl: str = "img_{:05d}.jpg", start_index: int = 1):
        self.videos = PyAVDecoder(threads=threads)
        self.folders = FrameFolderDecoder(filename_tmpl=filename_tmpl, start_index=start_index)

    def open(self, path: str | os.PathLike[str]) -> VideoReader:
        return (self.folders if os.path.isdir(path) else self.videos).open(path)

    def __repr__(self) -> str:
        return f"AutoDecoder({self.videos!r}, {self.folders!r})"
