"""The ``person_boxes`` converter: video-data-aug's pickled ``detections.npy`` to a box npz, once.

``actioncore data convert person_boxes detections.npy OUT.npz --trust-pickle`` reads
``np.load(..., allow_pickle=True).item()``: ``{video: {1-based frame: ndarray (N, >= 5)}}`` with
rows ``[x1, y1, x2, y2, ..., score]`` (the last column is the score, SEED003 §6.3), and writes the
npz person-box format (0-based frames, rows ``[x1, y1, x2, y2, score]``). Without
``--trust-pickle`` it refuses: unpickling can run arbitrary code. Keys are kept as they are (UCF
and HMDB: frame-folder basenames; the original's Kinetics file is keyed by the 11-character
YouTube id, which matches videos named by that id only).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from actioncore.sdk import DataError
from actioncore.sdk.data import load_trusted_npy

from .boxes import write_person_boxes


def _frames(video: str, frames: Any, source: Path) -> dict[int, np.ndarray]:
    if not isinstance(frames, Mapping):
        raise DataError(f"{source}: video {video!r}: expected a dict of 1-based frame -> boxes, got "
                        f"{type(frames).__name__}", path=str(source))
    out = {}
    for frame, rows in frames.items():
        where = f"{source}: video {video!r} frame {frame!r}"
        try:
            number = int(frame)
        except (TypeError, ValueError):
            raise DataError(f"{where}: frame keys must be 1-based frame numbers", path=str(source)) from None
        if number < 1:
            raise DataError(f"{where}: frame numbers are 1-based (img_00001.jpg is 1)", path=str(source))
        rows = np.asarray(rows, dtype=np.float32)
        if rows.size == 0:
            out[number - 1] = np.zeros((0, 5), np.float32)
            continue
        if rows.ndim != 2 or rows.shape[1] < 5:
            raise DataError(f"{where}: expected an (N, >=5) array [x1, y1, x2, y2, ..., score], got "
                            f"shape {rows.shape}", path=str(source))
        out[number - 1] = np.concatenate([rows[:, :4], rows[:, -1:]], axis=1)
    return out


def convert_person_boxes(source: Path, target: Path, *, trust_pickle: bool) -> dict[str, Any]:
    """Convert ``detections.npy`` to ``target`` (``.npz``, or ``.json``); returns what was written."""
    data = load_trusted_npy(source, trust=trust_pickle, what="video-data-aug person detections")
    if not isinstance(data, Mapping) or not data:
        raise DataError(f"{source}: expected a non-empty dict {{video: {{1-based frame: boxes}}}}, got "
                        f"{type(data).__name__}", path=str(source))
    videos = {str(video): _frames(str(video), frames, source) for video, frames in data.items()}
    written = write_person_boxes(target, videos)
    return {"out": str(written), "videos": len(videos), "frames": sum(len(v) for v in videos.values()),
            "boxes": int(sum(len(b) for v in videos.values() for b in v.values()))}
