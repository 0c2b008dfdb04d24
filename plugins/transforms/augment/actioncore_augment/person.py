"""Person boxes in a pipeline: ``person_boxes`` loads them, ``person_mask`` renders them,
``scene_cutout`` blanks everything else.

``person_boxes`` puts the sampled frames' boxes on ``sample.boxes`` in pixels of the decoded
frames; the kernel moves them with every resize, crop and flip (one resample, the boxes mapped
through the same rounded region), so a ``person_mask`` rendered after the crop is aligned with the
pixels, like video-data-aug's ``DetectionLoad -> ResizeWithBox -> RandomResizedCropWithBox ->
FlipWithBox -> BuildHumanMask`` (SEED003 §2.2).
"""
from __future__ import annotations

import functools
import os
from typing import ClassVar

import attrs
import numpy as np
import torch

from actioncore.sdk import ConfigError, DataError
from actioncore.sdk.data import PROBE, VideoSample

from .boxes import PersonBoxes, read_person_boxes
from .frames import clip_frames
from .rand_augment import BOXES_DROPPED, FILL_COLOR

BOX_SLACK_PX = 2.0
"""How far a box may reach past the decoded frame before the file is taken to be for another
resolution (detectors clip to the image; a few pixels cover rounding)."""


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> PersonBoxes:
    return read_person_boxes(path)


def load_cached(path: str) -> PersonBoxes:
    """The box file, read once per process (each loader worker reads it on its first sample)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        raise DataError(f"{path}: no such person-box file", path=path) from None
    return _load(path, mtime)


@attrs.frozen(kw_only=True)
class PersonBoxesStep:
    """Load the boxes of the sampled frames with score ``> min_score`` (video-data-aug's strict ``>``).

    Put it right after ``decode``: boxes are in decoded-frame pixels. A video the file does not list,
    a frame the file lists beyond the video's end, and boxes reaching past the decoded frame (a file
    made for another resolution) are DataErrors naming the box file and the video.
    """

    needs_pixels: ClassVar[bool] = False
    file: str
    min_score: float = 0.4

    def __call__(self, sample: VideoSample) -> VideoSample:
        if sample.frames is None or sample.frame_indices is None:
            raise ConfigError("person_boxes needs decoded frames: put it right after the decode step")
        reader = sample.reader
        height, width = (sample.geometry.source_size if sample.geometry is not None
                         else tuple(int(s) for s in sample.frames.shape[1:3]))
        if reader is not None and (height, width) != (reader.height, reader.width):
            raise ConfigError("person_boxes must come right after decode, before any step that resamples the "
                              f"frames (they are {width}x{height}, the video {reader.width}x{reader.height})")
        if sample.meta.get(PROBE):  # info / bench model: shapes only, no box file needed
            sample.boxes = [np.zeros((0, 4), np.float32) for _ in range(sample.frame_indices.size)]
            return sample
        boxes = load_cached(self.file)
        key = boxes.key_for(sample.source)
        indices = sample.frame_indices.reshape(-1) + sample.meta.get("frame_offset", 0)
        listed = boxes.frames(key)
        if sample.num_frames is not None and len(listed) and listed[-1] >= sample.num_frames:
            raise DataError(f"{self.file}: video {key!r} has boxes for frame {int(listed[-1])}, but the video "
                            f"({sample.source}) has {sample.num_frames} frames (0-based indices)", path=self.file)
        if sample.num_frames is not None and (indices >= sample.num_frames).any():
            raise DataError(f"{sample.source}: sampled frame {int(indices.max())} is beyond the video's "
                            f"{sample.num_frames} frames (boxes from {self.file})", path=sample.source)
        every = boxes.all_boxes(key)
        reach = max(float(every[:, 2].max()) - width, float(every[:, 3].max()) - height) if len(every) else 0.0
        if reach > BOX_SLACK_PX:
            raise DataError(f"{self.file}: boxes of video {key!r} reach past its {width}x{height} decoded frames "
                            f"(by {reach:.0f} px): a box file for another frame size?", path=self.file)
        rows = boxes.lookup(key, indices)
        sample.boxes = [np.ascontiguousarray(r[r[:, 4] > self.min_score, :4]) for r in rows]
        return sample

    def __repr__(self) -> str:
        return f"PersonBoxes(file={self.file!r}, min_score={self.min_score})"


def _boxes(sample: VideoSample, step: str) -> list[np.ndarray]:
    if sample.boxes is None:
        dropped = sample.meta.get(BOXES_DROPPED)
        if dropped:
            raise ConfigError(f"{step} after {dropped}: person boxes cannot follow rotations and shears; "
                              f"put {step} before rand_augment")
        raise ConfigError(f"{step} needs person boxes: put a person_boxes step (after decode) before it")
    return sample.boxes


def box_union(boxes: list[np.ndarray], height: int, width: int) -> torch.Tensor:
    """uint8 ``[N, H, W]``: 1 inside any of the frame's boxes, as video-data-aug renders them
    (coordinates truncated to int, ``[y1:y2, x1:x2]``)."""
    mask = torch.zeros((len(boxes), height, width), dtype=torch.uint8)
    for n, rows in enumerate(boxes):
        for x1, y1, x2, y2 in rows.astype(np.int64).tolist():
            mask[n, max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = 1
    return mask


@attrs.frozen(kw_only=True)
class PersonMask:
    """Render ``sample.person_mask``: the union of each frame's boxes; all ones when the whole clip
    has no box (video-data-aug's BuildHumanMask: such a clip counts as all person)."""

    needs_pixels: ClassVar[bool] = True

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = clip_frames(sample, "person_mask")
        boxes = _boxes(sample, "person_mask")
        height, width = int(frames.shape[1]), int(frames.shape[2])
        if sum(len(b) for b in boxes) == 0:
            sample.person_mask = torch.ones((len(boxes), height, width), dtype=torch.uint8)
        else:
            sample.person_mask = box_union(boxes, height, width)
        return sample


@attrs.frozen(kw_only=True)
class SceneCutout:
    """Replace every pixel outside the frame's person boxes with ``fill`` (SEED003 §2.5); a clip
    without any box is left as it is. The original requires the fill; its configs' mean pixel is
    the default here."""

    needs_pixels: ClassVar[bool] = True
    fill: tuple[int, int, int] = FILL_COLOR

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = clip_frames(sample, "scene_cutout")
        boxes = _boxes(sample, "scene_cutout")
        if sum(len(b) for b in boxes) == 0:
            return sample
        keep = box_union(boxes, int(frames.shape[1]), int(frames.shape[2])).bool()[..., None]
        fill = torch.tensor(self.fill, dtype=torch.uint8)
        sample.frames = torch.where(keep, frames, fill)
        return sample
