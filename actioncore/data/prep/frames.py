"""``actioncore data frames``: every frame of a video as ``img_00001.jpg``, ... (MMAction2's raw frames).

Frames are decoded with PyAV in presentation order, so file ``img_{k+1:05d}.jpg`` holds frame k
as :func:`actioncore.io.read_frames` returns it (1-based names, as denseflow and MMAction2's
OpenCV extraction write them and the ``frame_folder`` decoder reads them). A folder is complete
once its marker file ``.done`` (JSON: frame count, size, source) is written, last; a rerun skips
complete folders and redoes partial ones, so a stopped extraction resumes where it was.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
from PIL import Image

from ...errors import DataError
from .jobs import JobReport, VideoJob, find_videos, run_jobs

MARKER = ".done"
FILENAME_TMPL = "img_{:05d}"


def short_side_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """``(width, height)`` scaled so the shorter side is ``short_side`` (denseflow's ``--new-short``:
    the long side rounded down to an integer); the size itself without ``short_side``."""
    if not short_side:
        return width, height
    if width <= height:
        return short_side, max(1, height * short_side // width)
    return max(1, width * short_side // height), short_side


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The ``.done`` record of a complete frame folder, None when the folder is incomplete."""
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("frames"), int) else None


def decoded_images(source: str | os.PathLike[str], *, short_side: int | None = None) -> Iterator[Image.Image]:
    """Every frame of the video ``source`` in presentation order as an RGB image, resized
    (bilinear) so its shorter side is ``short_side`` when given; a file PyAV cannot decode, or one
    without a video stream, raises :class:`DataError` naming it."""
    try:
        with av.open(os.fspath(source)) as container:
            if not container.streams.video:
                raise DataError(f"{source}: no video stream", path=os.fspath(source))
            for frame in container.decode(video=0):
                image = frame.to_image()
                size = short_side_size(image.width, image.height, short_side)
                yield image if size == image.size else image.resize(size, Image.Resampling.BILINEAR)
    except av.FFmpegError as exc:
        raise DataError(f"{source}: cannot decode: {exc}", path=os.fspath(source)) from None


def extract_video(job: VideoJob, *, out: str, short_side: int | None = None, ext: str = "jpg",
                  quality: int = 95) -> dict[str, Any]:
    """Write every frame of ``job.source`` to ``out/<job.name>/``; a complete folder is left as is."""
    folder = Path(out) / job.name
    record = read_marker(folder)
    if record is not None and record.get("short_side") == short_side and record.get("ext") == ext:
        return {**record, "skipped": True}
    if folder.exists():
        shutil.rmtree(folder)  # partial (or made with other settings): redo from the start
    folder.mkdir(parents=True)
    options = {"quality": quality} if ext.lower() in ("jpg", "jpeg") else {}
    count, size = 0, None
    for image in decoded_images(job.source, short_side=short_side):
        count, size = count + 1, image.size
        image.save(folder / f"{FILENAME_TMPL.format(count)}.{ext}", **options)
    if count == 0:
        raise DataError(f"{job.source}: no frames decoded", path=str(job.source))
    record = {"frames": count, "width": size[0], "height": size[1], "short_side": short_side, "ext": ext,
              "source": os.fspath(job.source)}
    (folder / MARKER).write_text(json.dumps(record), encoding="utf-8")
    return {**record, "skipped": False}


def extract_frames(source: str | os.PathLike[str], out: str | os.PathLike[str], *, short_side: int | None = None,
                   workers: int = 1, ext: str = "jpg", quality: int = 95, progress: bool = True) -> JobReport:
    """Frame folders for ``source`` (a video, or every video under a folder) in ``out``."""
    if short_side is not None and short_side < 1:
        raise DataError(f"--short-side must be positive, got {short_side}")
    if not 1 <= quality <= 100:
        raise DataError(f"--quality must be in 1..100, got {quality}")
    jobs = find_videos(source)
    Path(out).mkdir(parents=True, exist_ok=True)
    return run_jobs(extract_video, jobs, workers=workers, progress=progress, out=os.fspath(out),
                    short_side=short_side, ext=ext, quality=quality)


def count_frames(folder: str | os.PathLike[str]) -> int:
    """Frames of an extracted folder: the marker's count, else the ``img_*`` files in it."""
    folder = Path(folder)
    record = read_marker(folder)
    if record is not None:
        return record["frames"]
    if not folder.is_dir():
        raise DataError(f"{folder}: no frame folder (extract it with 'actioncore data frames')", path=str(folder))
    return sum(1 for p in folder.iterdir() if p.name.startswith("img_"))
