"""Readers over frames already decoded, or over the first frames of another reader, so that a
dataset's pipeline can run on a window of a live stream or a cut of a file.

The demo feeds each window of a stream through the experiment's own test pipeline (its sampler,
resizes, crops): a ``FramesDecoder`` opens every source as the frames it holds.
"""
from __future__ import annotations

import math

import numpy as np

from .reader import VideoReader


class ArrayReader(VideoReader):
    """A :class:`VideoReader` over uint8 frames ``[N, H, W, C]`` in memory."""

    def __init__(self, frames: np.ndarray, *, fps: float = math.nan, path: str = "<frames>"):
        if frames.ndim != 4 or frames.dtype != np.uint8 or len(frames) == 0:
            raise ValueError(f"frames must be non-empty uint8 [N, H, W, C], got {frames.dtype} {list(frames.shape)}")
        self.frames, self.fps, self.path = frames, float(fps), path
        self.num_frames, self.height, self.width, self.channels = (int(d) for d in frames.shape)

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        return self.frames[indices]

    def close(self) -> None:
        pass


class FramesDecoder:
    """A decoder whose ``open()`` gives an :class:`ArrayReader` over the frames it was made with,
    whatever the path (a dataset needs a decoder; a window of a stream has no file)."""

    def __init__(self, frames: np.ndarray, *, fps: float = math.nan, path: str = "<frames>"):
        self.reader = ArrayReader(frames, fps=fps, path=path)

    def open(self, path: str) -> ArrayReader:
        return self.reader


class FirstFrames(VideoReader):
    """The first ``limit`` frames of another reader (a file cut at ``--max-seconds``)."""

    def __init__(self, inner: VideoReader, limit: int):
        self.inner, self.path, self.fps = inner, inner.path, inner.fps
        self.num_frames = min(inner.num_frames, limit)
        self.height, self.width, self.channels = inner.height, inner.width, inner.channels

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        return self.inner.read(indices).numpy()

    def close(self) -> None:
        self.inner.close()


class FirstFramesDecoder:
    """Opens with ``decoder`` and cuts each video to its first ``limit`` frames."""

    def __init__(self, decoder, limit: int):
        self.decoder, self.limit = decoder, limit

    def open(self, path: str) -> FirstFrames:
        return FirstFrames(self.decoder.open(path), self.limit)
