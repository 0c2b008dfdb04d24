"""What every decoder's reader shares: index checking, de-duplication and gathering.

A reader only has to produce the frames of a sorted, duplicate-free index array
(:meth:`VideoReader._read_unique`); asking order, repeats and range errors are handled here once,
so every decoder answers the same way.
"""
from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import ClassVar

import numpy as np
import torch

from actioncore.errors import DataError

Indices = Sequence[int] | np.ndarray


class StreamBroken(Exception):
    """Raised by :meth:`VideoReader._stream_unique` when frames it already handed over cannot be
    trusted (the reader found its frame index wrong halfway): read the whole clip again with
    :meth:`VideoReader.read`, which recovers."""


class VideoReader(abc.ABC):
    """An opened video or frame folder that returns frames by presentation index.

    Returned by a decoder's ``open()``; a context manager that closes itself on exit.
    """

    path: str
    num_frames: int
    """Exact number of frames in presentation order."""
    fps: float
    """Average frame rate, best effort (NaN where the source does not say)."""
    height: int
    width: int
    channels: int = 3
    """3 (RGB) for videos and image folders; 2 (x, y) for optical-flow folders."""
    streams: ClassVar[bool] = False
    """True where :meth:`_stream_unique` hands frames over as they are decoded, so that a consumer
    on another thread can work on the first ones while the next are decoded."""

    def read(self, indices: Indices) -> torch.Tensor:
        """Frames ``indices`` as uint8 ``[N, H, W, C]``, in the order asked, repeats allowed.

        A 2-D index array (``[num_clips, clip_len]`` from a sampler) is read in row-major order,
        so N is always ``indices.size``. An index outside ``[0, num_frames)`` raises
        :class:`DataError` naming the file and the index.
        """
        unique, inverse = self.plan(indices)
        if unique.size == 0:
            return torch.empty((0, self.height, self.width, self.channels), dtype=torch.uint8)
        frames = self._read_unique(unique)
        return torch.from_numpy(frames if inverse is None else frames[inverse])

    def plan(self, indices: Indices) -> tuple[np.ndarray, np.ndarray | None]:
        """The sorted unique frames to decode for ``indices`` (checked as :meth:`read` does), and
        where each asked frame is among them (None when ``indices`` already is that array)."""
        wanted = self._check_indices(indices)
        unique, inverse = np.unique(wanted, return_inverse=True)
        if unique.size == wanted.size and np.array_equal(unique, wanted):
            return unique, None
        return unique, inverse

    def missing_frame(self, index: int) -> str | None:
        """The file that should hold frame ``index`` and is not there, for sources stored as one
        file per frame (a frame folder); None for a video file, whose frame count is only ever a
        best guess of the annotation."""
        return None

    @abc.abstractmethod
    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        """uint8 ``[len(indices), H, W, C]`` for sorted, unique, in-range ``indices``."""

    def _stream_unique(self, indices: np.ndarray) -> Iterator[object]:
        """Decode sorted, unique, in-range ``indices`` one by one, in order, yielding for each a
        token that :meth:`_finish` turns into pixels, on the thread consuming the stream, while
        this generator decodes the next frame on its own. Readers with ``streams = True``
        implement both. May raise :class:`StreamBroken`."""
        frames = self._read_unique(indices)
        yield from frames

    def _finish(self, token: object) -> np.ndarray:
        """The uint8 pixels ``[H, W, C]`` of a token from :meth:`_stream_unique` (may be a view
        into the token, valid while the caller holds it)."""
        return token

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file handles; reading afterwards is an error."""

    def _check_indices(self, indices: Indices) -> np.ndarray:
        wanted = np.asarray(indices)
        if wanted.size == 0:
            return wanted.astype(np.int64).reshape(-1)
        if wanted.dtype.kind not in "iu":
            raise TypeError(f"frame indices must be integers, got dtype {wanted.dtype}")
        wanted = wanted.astype(np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.num_frames)]
        if bad.size:
            raise DataError(
                f"{self.path}: frame index {int(bad[0])} is out of range; "
                f"the video has {self.num_frames} frames (valid indices 0..{self.num_frames - 1})",
                path=self.path,
            )
        return wanted

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.path!r}, num_frames={self.num_frames}, "
            f"fps={self.fps:.3f}, size={self.width}x{self.height})"
        )
