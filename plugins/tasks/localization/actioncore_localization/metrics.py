"""AR@AN: average recall of temporal proposals at an average number of proposals per video.

The official ActivityNet proposal evaluation, as MMAction2 1.2.0 computes it
(``average_recall_at_avg_proposals``):

1. ``ratio = max_avg_proposals * num_videos / total_proposals``; each video keeps its
   ``int(n * ratio)`` best-scored proposals (all when ``ratio >= 1``).
2. For the 100 fractions ``p = 1/100 .. 100/100`` of that budget, each video looks at its
   ``int(kept * p * max_avg_proposals * num_videos / total_kept)`` best proposals; a ground-truth
   segment is recalled when one of them has IoU >= the threshold with it.
3. Recall (recalled / all ground-truth segments) is averaged over the IoU thresholds
   (0.5:0.05:0.95); AR@k is that average at the k-th fraction, and the AUC is the area under it
   against the average number of proposals, in percent of the largest.

IoUs are computed in float32 from float32 segments, as there, so results agree to rounding.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

DEFAULT_IOU_THRESHOLDS = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))
REPORTED_AN = (1, 5, 10, 100)

_trapezoid = getattr(np, "trapezoid", None) or np.trapz


@attrs.frozen
class AverageRecall:
    """What :func:`average_recall_at_avg_proposals` computes."""

    recall: np.ndarray
    """``[num_thresholds, 100]``: recall per IoU threshold at each of the 100 budget fractions."""
    average_recall: np.ndarray
    """``[100]``: ``recall`` averaged over the thresholds."""
    proposals_per_video: np.ndarray
    """``[100]``: the average number of proposals per video at each fraction."""
    auc: float
    """Area under ``average_recall`` over ``proposals_per_video``, in percent (0-100)."""


def segment_iou(proposals: np.ndarray, ground_truth: np.ndarray) -> np.ndarray:
    """float32 ``[K, N]`` IoU of each ground-truth segment with each proposal (float32 inputs)."""
    p0, p1 = proposals[None, :, 0], proposals[None, :, 1]
    g0, g1 = ground_truth[:, None, 0], ground_truth[:, None, 1]
    inter = (np.minimum(p1, g1) - np.maximum(p0, g0)).clip(0)
    union = (g1 - g0) + (p1 - p0) - inter
    return (inter.astype(np.float64) / union).astype(np.float32)


def _as_rows(value: Any, columns: int, what: str, video: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, columns))
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] < columns:
        raise ValueError(f"AR@AN: {what} of video {video!r} must be rows of at least {columns} numbers, "
                         f"got shape {list(array.shape)}")
    return array


def average_recall_at_avg_proposals(ground_truth: Mapping[str, Any], proposals: Mapping[str, Any],
                                    total_num_proposals: int | None = None,
                                    max_avg_proposals: float | None = None,
                                    temporal_iou_thresholds: Sequence[float] = DEFAULT_IOU_THRESHOLDS
                                    ) -> AverageRecall:
    """AR@AN over the videos of ``ground_truth``.

    :param ground_truth: ``{video: [K, 2+] rows (start, end, ...)}``.
    :param proposals: ``{video: [N, 3] rows (start, end, score)}``; a video missing here has none.
    :param total_num_proposals: proposals over all videos (default: counted from ``proposals``).
    :param max_avg_proposals: the budget per video (default: the average number there is).
    """
    thresholds = np.asarray(temporal_iou_thresholds, dtype=np.float64)
    videos = list(ground_truth)
    if not videos:
        raise ValueError("AR@AN: no ground-truth videos to evaluate")
    if total_num_proposals is None:
        total_num_proposals = sum(len(_as_rows(proposals[v], 3, "proposals", v)) for v in proposals)
    num_videos = len(videos)
    if not max_avg_proposals:
        max_avg_proposals = float(total_num_proposals) / num_videos
    ratio = max_avg_proposals * float(num_videos) / total_num_proposals if total_num_proposals else 0.0

    # per video: the first retrieved rank matching each gt segment, per threshold ([thr, K]);
    # a segment is recalled among the first k proposals when that rank is < k
    first_hits, retrieved_counts, positives = [], [], 0
    total_retrieved = 0
    for video in videos:
        gt = _as_rows(ground_truth[video], 2, "ground truth", video)[:, :2].astype(np.float32)
        rows = _as_rows(proposals.get(video, ()), 3, "proposals", video)
        order = rows[:, 2].argsort()[::-1]
        ranked = rows[order, :2].astype(np.float32)
        retrieved = min(int(ranked.shape[0] * ratio), ranked.shape[0]) if ranked.shape[0] else 0
        total_retrieved += retrieved
        positives += gt.shape[0]
        # a video without proposals counts as one retrieved slot that matches nothing (MMAction2)
        width = retrieved if ranked.shape[0] else 1
        iou = segment_iou(ranked[:retrieved], gt)
        hits = iou[None] >= thresholds[:, None, None]
        never = np.full(hits.shape[:2], np.iinfo(np.int64).max)
        first = np.where(hits.any(axis=2), hits.argmax(axis=2), never) if hits.shape[2] else never
        first_hits.append(first)
        retrieved_counts.append(width)

    if total_retrieved == 0 or positives == 0:
        zeros = np.zeros((len(thresholds), 100))
        return AverageRecall(zeros, zeros.mean(axis=0), np.zeros(100), 0.0)
    fractions = np.arange(1, 101) / 100.0 * (max_avg_proposals * float(num_videos) / total_retrieved)
    matches = np.zeros((len(thresholds), 100))
    for first, width in zip(first_hits, retrieved_counts):
        budget = np.minimum((width * fractions).astype(np.int32), width)
        matches += (first[:, :, None] < budget[None, None, :]).sum(axis=1)
    recall = matches / positives
    average = recall.mean(axis=0)
    per_video = fractions * (float(total_retrieved) / num_videos)
    auc = 100.0 * float(_trapezoid(average, per_video)) / float(per_video[-1])
    return AverageRecall(recall, average, per_video, auc)


class ARatAN:
    """Metric component ``AR@AN``: ``metric(ground_truth, proposals) -> {auc, AR@1, AR@5, AR@10, AR@100}``.

    ``auc`` is in percent (0-100), the AR@k values are fractions, as MMAction2 reports them.
    """

    def __init__(self, *, max_avg_proposals: int = 100,
                 temporal_iou_thresholds: list[float] = list(DEFAULT_IOU_THRESHOLDS)):
        if max_avg_proposals < 1:
            raise ValueError(f"max_avg_proposals must be at least 1, got {max_avg_proposals}")
        if not temporal_iou_thresholds or not all(0.0 < t <= 1.0 for t in temporal_iou_thresholds):
            raise ValueError(f"temporal_iou_thresholds must be in (0, 1], got {temporal_iou_thresholds}")
        self.max_avg_proposals = max_avg_proposals
        self.temporal_iou_thresholds = tuple(temporal_iou_thresholds)

    def __call__(self, ground_truth: Mapping[str, Any], proposals: Mapping[str, Any]) -> dict[str, float]:
        result = average_recall_at_avg_proposals(ground_truth, proposals,
                                                 max_avg_proposals=self.max_avg_proposals,
                                                 temporal_iou_thresholds=self.temporal_iou_thresholds)
        metrics = {"auc": float(result.auc)}
        metrics.update({f"AR@{k}": float(result.recall[:, k - 1].mean()) for k in REPORTED_AN})
        return metrics

    def __repr__(self) -> str:
        return f"ARatAN(max_avg_proposals={self.max_avg_proposals})"


METRICS = {"AR@AN": ARatAN}
