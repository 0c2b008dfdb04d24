"""SSN's proposal assignment: foreground, incomplete and background proposals, regression targets.

MMAction2 0.24's ``SSNDataset`` (``get_positives``, ``get_negatives``,
``SSNInstance.compute_regression_targets``, ``_compute_reg_normalize_constants``), with the
thresholds of its THUMOS14 configs as defaults:

- foreground (type 0): ``best_iou > positive_iou_threshold`` (0.7), plus every ground-truth
  instance when ``add_gt_as_proposals``;
- incomplete (type 1): ``best_iou < incomplete_iou_threshold`` (0.3) and ``overlap_self >
  incomplete_overlap_threshold`` (0.01): mostly inside an action but covering little of it;
- background (type 2), only if not incomplete: ``best_iou < background_iou_threshold`` (0.01)
  and coverage (length / video length, the length before clipping to the video, as 0.24 has it)
  ``> background_coverage_threshold`` (0.02).

A foreground proposal regresses to the ground truth it overlaps most: the centre shift in
proposal lengths and the log length ratio, normalised by the mean and std of those targets over
the file's foreground proposals (ground truths left out).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np

from .proposal_file import Instance, VideoProposals

FOREGROUND, INCOMPLETE, BACKGROUND = 0, 1, 2


@attrs.frozen(kw_only=True)
class Assigner:
    """0.24's ``train_cfg.ssn.assigner`` (THUMOS14 values)."""

    positive_iou_threshold: float = 0.7
    background_iou_threshold: float = 0.01
    incomplete_iou_threshold: float = 0.3
    background_coverage_threshold: float = 0.02
    incomplete_overlap_threshold: float = 0.01


@attrs.frozen
class Candidate:
    """A proposal ready to be sampled: where it comes from and its (raw) regression targets."""

    video_id: str
    num_frames: int
    instance: Instance
    targets: tuple[float, float] = (0.0, 0.0)


def frame_iou(start: int, end: int, gt_start: int, gt_end: int) -> float:
    """tIoU of two frame intervals (0.24's ``temporal_iou``)."""
    inter = max(min(end, gt_end) - max(start, gt_start), 0)
    union = (end - start) - inter + (gt_end - gt_start)
    return inter / union


def regression_targets(proposal: Instance, gts: Sequence[Instance]) -> tuple[float, float]:
    """``(centre shift / proposal length, log(gt length / proposal length))`` to the best gt."""
    ious = [frame_iou(proposal.start, proposal.end, g.start, g.end) for g in gts]
    best = gts[int(np.argmax(ious))]
    size = proposal.end - proposal.start
    centre = (proposal.start + proposal.end - 1) / 2
    gt_centre = (best.start + best.end - 1) / 2
    return (gt_centre - centre) / size, math.log((best.end - best.start) / size)


def positives(video: VideoProposals, assigner: Assigner, *, with_gt: bool) -> list[Candidate]:
    """Foreground proposals of a video (its ground truths too ``with_gt``), with targets."""
    chosen = [p for p in video.proposals if p.best_iou > assigner.positive_iou_threshold]
    if with_gt:
        chosen += video.gts
    return [Candidate(video.video_id, video.num_frames, p, regression_targets(p, video.gts)) for p in chosen]


def negatives(video: VideoProposals, assigner: Assigner) -> tuple[list[Candidate], list[Candidate]]:
    """``(incomplete, background)`` proposals of a video."""
    incomplete, background = [], []
    for p in video.proposals:
        coverage = p.file_length / video.num_frames  # 0.24: the unclipped length
        if p.best_iou < assigner.incomplete_iou_threshold and p.overlap_self > assigner.incomplete_overlap_threshold:
            incomplete.append(Candidate(video.video_id, video.num_frames, p))
        elif p.best_iou < assigner.background_iou_threshold and coverage > assigner.background_coverage_threshold:
            background.append(Candidate(video.video_id, video.num_frames, p))
    return incomplete, background


def normalize_constants(videos: Sequence[VideoProposals], assigner: Assigner) -> np.ndarray | None:
    """``[[mean_loc, mean_size], [std_loc, std_size]]`` over the foreground proposals (no gts);
    None when there are none."""
    targets = [c.targets for v in videos for c in positives(v, assigner, with_gt=False)]
    if not targets:
        return None
    array = np.asarray(targets, dtype=np.float64)
    return np.stack([array.mean(axis=0), array.std(axis=0)])


@attrs.frozen(kw_only=True)
class PerVideo:
    """0.24's ``train_cfg.ssn.sampler``: proposals per video and the shares of each type."""

    num_per_video: int = 8
    positive_ratio: float = 1
    background_ratio: float = 1
    incomplete_ratio: float = 6
    add_gt_as_proposals: bool = True

    def counts(self) -> tuple[int, int, int]:
        """``(foreground, incomplete, background)`` per video: 1, 6, 1 for the defaults."""
        total = self.positive_ratio + self.background_ratio + self.incomplete_ratio
        foreground = int(self.num_per_video * (self.positive_ratio / total))
        background = int(self.num_per_video * (self.background_ratio / total))
        return foreground, self.num_per_video - foreground - background, background
