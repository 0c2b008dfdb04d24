"""Frame-mAP at an IoU threshold: the AVA evaluation as MMAction2 1.2.0's ``ava_eval`` computes it.

Each keyframe (image key) of the ground truth is one image of a PASCAL VOC-style evaluation:

1. Keyframes are the ground truth's, in file order; excluded keyframes are left out entirely
   (their detections and their ground truth), and detections of keyframes without ground truth
   are ignored (MMAction2's ``ignore_empty_frames=True``).
2. In each keyframe the detections are ordered by descending score (ties keep file order). For
   each action class, every detection of that class takes the ground-truth box of the same class
   it overlaps most (the first such box on equal IoU); it is a true positive if that IoU is
   >= the threshold and no earlier detection took that box, else a false positive.
3. Per class, the detections of all keyframes are ranked by score (float32, NumPy's default
   ``argsort`` as MMAction2, so tied scores rank alike), precision is made non-increasing and
   AP is the area under the precision/recall steps (VOCdevkit's definition).
4. The mean is over the classes that have at least one detection and at least one ground-truth
   box; a class that no detection names is left out of the mean, as in MMAction2.

Boxes and scores are read as float32 and IoU is computed with the same float32/float64 steps as
the reference, so a result equals MMAction2's to rounding (checked to 1e-6 by
``benchmarks/parity/ava_map.py``). One deliberate difference: MMAction2 counts ground-truth
boxes of excluded keyframes in a class's number of positives; here excluded keyframes are never
evaluated. AVA's own excluded keyframes have no ground truth, so the numbers agree on AVA.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .annotations import ActionBoxes, LabelMap, image_key

AVA_GROUPS = {
    "person_movement": lambda i: i <= 14,
    "object_manipulation": lambda i: 14 < i < 64,
    "person_interaction": lambda i: i >= 64,
}
"""AVA's three action groups by label-map id, as MMAction2 reports them."""


def _iou_pairs(det: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of paired float32 boxes ``[P, 4]``, with the reference's dtype steps.

    Areas stay float32; the clipped intersection sides become float64 (the reference clips
    against a float64 zero array), so the union and the ratio are float64.
    """
    width = np.maximum(np.zeros(len(det)), np.minimum(det[:, 2], gt[:, 2]) - np.maximum(det[:, 0], gt[:, 0]))
    height = np.maximum(np.zeros(len(det)), np.minimum(det[:, 3], gt[:, 3]) - np.maximum(det[:, 1], gt[:, 1]))
    intersection = height * width
    area_det = (det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])
    area_gt = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return intersection / (area_det + area_gt - intersection)


def average_precision(scores: np.ndarray, true_positive: np.ndarray, num_gt: int) -> float:
    """VOC average precision of one class: NaN without ground truth, 0 without detections."""
    if num_gt == 0:
        return float("nan")
    if scores.size == 0:
        return 0.0
    order = np.argsort(scores)[::-1]
    hits = true_positive.astype(int)[order]
    tp = np.cumsum(hits)
    fp = np.cumsum(1 - hits)
    precision = np.concatenate([[0.0], tp.astype(float) / (tp + fp), [0.0]])
    recall = np.concatenate([[0.0], tp.astype(float) / num_gt, [1.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.where(recall[1:] != recall[:-1])[0] + 1
    return float(np.sum((recall[steps] - recall[steps - 1]) * precision[steps]))


def _match(det_group: np.ndarray, det_boxes: np.ndarray, gt_group: np.ndarray, gt_boxes: np.ndarray,
           threshold: float) -> np.ndarray:
    """True-positive flags of detections (already in evaluation order) against ground truth of
    the same group (keyframe x class), greedily, each ground-truth box matched at most once."""
    order = np.argsort(gt_group, kind="stable")
    gt_sorted = gt_group[order]
    start = np.searchsorted(gt_sorted, det_group, side="left")
    count = np.searchsorted(gt_sorted, det_group, side="right") - start
    total = int(count.sum())
    if total == 0:
        return np.zeros(len(det_group), dtype=bool)
    pair_det = np.repeat(np.arange(len(det_group)), count)
    first_pair = np.cumsum(count) - count
    pair_gt = order[start[pair_det] + np.arange(total) - first_pair[pair_det]]
    iou = _iou_pairs(det_boxes[pair_det], gt_boxes[pair_gt])
    # the reference's argmax: the first maximum, a NaN counting as the maximum
    rank_key = np.where(np.isnan(iou), np.inf, iou)
    pick = np.lexsort((np.arange(total), -rank_key, pair_det))
    has_pairs = count > 0
    best = pick[first_pair[has_pairs]]
    best_iou = np.zeros(len(det_group))
    best_gt = np.full(len(det_group), -1)
    best_iou[has_pairs] = iou[best]
    best_gt[has_pairs] = pair_gt[best]
    with np.errstate(invalid="ignore"):
        ok = best_iou >= threshold
    tp = np.zeros(len(det_group), dtype=bool)
    candidates = np.nonzero(ok)[0]
    _, first = np.unique(best_gt[candidates], return_index=True)  # earliest detection per gt box
    tp[candidates[first]] = True
    return tp


def frame_ap(detections: ActionBoxes, ground_truth: ActionBoxes, *, class_ids: Sequence[int],
             excluded: set[str] = frozenset(), iou_threshold: float = 0.5) -> dict[int, float]:
    """AP per class id (NaN where the class has no ground truth) for the classes detected."""
    allowed = np.asarray(sorted(set(class_ids)), dtype=np.int64)
    gt = ground_truth.select(np.isin(ground_truth.action_id, allowed))
    det = detections.select(np.isin(detections.action_id, allowed))
    gt_keys, det_keys = gt.keys(), det.keys()
    images: dict[str, int] = {}
    for key in gt_keys:
        if key not in excluded and key not in images:
            images[key] = len(images)
    gt_image = np.array([images.get(k, -1) for k in gt_keys], dtype=np.int64)
    det_image = np.array([images.get(k, -1) for k in det_keys], dtype=np.int64)
    gt = gt.select(gt_image >= 0)
    gt_image = gt_image[gt_image >= 0]
    det = det.select(det_image >= 0)
    det_image = det_image[det_image >= 0]

    det_score = det.score.astype(np.float32)
    # keyframe order, then descending score (file order on ties), as the reference reads them
    order = np.lexsort((np.arange(len(det)), -det.score, det_image))
    det_image, det_class, det_score = det_image[order], det.action_id[order], det_score[order]
    det_boxes = det.boxes[order].astype(np.float32)
    width = int(allowed.max()) + 1 if allowed.size else 1
    tp = _match(det_image * width + det_class, det_boxes, gt_image * width + gt.action_id,
                gt.boxes.astype(np.float32), iou_threshold)
    result = {}
    for k in np.unique(det_class):
        mine = det_class == k
        result[int(k)] = average_precision(det_score[mine], tp[mine], int(np.sum(gt.action_id == k)))
    return result


class AvaFrameMAP:
    """Frame-mAP@``iou_threshold`` of AVA detections, overall and per class.

    Called as ``metric(detections, ground_truth, label_map=..., class_ids=..., excluded=...)``
    with :class:`~actioncore_detection.annotations.ActionBoxes` rows; returns
    ``{"mAP@0.5IOU": ..., "AP@0.5IOU/<class name>": ..., "mAP@0.5IOU/<group>": ...}`` (the
    groups are AVA's person movement / object manipulation / person interaction id ranges,
    with ``groups = true`` and a label map that reaches AVA's ids, >= 64). Classes without a value (no detection or no ground truth) are
    left out of the map; with none left the overall value is NaN.
    """

    def __init__(self, *, iou_threshold: float = 0.5, per_class: bool = True, groups: bool = True) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError(f"ava_frame_map: iou_threshold must be in (0, 1], got {iou_threshold}")
        self.iou_threshold = iou_threshold
        self.per_class = per_class
        self.groups = groups

    @property
    def key(self) -> str:
        return f"mAP@{self.iou_threshold:g}IOU"

    def __call__(self, detections: ActionBoxes, ground_truth: ActionBoxes, *, label_map: LabelMap,
                 class_ids: Sequence[int] | None = None, excluded: set[str] = frozenset()) -> dict[str, float]:
        ids = list(label_map.ids if class_ids is None else class_ids)
        ap = frame_ap(detections, ground_truth, class_ids=ids, excluded=excluded,
                      iou_threshold=self.iou_threshold)
        valid = {k: v for k, v in ap.items() if not np.isnan(v)}
        out = {self.key: float(np.mean(list(valid.values()))) if valid else float("nan")}
        if self.groups and max(ids, default=0) >= 64:  # a label map with AVA's ids
            for group, member in AVA_GROUPS.items():
                values = [v for k, v in valid.items() if member(k)]
                if values:
                    out[f"{self.key}/{group}"] = float(np.mean(values))
        if self.per_class:
            prefix = f"AP@{self.iou_threshold:g}IOU"
            for k in sorted(valid):
                out[f"{prefix}/{label_map.name(k)}"] = valid[k]
        return out

    def __repr__(self) -> str:
        return f"AvaFrameMAP(iou_threshold={self.iou_threshold})"


__all__ = ["AVA_GROUPS", "AvaFrameMAP", "average_precision", "frame_ap", "image_key"]
