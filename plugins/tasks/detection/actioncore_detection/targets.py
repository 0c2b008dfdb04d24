"""What one AVA keyframe carries through the data pipeline and into a batch."""
from __future__ import annotations

import attrs
import numpy as np


@attrs.frozen
class Clock:
    """How a timestamp becomes a frame index (MMAction2's AVA arithmetic)."""

    fps: int = 30
    timestamp_start: int = 900
    start_index: int = 1
    shot_frames: int | None = 27000
    """Frames of the annotated span, ``(timestamp_end - timestamp_start) * fps`` for frame
    folders; None for videos (their own frame count)."""


@attrs.define(eq=False)
class Keyframe:
    """One annotated keyframe as the dataset parsed it; boxes normalised to [0, 1]."""

    video_id: str
    timestamp: int
    clock: Clock
    proposals: np.ndarray
    """float32 ``[P, 4]`` person boxes to score (after ``person_det_score_thr``)."""
    proposal_scores: np.ndarray
    """float32 ``[P]`` person-detector scores."""
    gt_boxes: np.ndarray
    """float32 ``[G, 4]`` annotated people."""
    gt_labels: np.ndarray
    """float32 ``[G, num_classes]`` multi-hot actions of each person (column 0 unused)."""


@attrs.define(eq=False)
class KeyframeTargets:
    """A prepared keyframe as the task receives it in ``batch["labels"]``.

    Pixel boxes are in the transformed clip's coordinates; ``proposals_normalised`` are the
    proposals as the files give them, which results are written with.
    """

    video_id: str
    timestamp: int
    img_shape: tuple[int, int]
    """(height, width) of the transformed clip."""
    proposals: np.ndarray
    proposals_normalised: np.ndarray
    proposal_scores: np.ndarray
    gt_boxes: np.ndarray
    gt_labels: np.ndarray
    sampling_seed: int
    """Seeds the training RoI sampler, drawn from the sample's own generator so that a run and
    its resumption sample the same RoIs."""
