"""Video in and out for demos: PyAV reads any source FFmpeg opens, frame by frame; mp4 (PyAV) and
gif (Pillow) come out.

A source is a video file, or anything FFmpeg's demuxers open as a stream: a device
(``/dev/video0`` with ``input_format="v4l2"``), a URL (``rtsp://``, ``http://``, ``file:clip.mp4``),
a pipe. Frames are decoded one at a time as they are iterated, so a live stream is never held
in memory; ``max_seconds`` ends the reading after that much video.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import attrs
import av
import numpy as np
from PIL import Image

from ..engine.checkpoint import atomic_path
from ..errors import ConfigError, DataError

DEFAULT_FPS = 30.0
"""Frame rate assumed for a source that states none (a raw stream, some cameras)."""
OUTPUT_SUFFIXES = (".mp4", ".gif")


def is_file_source(source: str) -> bool:
    """True for a plain path to a file (seekable, of known length); False for URLs, devices, pipes."""
    return "://" not in source and not source.startswith(("file:", "pipe:")) and not source.startswith("/dev/")


@attrs.define
class FrameStream:
    """An open source: ``fps``, ``width``, ``height``, ``live`` (not a plain file) and
    :meth:`frames`, decoded on demand as uint8 RGB ``[H, W, 3]`` arrays."""

    source: str
    container: av.container.InputContainer
    stream: av.VideoStream
    fps: float
    live: bool
    max_frames: int | None

    @property
    def width(self) -> int:
        return int(self.stream.codec_context.width)

    @property
    def height(self) -> int:
        return int(self.stream.codec_context.height)

    def frames(self) -> Iterator[np.ndarray]:
        count = 0
        try:
            for frame in self.container.decode(self.stream):
                if self.max_frames is not None and count >= self.max_frames:
                    return
                yield frame.to_ndarray(format="rgb24")
                count += 1
        except av.error.FFmpegError as exc:
            raise DataError(f"{self.source}: cannot decode frame {count}: {exc.strerror or exc}", path=self.source) from exc


@contextlib.contextmanager
def open_frames(source: str | os.PathLike[str], *, input_format: str | None = None,
                max_seconds: float | None = None) -> Iterator[FrameStream]:
    """Open ``source`` for reading frame by frame; a :class:`DataError` names a source that is
    missing, that FFmpeg cannot open, or that has no video stream."""
    source = str(source)
    if max_seconds is not None and not max_seconds > 0:
        raise ConfigError(f"--max-seconds must be positive, got {max_seconds}")
    if input_format is None and is_file_source(source) and not Path(source).is_file():
        raise DataError(f"{source}: no such video file", path=source)
    try:
        container = av.open(source, format=input_format, mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise DataError(f"{source}: cannot open it as a video: {getattr(exc, 'strerror', None) or exc}",
                        path=source) from exc
    try:
        if not container.streams.video:
            raise DataError(f"{source}: has no video stream (streams: "
                            f"{', '.join(s.type for s in container.streams) or 'none'})", path=source)
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else DEFAULT_FPS
        limit = None if max_seconds is None else max(1, round(max_seconds * fps))
        yield FrameStream(source, container, stream, fps, input_format is not None or not is_file_source(source),
                          limit)
    finally:
        container.close()


def _encoder() -> str:
    """H.264 (libx264) where this FFmpeg build has it, else MPEG-4 part 2 (always built in)."""
    try:
        av.codec.Codec("libx264", "w")
        return "libx264"
    except (av.error.FFmpegError, ValueError):
        return "mpeg4"


class VideoWriter:
    """Frames appended one at a time to an mp4 (PyAV: H.264, else MPEG-4) or a gif (Pillow, which
    needs every frame before it writes: keep gifs short). Even sizes for mp4 (4:2:0 chroma) by
    dropping a last odd row/column. Written under a temporary name, renamed on success."""

    def __init__(self, tmp: Path, *, suffix: str, fps: float):
        self.tmp, self.suffix, self.fps = tmp, suffix, fps
        self.count = 0
        self.size: tuple[int, int] | None = None
        self._gif: list[Image.Image] = []
        self._container = av.open(str(tmp), mode="w", format="mp4") if suffix == ".mp4" else None
        self._stream = None
        self.codec = _encoder() if suffix == ".mp4" else "gif"

    def write(self, frame: np.ndarray) -> None:
        if self._container is None:
            self._gif.append(Image.fromarray(frame))
            self.size = (frame.shape[1], frame.shape[0])
            self.count += 1
            return
        if self._stream is None:
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream(self.codec, rate=rate)
            self._stream.width, self._stream.height = frame.shape[1] // 2 * 2, frame.shape[0] // 2 * 2
            self._stream.pix_fmt = "yuv420p"
            self.size = (self._stream.width, self._stream.height)
        pixels = np.ascontiguousarray(frame[: self.size[1], : self.size[0]])
        out = av.VideoFrame.from_ndarray(pixels, format="rgb24")
        out.pts = self.count
        self._container.mux(self._stream.encode(out))
        self.count += 1

    def abort(self) -> None:
        """Release the file without finishing it (the caller failed; the partial file is removed)."""
        if self._container is not None:
            self._container.close()

    def close(self) -> None:
        if self._container is not None:
            if self._stream is not None:
                self._container.mux(self._stream.encode(None))
            self._container.close()
        elif self._gif:
            duration = max(20, round(1000 / self.fps))  # gif delays are in 10 ms steps, browsers clamp below 20
            self._gif[0].save(self.tmp, format="GIF", save_all=True, append_images=self._gif[1:],
                              duration=duration, loop=0)
        if self.count == 0:
            raise DataError("no frames to write: the input gave none")


@contextlib.contextmanager
def video_writer(path: str | os.PathLike[str], *, fps: float) -> Iterator[VideoWriter]:
    """A :class:`VideoWriter` for ``path`` (.mp4 or .gif); the file appears only when the block ends
    without an error. An unwritable place is a StorageError naming ``path``, raised before any work."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(f"--out {path}: write a {' or '.join(OUTPUT_SUFFIXES)} file")
    with atomic_path(path, what=f"the {suffix[1:]} video") as tmp:
        tmp.write_bytes(b"")  # fail here, before the model runs, where the folder is not writable
        writer = VideoWriter(tmp, suffix=suffix, fps=fps)
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        writer.close()
