"""Temporal action detection mAP at temporal IoU thresholds (ActivityNet and THUMOS14 style).

A detection is ``(video, start, end, class name, score)``. Per class and threshold, as the
official ActivityNet evaluation (and MMAction2's ``ActivityNetLocalization`` / 0.24's
``eval_detection``) computes it:

1. the class's detections are sorted by score, highest first;
2. each is matched to the ground-truth segment of its video and class with the highest tIoU that
   is not matched yet at this threshold; a detection whose best unmatched segment has tIoU below
   the threshold, or whose video has no segment of the class, is a false positive;
3. precision and recall along that order give the average precision with VOC's all-point
   interpolation (precision made monotone from the right, summed over recall steps).

mAP is the mean AP over the classes that have ground truth; ActivityNet reports it averaged over
the tIoU thresholds 0.5:0.05:0.95, THUMOS14 at each of 0.3, 0.4, 0.5, 0.6, 0.7.

Proposal models (BMN, BSN) do not classify: their proposals become detections with video-level
class scores (:func:`detections_from_proposals`), the ActivityNet challenge practice of scoring
each proposal once per top-k class of its video.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from actioncore.sdk import DataError

ACTIVITYNET_TIOU = tuple(round(float(t), 2) for t in np.linspace(0.5, 0.95, 10))
THUMOS14_TIOU = (0.3, 0.4, 0.5, 0.6, 0.7)


@attrs.frozen
class Detection:
    video: str
    start: float
    end: float
    label: str
    score: float


def temporal_iou(segment: Sequence[float], segments: np.ndarray) -> np.ndarray:
    """tIoU of one ``(start, end)`` with each row of ``segments`` ``[K, 2]``."""
    inter = (np.minimum(segment[1], segments[:, 1]) - np.maximum(segment[0], segments[:, 0])).clip(0)
    union = (segment[1] - segment[0]) + (segments[:, 1] - segments[:, 0]) - inter
    return inter / np.maximum(union, np.finfo(np.float64).eps)


def interpolated_average_precision(precision: np.ndarray, recall: np.ndarray) -> float:
    """VOC all-point interpolated AP of a precision/recall curve."""
    mprec = np.concatenate([[0.0], precision, [0.0]])
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mprec = np.maximum.accumulate(mprec[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mprec[steps]))


def average_precision(ground_truth: Mapping[str, np.ndarray], detections: Sequence[Detection],
                      thresholds: Sequence[float]) -> np.ndarray:
    """AP ``[len(thresholds)]`` of one class: ``ground_truth`` maps a video to its ``[K, 2]``
    segments of the class, ``detections`` are the class's."""
    positives = sum(len(s) for s in ground_truth.values())
    if positives == 0 or not detections:
        return np.zeros(len(thresholds))
    order = sorted(range(len(detections)), key=lambda i: -detections[i].score)  # stable: ties keep input order
    matched = {video: np.zeros((len(thresholds), len(s)), dtype=bool) for video, s in ground_truth.items()}
    tp = np.zeros((len(thresholds), len(order)))
    for rank, i in enumerate(order):
        det = detections[i]
        segments = ground_truth.get(det.video)
        if segments is None or len(segments) == 0:
            continue
        ious = temporal_iou((det.start, det.end), segments)
        by_iou = np.argsort(-ious, kind="stable")
        for t, threshold in enumerate(thresholds):
            for j in by_iou:
                if ious[j] < threshold:
                    break
                if matched[det.video][t, j]:
                    continue
                matched[det.video][t, j] = True
                tp[t, rank] = 1
                break
    tp_cum = np.cumsum(tp, axis=1)
    fp_cum = np.cumsum(1 - tp, axis=1)
    recall = tp_cum / positives
    precision = tp_cum / (tp_cum + fp_cum)
    return np.array([interpolated_average_precision(precision[t], recall[t]) for t in range(len(thresholds))])


def mean_average_precision(ground_truth: Mapping[str, tuple[np.ndarray, Sequence[str]]],
                           detections: Iterable[Detection], thresholds: Sequence[float]) -> np.ndarray:
    """mAP ``[len(thresholds)]`` over the classes present in ``ground_truth`` (``{video:
    (segments [K, 2], class name of each)}``); detections of other classes count for nothing."""
    per_class_gt: dict[str, dict[str, list]] = {}
    for video, (segments, labels) in ground_truth.items():
        segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
        if len(labels) != len(segments):
            raise DataError(f"video {video!r}: {len(segments)} segments but {len(labels)} labels")
        for segment, label in zip(segments, labels):
            per_class_gt.setdefault(label, {}).setdefault(video, []).append(segment)
    if not per_class_gt:
        raise DataError("detection mAP: the ground truth has no labelled segment")
    per_class_det: dict[str, list[Detection]] = {}
    for det in detections:
        per_class_det.setdefault(det.label, []).append(det)
    aps = [average_precision({v: np.asarray(s) for v, s in videos.items()}, per_class_det.get(label, []), thresholds)
           for label, videos in sorted(per_class_gt.items())]
    return np.mean(aps, axis=0)


def detections_from_proposals(proposals: Mapping[str, np.ndarray], video_scores: Mapping[str, Mapping[str, float]],
                              *, top_k: int = 2) -> list[Detection]:
    """Each proposal ``(start, end, score)`` of a video once per of its ``top_k`` classes, scored
    ``proposal score * class score``.

    :raises DataError: a video with proposals but no class scores.
    """
    out = []
    for video, rows in proposals.items():
        scores = video_scores.get(video)
        if scores is None:
            raise DataError(f"detection mAP: no class scores for video {video!r} in the video scores file")
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:top_k]
        for row in np.asarray(rows, dtype=np.float64).reshape(-1, 3):
            out.extend(Detection(video, float(row[0]), float(row[1]), label, float(row[2]) * score)
                       for label, score in best)
    return out


def read_video_scores(path: str | Path) -> dict[str, dict[str, float]]:
    """``{video_id: {class name: score}}`` from the predictions file ``actioncore test --out``
    writes for a recognizer run on the untrimmed videos (the video id is the file name without
    its suffix and ActivityNet's ``v_`` prefix; every class's score when the file has the
    ``scores`` rows and ``classes``, else its top 5).

    :raises DataError: an unreadable file, or samples without class names.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text())
        samples = document["samples"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a predictions file of 'actioncore test --out' ({exc})", path=str(path)) from None
    classes = document.get("classes")
    out: dict[str, dict[str, float]] = {}
    for sample in samples:
        video = Path(str(sample.get("source", ""))).stem
        video = video[2:] if video.startswith("v_") else video
        row = sample.get("scores")
        if row is not None and classes is not None and len(row) == len(classes):
            out[video] = {name: float(score) for name, score in zip(classes, row)}
            continue
        ranked = sample.get("predictions") or []
        if ranked and "name" not in ranked[0]:
            raise DataError(f"{path}: sample {video!r} has class indices without names; run 'actioncore test' "
                            "with task.classes set", path=str(path))
        out[video] = {entry["name"]: float(entry["score"]) for entry in ranked}
    return out


class DetectionMAP:
    """Metric component ``mAP@tIoU``: ``metric(ground_truth, detections) -> {mAP@t..., average_mAP}``.

    :param temporal_iou_thresholds: ActivityNet's 0.5:0.05:0.95 by default; THUMOS14 reports
        0.3, 0.4, 0.5, 0.6, 0.7.
    :param video_scores: for proposal models, the predictions file of a recognizer on the same
        videos (``actioncore test --out``); each proposal becomes a detection per top-k class.
    :param top_k: classes per video for ``video_scores``.
    """

    name = "mAP@tIoU"

    def __init__(self, *, temporal_iou_thresholds: list[float] = list(ACTIVITYNET_TIOU),
                 video_scores: str | None = None, top_k: int = 2):
        if not temporal_iou_thresholds or not all(0.0 < t <= 1.0 for t in temporal_iou_thresholds):
            raise ValueError(f"temporal_iou_thresholds must be in (0, 1], got {temporal_iou_thresholds}")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        self.thresholds = tuple(float(t) for t in temporal_iou_thresholds)
        self.video_scores = video_scores
        self.top_k = top_k

    def detections(self, proposals: Mapping[str, np.ndarray]) -> list[Detection]:
        if self.video_scores is None:
            raise DataError("mAP@tIoU: the model gives class-agnostic proposals; set the metric's video_scores "
                            "to a recognizer's predictions file ('actioncore test --out') on the same videos")
        return detections_from_proposals(proposals, read_video_scores(self.video_scores), top_k=self.top_k)

    def __call__(self, ground_truth: Mapping[str, tuple[np.ndarray, Sequence[str]]],
                 detections: Iterable[Detection]) -> dict[str, float]:
        maps = mean_average_precision(ground_truth, detections, self.thresholds)
        metrics = {f"mAP@{t:g}": float(m) for t, m in zip(self.thresholds, maps)}
        metrics["average_mAP"] = float(maps.mean())
        return metrics

    def __repr__(self) -> str:
        return f"DetectionMAP(thresholds={list(self.thresholds)})"


__all__ = ["ACTIVITYNET_TIOU", "THUMOS14_TIOU", "Detection", "DetectionMAP", "average_precision",
           "detections_from_proposals", "interpolated_average_precision", "mean_average_precision",
           "read_video_scores", "temporal_iou"]
