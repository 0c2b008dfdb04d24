"""One-call frame reading for scripts and notebooks, outside any experiment."""
from __future__ import annotations

import os

import torch

from actioncore.builtin.decoders import FrameFolderDecoder, PyAVDecoder
from actioncore.data.reader import Indices

__all__ = ["read_frames"]


def read_frames(path: str | os.PathLike[str], indices: Indices) -> torch.Tensor:
    """Frames ``indices`` of a video file or an ``img_{:05d}.jpg`` frame folder.

    Returns uint8 ``[len(indices), H, W, 3]`` RGB; index i is the i-th frame in presentation
    order, in any order, repeats allowed. Bad input raises
    :class:`~actioncore.errors.DataError` naming the file.
    """
    decoder = FrameFolderDecoder() if os.path.isdir(path) else PyAVDecoder()
    with decoder.open(path) as reader:
        return reader.read(indices)
