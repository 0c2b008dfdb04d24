"""What an SSN sample carries as its label: the video's proposal pools, then the sampled targets.

The dataset gives each frame folder an :class:`SSNVideo` (its pools plus the data set's shared
:class:`ProposalPools`); the ``sample_proposal_frames`` step replaces it, per sample, with an
:class:`SSNTrainTarget` (training) or an :class:`SSNTestInfo` (test), which the model's
``loss`` / ``detections`` read from the batch's ``labels``.
"""
from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from .assign import Candidate, PerVideo
from .proposal_file import VideoProposals


def class_name(label: int, class_names: Sequence[str] | None) -> str:
    """The name of 1-based class ``label``: ``class_names[label - 1]``, else the number."""
    return class_names[label - 1] if class_names else str(label)


@attrs.frozen(eq=False)
class ProposalPools:
    """Data-set-wide state of 0.24's ``SSNDataset``: the pools a video with none of a type draws
    from, the regression normalisation and the per-video counts."""

    foreground: tuple[Candidate, ...]
    incomplete: tuple[Candidate, ...]
    background: tuple[Candidate, ...]
    reg_norm_consts: np.ndarray
    per_video: PerVideo
    video_centric: bool
    class_names: tuple[str, ...] | None
    ann_file: str


@attrs.frozen(eq=False)
class SSNVideo:
    """A video of the proposal file with its own foreground / incomplete / background proposals."""

    video: VideoProposals
    foreground: tuple[Candidate, ...]
    incomplete: tuple[Candidate, ...]
    background: tuple[Candidate, ...]
    pools: ProposalPools

    @property
    def video_id(self) -> str:
        return self.video.video_id

    @property
    def segments(self) -> np.ndarray:
        """Ground truth ``[K, 2]`` in frames (the unit detections are given in)."""
        return np.asarray([(g.start, g.end) for g in self.video.gts], dtype=np.float64).reshape(-1, 2)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(class_name(g.label, self.pools.class_names) for g in self.video.gts)


@attrs.frozen(eq=False)
class SSNTrainTarget:
    """The sampled proposals of one training sample, in sampling order (foreground, incomplete,
    background), as 0.24's ``SSNDataset.prepare_train_frames`` makes them."""

    video_id: str
    types: np.ndarray
    """int64 ``[P]``: 0 foreground, 1 incomplete, 2 background."""
    labels: np.ndarray
    """int64 ``[P]``: 1-based class (the proposal's), 0 for background."""
    reg_targets: np.ndarray
    """float32 ``[P, 2]``: normalised for foreground proposals, raw (zeros) otherwise."""
    scale_factors: np.ndarray
    """float32 ``[P, 2]``: the share of the starting / ending augmentation inside the video."""


@attrs.frozen(eq=False)
class SSNTestInfo:
    """What test-time pooling needs about a video's proposals (0.24's ``prepare_test_frames``)."""

    video_id: str
    num_frames: int
    relative_proposals: np.ndarray
    """float32 ``[N, 2]``: proposals as fractions of the video."""
    proposal_ticks: np.ndarray
    """int32 ``[N, 4]``: augmented start, start, end, augmented end, in sampled-frame ticks."""
    scale_factors: np.ndarray
    """float32 ``[N, 2]``."""
    reg_norm_consts: np.ndarray
    """``[2, 2]``: mean and std of the (location, size) regression targets."""
    segments: np.ndarray
    """Ground truth ``[K, 2]`` in frames."""
    labels: tuple[str, ...]
    class_names: tuple[str, ...] | None
