"""From scored candidate proposals to a video's final list: soft-NMS, top-k, seconds.

Both functions follow MMAction2 1.2.0 (``soft_nms`` and ``post_processing``) step for step, so
the proposals, and the AR@AN computed from them, are the same.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .labels import temporal_iou


def soft_nms(proposals: np.ndarray, alpha: float, low_threshold: float, high_threshold: float,
             top_k: int) -> np.ndarray:
    """Gaussian soft-NMS over rows ``[tmin, tmax, ..., score]`` (normalised times).

    Repeatedly keeps the best remaining proposal and decays the score of every other one whose
    IoU with it exceeds ``low + (high - low) * width`` of the kept one by ``exp(-iou^2 / alpha)``
    (a width-adaptive threshold: long proposals suppress less). Stops after ``top_k + 1`` kept
    rows, as MMAction2 does. Returns ``[M, 3]`` rows ``(tmin, tmax, decayed score)`` in the order
    kept.
    """
    proposals = np.asarray(proposals, dtype=np.float64)
    order = proposals[:, -1].argsort()[::-1]
    start, end, score = (proposals[order, 0].copy(), proposals[order, 1].copy(), proposals[order, -1].copy())
    kept: list[tuple[float, float, float]] = []
    while score.size > 0 and len(kept) <= top_k:
        best = int(np.argmax(score))
        width = end[best] - start[best]
        iou = temporal_iou(start[best], end[best], start, end)
        decay = np.exp(-np.square(iou) / alpha)
        suppress = iou > low_threshold + (high_threshold - low_threshold) * width
        suppress[best] = False
        score = np.where(suppress, score * decay, score)
        kept.append((start[best], end[best], score[best]))
        start, end, score = np.delete(start, best), np.delete(end, best), np.delete(score, best)
    return np.asarray(kept, dtype=np.float64).reshape(-1, 3)


def covered_duration(annotation: Any, feature_extraction_interval: int = 16) -> float:
    """Seconds that the normalised time axis spans: the frames in whole feature windows."""
    frames = annotation.duration_frame
    return float(frames // feature_extraction_interval * feature_extraction_interval) / frames \
        * annotation.duration_second


def post_process(candidates: np.ndarray, annotation: Any, *, soft_nms_alpha: float,
                 soft_nms_low_threshold: float, soft_nms_high_threshold: float,
                 post_process_top_k: int, feature_extraction_interval: int = 16) -> np.ndarray:
    """A video's final proposals: float64 ``[N <= top_k, 3]`` rows ``(start_s, end_s, score)``.

    :param candidates: rows ``[tmin, tmax, ..., score]`` in normalised time (the last column is
        the score); soft-NMS runs when there are at least two.
    :param annotation: the video's :class:`VideoAnnotation` (``duration_frame``, ``duration_second``).
    """
    result = np.asarray(candidates, dtype=np.float64)
    if result.ndim != 2 or result.shape[0] == 0:
        return np.zeros((0, 3))
    if len(result) > 1:
        result = soft_nms(result, soft_nms_alpha, soft_nms_low_threshold, soft_nms_high_threshold,
                          post_process_top_k)
    result = result[result[:, -1].argsort()[::-1]][:post_process_top_k]
    duration = covered_duration(annotation, feature_extraction_interval)
    starts = np.maximum(0.0, result[:, 0]) * duration
    ends = np.minimum(1.0, result[:, 1]) * duration
    return np.stack([starts, ends, result[:, -1]], axis=1)
