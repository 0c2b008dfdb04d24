"""Rendered frames to the files a data set holds: H.264 mp4 videos and JPEG frame folders.

Shared by every embedded data set that writes pixels (the kernel's ``recognition`` and
``rawframes``, ``actioncore-detection``'s ``detection``), so that all of them encode alike.

Videos are H.264 (yuv420p) with every frame an IDR frame at constant QP: each decoded frame
then depends on that frame's pixels only. With inter coding the first frame is coded better
than later ones, and "sharp" would mark the start of a clip: a cue a model could learn.
"""
from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

JPEG_QUALITY = 95
"""Saved with 4:4:4 chroma: at 32 px, 4:2:0 would smear the colour of a 1-2 px ring."""
X264_OPTIONS = {"preset": "veryfast", "qp": "18", "threads": "1"}
"""Constant QP, because CRF's rate control sets a frame's quantiser from its neighbours; one
thread, because 32-64 px frames gain nothing from more."""


def write_mp4(frames: np.ndarray | Sequence[np.ndarray], path: Path, *, fps: int) -> Path:
    """Write RGB uint8 frames ``[T, H, W, 3]`` as an intra-only H.264 mp4 at ``fps``; returns ``path``."""
    rate = Fraction(fps)
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.gop_size = 1
        stream.options = dict(X264_OPTIONS)
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.asarray(pixels), format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_jpegs(frames: np.ndarray | Sequence[np.ndarray], folder: Path) -> list[Path]:
    """Write RGB uint8 frames as ``folder/img_00001.jpg ...`` (MMAction2's raw frames) in a new folder."""
    folder.mkdir(parents=True)
    paths = [folder / f"img_{i:05d}.jpg" for i in range(1, len(frames) + 1)]
    for pixels, path in zip(frames, paths):
        Image.fromarray(np.asarray(pixels)).save(path, quality=JPEG_QUALITY, subsampling=0)
    return paths
