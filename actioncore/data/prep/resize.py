"""``actioncore data resize``: videos re-encoded with a smaller short side (and optionally another fps).

MMAction2 does this with ffmpeg (``resize_videos.py``: ``-vf scale``, ``-r``); here the same FFmpeg
filters run through PyAV: ``scale`` (bilinear, even sizes as H.264 needs) then ``fps`` (FFmpeg's
frame-rate conversion: frames are dropped or repeated to the new rate). The result is H.264
(``libx264``, when this FFmpeg has it) or MPEG-4 Part 2, in ``.mp4``; audio is re-encoded to AAC
with ``keep_audio`` and left out otherwise (the recognisers read no audio).
"""
from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter

from ...errors import DataError
from .frames import short_side_size
from .jobs import JobReport, VideoJob, find_videos, run_jobs

CODECS = ("h264", "mpeg4")


def _encoder(codec: str) -> str:
    if codec == "h264":
        return "libx264" if "libx264" in av.codecs_available else "h264"
    return codec


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return tuple(max(2, v - v % 2) for v in size)  # type: ignore[return-value]


def _graph(stream: Any, size: tuple[int, int], fps: float | None) -> av.filter.Graph:
    graph = av.filter.Graph()
    nodes = [graph.add_buffer(template=stream), graph.add("scale", f"{size[0]}:{size[1]}:flags=bilinear")]
    if fps:
        nodes.append(graph.add("fps", f"fps={fps}"))
    nodes.append(graph.add("format", "pix_fmts=yuv420p"))
    nodes.append(graph.add("buffersink"))
    graph.link_nodes(*nodes).configure()
    return graph


def resize_video(job: VideoJob, *, out: str, short_side: int, fps: float | None = None, codec: str = "h264",
                 keep_audio: bool = False, crf: int = 18) -> dict[str, Any]:
    """Write ``out/<job.name>.mp4``: ``job.source`` with short side ``short_side`` (an existing file is redone)."""
    target = Path(out) / f"{job.name}.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial.mp4")
    frames = 0
    try:
        with av.open(str(job.source)) as source, av.open(str(partial), "w") as sink:
            if not source.streams.video:
                raise DataError(f"{job.source}: no video stream", path=str(job.source))
            video = source.streams.video[0]
            size = _even(short_side_size(video.codec_context.width, video.codec_context.height, short_side))
            rate = Fraction(fps).limit_denominator(1001) if fps else (video.average_rate or Fraction(30))
            encoder = sink.add_stream(_encoder(codec), rate=rate)
            encoder.width, encoder.height, encoder.pix_fmt = size[0], size[1], "yuv420p"
            if codec == "h264":
                encoder.options = {"crf": str(crf)}
            else:
                encoder.bit_rate = 4_000_000
            audio_in = source.streams.audio[0] if keep_audio and source.streams.audio else None
            audio_out = sink.add_stream("aac", rate=audio_in.rate) if audio_in is not None else None
            graph = _graph(video, size, fps)
            streams = [video] + ([audio_in] if audio_in is not None else [])
            for packet in source.demux(*streams):
                for frame in packet.decode():
                    if packet.stream is video:
                        graph.push(frame)
                        frames += _drain(graph, encoder, sink)
                    else:
                        frame.pts = None
                        sink.mux(audio_out.encode(frame))
            graph.push(None)
            frames += _drain(graph, encoder, sink)
            sink.mux(encoder.encode(None))
            if audio_out is not None:
                sink.mux(audio_out.encode(None))
    except av.FFmpegError as exc:
        partial.unlink(missing_ok=True)
        raise DataError(f"{job.source}: cannot re-encode: {exc}", path=str(job.source)) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if frames == 0:
        partial.unlink(missing_ok=True)
        raise DataError(f"{job.source}: no frames decoded", path=str(job.source))
    os.replace(partial, target)
    return {"path": os.fspath(target), "frames": frames, "width": size[0], "height": size[1],
            "fps": float(rate), "audio": audio_out is not None}


def _drain(graph: av.filter.Graph, encoder: Any, sink: Any) -> int:
    count = 0
    while True:
        try:
            frame = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return count
        frame.pict_type = av.video.frame.PictureType.NONE
        sink.mux(encoder.encode(frame))
        count += 1


def resize_videos(source: str | os.PathLike[str], out: str | os.PathLike[str], *, short_side: int,
                  fps: float | None = None, codec: str = "h264", keep_audio: bool = False, workers: int = 1,
                  progress: bool = True) -> JobReport:
    """Re-encoded copies of ``source`` (a video, or every video under a folder) in ``out``."""
    if short_side < 2:
        raise DataError(f"--short-side must be at least 2, got {short_side}")
    if fps is not None and fps <= 0:
        raise DataError(f"--fps must be positive, got {fps}")
    if codec not in CODECS:
        raise DataError(f"--codec must be one of {', '.join(CODECS)}, got {codec!r}")
    jobs = find_videos(source)
    Path(out).mkdir(parents=True, exist_ok=True)
    return run_jobs(resize_video, jobs, workers=workers, progress=progress, out=os.fspath(out),
                    short_side=short_side, fps=fps, codec=codec, keep_audio=keep_audio)
