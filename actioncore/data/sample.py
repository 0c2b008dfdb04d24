"""The record that flows through a data pipeline, one per dataset item."""
from __future__ import annotations

from typing import Any

import attrs
import numpy as np


@attrs.define(eq=False)
class VideoSample:
    """One dataset item on its way from an annotation line to a uint8 clip.

    Steps of a pipeline fill it in order: a sampler sets ``frame_indices``, ``decode`` sets
    ``frames`` (uint8 ``[N, H, W, 3]``, N = ``num_clips * clip_len`` in sampling order), geometric
    transforms record a pending ``geometry`` that is applied once, in one resample, before the
    first step that needs pixels.
    """

    source: str
    """Video file or frame folder, as an absolute or root-joined path."""
    label: int | tuple[int, ...] | None = None
    index: int = -1
    """Position of the item in its dataset (for error messages and per-sample outputs)."""
    num_frames: int | None = None
    """Frames in the video, when the annotation or the decoder knows it."""
    start_index: int = 0
    """Index of the first frame on disk (1 for MMAction2's ``img_00001.jpg`` folders)."""
    fps: float | None = None
    frame_indices: np.ndarray | None = None
    """int64 ``[num_clips, clip_len]`` frame indices, 0-based in presentation order."""
    num_clips: int = 1
    clip_len: int = 1
    num_crops: int = 1
    frames: Any = None
    """uint8 torch tensor ``[num_crops * N, H, W, 3]`` once decoded."""
    geometry: Any = None
    """Pending geometric transform (see ``actioncore.data.geometry``); None is identity."""
    boxes: list[np.ndarray] | None = None
    """Person boxes per sampled frame (row-major like ``frames``): float32 ``[K, 4]`` arrays
    ``(x1, y1, x2, y2)`` in pixels of ``frames`` as they are now; the pipeline maps them through
    the pending ``geometry`` when it resamples, so they stay aligned with the pixels."""
    person_mask: Any = None
    """uint8 ``{0, 1}`` torch tensor ``[N, H, W]`` aligned with ``frames`` (the union of the
    frame's person boxes); resampled with the frames, stacked by collate into
    ``batch["person_mask"]``."""
    reader: Any = None
    """The open video (a decoder's reader) while the pipeline runs; None before and after."""
    modality: str = "RGB"
    rng: np.random.Generator = attrs.field(factory=np.random.default_rng)
    shared_frames_rng: np.random.Generator | None = None
    """Where frame samplers draw from instead of ``rng`` when set: the copies of a video under
    repeated augmentation with ``data.sample_once`` get equal ones, so they read the same frames."""
    meta: dict[str, Any] = attrs.field(factory=dict)

    @property
    def frame_rng(self) -> np.random.Generator:
        """The generator frame samplers draw from: ``shared_frames_rng`` when set, else ``rng``."""
        return self.rng if self.shared_frames_rng is None else self.shared_frames_rng
