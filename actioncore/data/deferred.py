"""Frames read only when the pipeline needs their pixels, resampled as they are decoded.

Between ``decode`` and the first step that needs pixels, a clip's resizes, crops and flips only
compose a pending :class:`~actioncore.data.geometry.Geometry`, and that needs the frame size, not
the frames. So the pipeline defers the read: ``sample.frames`` holds a :class:`DeferredFrames`
(with the ``shape`` and ``dtype`` the frames will have) until the pipeline materialises it with
the geometry known. Then, where the reader hands frames over as it decodes them
(``VideoReader.streams``), the clip is converted and resampled in chunks as it is decoded,
straight into the memory layout the next step wants (see :func:`_render_chunks`). A clip of
many frames is decoded on a helper thread while this one works on the chunks already decoded:
FFmpeg and the resample both release the GIL, so with a core to spare a SlowFast 32x2x1 clip
takes about a fifth less wall-clock time. Without a spare core the hand-offs only cost, so
``overlap = "auto"`` asks :mod:`~actioncore.data.spare_cores` first. Either way the pixels are
the same: each frame is resampled on its own.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import ContextManager, Literal

import attrs
import numpy as np
import torch

from .geometry import Geometry
from .reader import StreamBroken, VideoReader
from .spare_cores import spare_cores

__all__ = ["CHUNK", "DeferredFrames", "Layout", "Overlap", "frames_in_layout"]

Overlap = Literal["auto", "on", "off"]
Layout = tuple[int, int, int, int]

CHUNK = 8
"""Frames per hand-off. 8 beat 16 on SlowFast clips in the first experiment (+25% vs +8% with a
free core): the work on the last chunk, which no decoding overlaps, is shorter."""
_SPARE = 1.5
"""Cores others must leave free for ``auto`` to overlap (the two threads keep about 1.4 busy)."""


@attrs.frozen(eq=False)
class DeferredFrames:
    """The frames ``indices`` (flat, asking order) of ``reader``, not read yet."""

    reader: VideoReader
    indices: np.ndarray
    overlap: Overlap = "auto"
    dtype = torch.uint8

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (int(self.indices.size), self.reader.height, self.reader.width, self.reader.channels)

    def read(self) -> torch.Tensor:
        """The frames as they are decoded, read at once."""
        return self.reader.read(self.indices)

    def render(self, geometry: Geometry | None, *, flow: bool = False,
               layout: Layout | None = None) -> torch.Tensor:
        """The frames with ``geometry`` applied (as ``geometry.apply`` would do to all of them).

        ``layout`` is the order in memory, outermost first, that the next step wants the axes
        ``(N, H, W, C)`` in (see :func:`frames_in_layout`); a render chunk by chunk writes the
        frames that way, so the step's own reordering becomes a no-op.
        """
        if geometry is None or geometry.is_identity() or not self.reader.streams:
            frames = self.read()
            return frames if geometry is None else geometry.apply(frames, flow=flow)
        unique, inverse = self.reader.plan(self.indices)
        chunks = _decoded_on_helper if self._overlaps(unique.size) else _decoded_here
        try:
            frames = _render_chunks(self.reader, unique, chunks, geometry, flow,
                                    layout if inverse is None else None)
        except StreamBroken:
            return geometry.apply(self.read(), flow=flow)
        return frames if inverse is None else frames[torch.from_numpy(inverse)]

    def _overlaps(self, frames: int) -> bool:
        if self.overlap == "off" or frames < 2 * CHUNK:
            return False
        if self.overlap == "on":
            return True
        spare = spare_cores().estimate()
        return spare is not None and spare >= _SPARE


def frames_in_layout(shape: tuple[int, int, int, int], layout: Layout) -> torch.Tensor:
    """An uninitialised uint8 ``[N, H, W, C]`` tensor of ``shape`` whose axes lie in memory in the
    order ``layout`` (outermost first): ``(3, 0, 1, 2)`` is channel planes of all frames, as a
    one-clip ``NCTHW`` batch wants them, ``(0, 3, 1, 2)`` frame by frame channel planes (``NCHW``)."""
    if sorted(layout) != [0, 1, 2, 3]:
        raise ValueError(f"layout {layout} is not an order of the axes 0..3")
    strides = [0] * 4
    step = 1
    for axis in reversed(layout):
        strides[axis] = step
        step *= shape[axis]
    return torch.empty_strided(shape, strides, dtype=torch.uint8)


Chunks = Callable[[VideoReader, np.ndarray], ContextManager[Iterator[list[object]]]]
"""Decodes frames of a reader into lists of ``CHUNK`` tokens for ``reader._finish``."""


def _render_chunks(reader: VideoReader, unique: np.ndarray, chunks: Chunks, geometry: Geometry,
                   flow: bool, layout: Layout | None) -> torch.Tensor:
    """Convert and resample ``unique`` chunk by chunk, as ``chunks`` decodes them, into one tensor.

    Only the region the geometry reads is copied out of each decoded frame; a chunk of them (at
    most 2 MB for 8 340x256 frames) is still in cache when resampled, and the result goes
    straight into the layout the next step wants: on one core this alone makes a SlowFast
    32x2x1 clip 4-11% cheaper than decoding the whole clip first."""
    out = frames_in_layout((unique.size, *geometry.size, reader.channels), layout or (0, 1, 2, 3))
    (left, top, width, height), on_region = geometry.on_region()
    start = 0
    with chunks(reader, unique) as decoded:
        for chunk in decoded:
            pixels = np.empty((len(chunk), height, width, reader.channels), dtype=np.uint8)
            for row, frame in zip(pixels, chunk):
                row[...] = reader._finish(frame)[top:top + height, left:left + width]
            out[start:start + len(chunk)] = on_region.apply(torch.from_numpy(pixels), flow=flow)
            start += len(chunk)
    if start != unique.size:
        raise RuntimeError(f"{reader.path}: the reader gave {start} of {unique.size} frames")
    return out


@contextlib.contextmanager
def _decoded_here(reader: VideoReader, unique: np.ndarray) -> Iterator[Iterator[list[object]]]:
    frames = reader._stream_unique(unique)
    try:
        yield _batched(frames)
    finally:
        frames.close()


def _batched(frames: Iterator[object], stop: threading.Event | None = None) -> Iterator[list[object]]:
    """Lists of ``CHUNK`` frames, the last one shorter; none more once ``stop`` is set."""
    chunk: list[object] = []
    for frame in frames:
        if stop is not None and stop.is_set():
            return
        chunk.append(frame)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def _decoded_on_helper(reader: VideoReader, unique: np.ndarray) -> Iterator[Iterator[list[object]]]:
    """Chunks decoded on a helper thread, taken here as each is complete."""
    handed: queue.SimpleQueue[list[object] | BaseException | None] = queue.SimpleQueue()
    stop = threading.Event()

    def decode() -> None:
        frames = reader._stream_unique(unique)
        try:
            for chunk in _batched(frames, stop):
                handed.put(chunk)
            handed.put(None)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            handed.put(exc)
        finally:
            frames.close()

    def taken() -> Iterator[list[object]]:
        while (chunk := handed.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk

    helper = threading.Thread(target=decode, name="actioncore-decode", daemon=True)
    helper.start()
    try:
        yield taken()
    finally:
        # The reader belongs to this thread again only once the helper has let go of it.
        stop.set()
        helper.join()
