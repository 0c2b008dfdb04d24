"""ActivityNet annotation JSON (MMAction2's layout) into one :class:`VideoAnnotation` per video.

The file maps each video name to ``duration_second``, ``duration_frame``, ``feature_frame``,
``fps`` and ``annotations`` (a list of ``{"segment": [start_s, end_s], "label": name}``). Every
problem raises :class:`~actioncore.errors.DataError` naming the file, the video and the key.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from actioncore.sdk import DataError

REQUIRED_KEYS = ("duration_second", "duration_frame", "feature_frame", "fps", "annotations")

SEGMENT_TOLERANCE_S = 1e-3
"""By default a segment may end this far past ``duration_second`` (rounding in the published files)."""


def _segments_converter(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64).reshape(-1, 2)


@attrs.frozen(eq=False)
class VideoAnnotation:
    """One untrimmed video: its durations and ground-truth action segments (in seconds)."""

    video_name: str
    duration_second: float
    duration_frame: int
    feature_frame: int
    """Frames covered by the extracted features (at most ``duration_frame``)."""
    fps: float
    segments: np.ndarray = attrs.field(converter=_segments_converter)
    """float64 ``[K, 2]`` (start, end) in seconds."""
    labels: tuple[str, ...] = ()
    """Class name of each segment."""

    @property
    def video_id(self) -> str:
        """The name without ActivityNet's ``v_`` prefix: the key of result and ground-truth files."""
        return self.video_name[2:] if self.video_name.startswith("v_") else self.video_name

    @property
    def feature_second(self) -> float:
        """Seconds covered by the features: segments are normalised by this, as in MMAction2."""
        return float(self.feature_frame) / self.duration_frame * self.duration_second

    def gt_bbox(self) -> np.ndarray:
        """float64 ``[K, 2]`` segments as fractions of :attr:`feature_second`, clipped to [0, 1]
        (MMAction2's ``GenerateLocalizationLabels``; float64 as there, so targets match bit for bit)."""
        return np.clip(self.segments / self.feature_second, 0.0, 1.0)


def _number(ann_file: str, video: str, key: str, value: Any, *, integer: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok or (integer and float(value) != int(value)):
        kind = "a positive integer" if integer else "a positive number"
        raise DataError(f"{ann_file}: video {video!r}: '{key}' must be {kind}, got {value!r}", path=ann_file)
    return int(value) if integer else float(value)


def parse_video(ann_file: str, video: str, info: Any, *, tolerance: float = SEGMENT_TOLERANCE_S) -> VideoAnnotation:
    """One entry of the JSON, checked: keys present, numbers positive, segments inside the video."""
    if not isinstance(info, Mapping):
        raise DataError(f"{ann_file}: video {video!r}: expected an object, got {type(info).__name__}",
                        path=ann_file)
    missing = [k for k in REQUIRED_KEYS if k not in info]
    if missing:
        raise DataError(f"{ann_file}: video {video!r} has no key {', '.join(repr(k) for k in missing)} "
                        f"(each video needs {', '.join(REQUIRED_KEYS)})", path=ann_file)
    duration = _number(ann_file, video, "duration_second", info["duration_second"])
    frames = _number(ann_file, video, "duration_frame", info["duration_frame"], integer=True)
    feature_frames = _number(ann_file, video, "feature_frame", info["feature_frame"], integer=True)
    fps = _number(ann_file, video, "fps", info["fps"])
    items = info["annotations"]
    if not isinstance(items, list):
        raise DataError(f"{ann_file}: video {video!r}: 'annotations' must be a list", path=ann_file)
    segments, labels = [], []
    for i, item in enumerate(items):
        where = f"{ann_file}: video {video!r}: annotations[{i}]"
        if not isinstance(item, Mapping) or "segment" not in item or "label" not in item:
            raise DataError(f"{where} needs the keys 'segment' and 'label'", path=ann_file)
        segment = item["segment"]
        if (not isinstance(segment, list) or len(segment) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                           for v in segment)):
            raise DataError(f"{where}.segment must be [start, end] in seconds, got {segment!r}", path=ann_file)
        start, end = float(segment[0]), float(segment[1])
        if not 0.0 <= start < end <= duration + tolerance:
            raise DataError(f"{where}.segment [{start}, {end}] is outside the video (0 to {duration} s) "
                            "or empty", path=ann_file)
        segments.append((start, end))
        labels.append(str(item["label"]))
    return VideoAnnotation(video_name=str(video), duration_second=duration, duration_frame=frames,
                           feature_frame=feature_frames, fps=fps, segments=np.asarray(segments, np.float64),
                           labels=tuple(labels))


def read_activitynet(ann_file: str | os.PathLike[str], *,
                     tolerance: float = SEGMENT_TOLERANCE_S) -> list[VideoAnnotation]:
    """Every video of an ActivityNet annotation JSON, in file order.

    :param tolerance: seconds a segment may end past ``duration_second`` before it is an error
        (training targets clip segments to the video either way, as MMAction2 does).
    """
    ann_file = str(ann_file)
    try:
        database = json.loads(Path(ann_file).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{ann_file}: annotation file not found (relative paths start at {os.getcwd()})",
                        path=ann_file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ann_file}: cannot read the annotation file: {exc}", path=ann_file) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{ann_file}: not valid JSON: {exc}", path=ann_file) from None
    if not isinstance(database, Mapping):
        raise DataError(f"{ann_file}: expected a JSON object mapping video names to their annotation",
                        path=ann_file)
    return [parse_video(ann_file, video, info, tolerance=tolerance) for video, info in database.items()]
