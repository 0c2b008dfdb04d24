"""Box arithmetic of the detection task: IoU, MMAction2's AVA assigner and random RoI sampler."""
from __future__ import annotations

import attrs
import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU ``[len(a), len(b)]`` of ``(x1, y1, x2, y2)`` boxes (no +1 pixel convention,
    as mmdet's ``bbox_overlaps``); a pair with zero union has IoU 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@attrs.frozen(kw_only=True)
class AssignerConfig:
    """MMAction2's ``MaxIoUAssignerAVA``: a proposal takes the labels of the ground truth it
    overlaps most when that IoU reaches ``pos_iou_thr``; a ground-truth box whose best IoU reaches
    ``min_pos_iou`` also claims every proposal at that best IoU (low-quality matches)."""

    pos_iou_thr: float = 0.9
    min_pos_iou: float = 0.9


@attrs.frozen(kw_only=True)
class SamplerConfig:
    """MMAction2's ``RandomSampler`` for AVA: ``num`` RoIs per keyframe, at most
    ``num * pos_fraction`` positives drawn at random, negatives filling the rest."""

    num: int = 32
    pos_fraction: float = 1.0
    add_gt_as_proposals: bool = True


def assign(proposals: np.ndarray, gt_boxes: np.ndarray, gt_labels: np.ndarray,
           config: AssignerConfig) -> np.ndarray:
    """Multi-hot targets ``[P, num_classes]`` of the proposals (zeros for negatives)."""
    targets = np.zeros((len(proposals), gt_labels.shape[1]), dtype=np.float32)
    if len(gt_boxes) == 0 or len(proposals) == 0:
        return targets
    overlaps = box_iou(gt_boxes, proposals)  # [G, P]
    best = overlaps.max(axis=0)
    assigned = np.where(best >= config.pos_iou_thr, overlaps.argmax(axis=0), -1)
    gt_best = overlaps.max(axis=1)
    for g in range(len(gt_boxes)):  # later ground truth wins ties, as in the reference loop
        if gt_best[g] >= config.min_pos_iou:
            assigned[overlaps[g] == gt_best[g]] = g
    positive = assigned >= 0
    targets[positive] = gt_labels[assigned[positive]]
    return targets


def sample_rois(proposals: np.ndarray, gt_boxes: np.ndarray, gt_labels: np.ndarray, *,
                assigner: AssignerConfig, sampler: SamplerConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Training RoIs ``[R, 4]`` and their targets ``[R, num_classes]`` for one keyframe.

    As mmdet's sampling: ground truth goes in front of the proposals, positives are those with
    any target label, positives and then negatives are drawn without replacement; the kept
    RoIs are ordered positives first.
    """
    candidates = np.concatenate([gt_boxes, proposals]) if sampler.add_gt_as_proposals else proposals
    candidates = candidates.astype(np.float32).reshape(-1, 4)
    targets = assign(candidates, gt_boxes, gt_labels, assigner)
    positive = np.nonzero(targets.sum(axis=1) > 0)[0]
    negative = np.nonzero(targets.sum(axis=1) == 0)[0]
    want_pos = int(sampler.num * sampler.pos_fraction)
    if len(positive) > want_pos:
        positive = rng.choice(positive, size=want_pos, replace=False)
    want_neg = sampler.num - len(positive)
    if len(negative) > want_neg:
        negative = rng.choice(negative, size=want_neg, replace=False)
    keep = np.concatenate([positive, negative]).astype(np.int64)
    return candidates[keep], targets[keep]
