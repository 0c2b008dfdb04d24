"""Decoders: open a video file or frame folder and read frames by presentation index.

A decoder is a component (``data.decoder``) whose ``open(path)`` returns a
:class:`VideoReader`; ``reader.read(indices)`` gives uint8 ``[N, H, W, C]`` frames.
"""
from __future__ import annotations

from ...data.reader import VideoReader
from .frame_folder import FrameFolderDecoder, FrameFolderReader
from .pyav import PyAVDecoder, PyAVReader

__all__ = [
    "FrameFolderDecoder",
    "FrameFolderReader",
    "PyAVDecoder",
    "PyAVReader",
    "VideoReader",
]
