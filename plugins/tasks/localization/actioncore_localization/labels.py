"""Training targets of temporal proposal models, from normalised ground-truth segments.

``gt_bbox`` is a ``[K, 2]`` array of (start, end) fractions of the video (see
:meth:`VideoAnnotation.gt_bbox`). The temporal scale has ``T`` steps; step ``i`` covers
``[i/T, (i+1)/T)``. Arithmetic follows MMAction2 1.2.0 (float64, the same expression order), so
targets match its ``generate_labels`` exactly. A video without segments gets all-zero targets.

- :func:`tem_targets`: BSN's temporal evaluation targets: per step, the largest fraction of the
  step covered by an action (``action``), by a start region or by an end region. A boundary region
  is centred on the boundary, ``max(1/T, boundary_ratio * segment length)`` wide.
- :func:`bmn_targets`: BMN's targets: the boundary-matching map ``iou_map[d, s]``, the largest
  IoU of the proposal starting at step ``s`` and lasting ``d + 1`` steps with a ground-truth
  segment; and start/end scores over anchors widened by half a step on each side, with boundary
  regions ``3/T`` wide.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def temporal_iou(proposal_min: Any, proposal_max: Any, gt_min: Any, gt_max: Any) -> np.ndarray:
    """Intersection over union of 1-D segments (broadcasting)."""
    length = np.asarray(proposal_max) - np.asarray(proposal_min)
    inter = np.maximum(np.minimum(proposal_max, gt_max) - np.maximum(proposal_min, gt_min), 0.0)
    union = length - inter + (np.asarray(gt_max) - np.asarray(gt_min))
    return np.divide(inter, union)


def temporal_iop(proposal_min: Any, proposal_max: Any, gt_min: Any, gt_max: Any) -> np.ndarray:
    """Intersection over the proposal's length (broadcasting)."""
    length = np.asarray(proposal_max) - np.asarray(proposal_min)
    inter = np.maximum(np.minimum(proposal_max, gt_max) - np.maximum(proposal_min, gt_min), 0.0)
    return np.divide(inter, length)


def _check_gt(gt_bbox: Any) -> np.ndarray:
    gt = np.asarray(gt_bbox, dtype=np.float64)
    if gt.size == 0:
        return gt.reshape(0, 2)
    if gt.ndim != 2 or gt.shape[1] != 2:
        raise ValueError(f"gt_bbox must be a [K, 2] array of (start, end), got shape {list(gt.shape)}")
    return gt


def anchors(temporal_dim: int, tmin_offset: float, tmax_offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-step anchor (tmin, tmax): ``gap * (i + offset)`` with ``gap = 1 / T``."""
    gap = 1.0 / temporal_dim
    steps = np.arange(temporal_dim, dtype=np.float64)
    return gap * (steps + tmin_offset), gap * (steps + tmax_offset)


def boundary_targets(gt_bbox: Any, temporal_dim: int, *, anchor_offsets: tuple[float, float],
                     pad: Any) -> tuple[np.ndarray, np.ndarray]:
    """Start and end scores ``[T]``: the largest IoP of each anchor with a boundary region.

    :param pad: the width of the region centred on each boundary: a number or one per segment.
    """
    gt = _check_gt(gt_bbox)
    tmins, tmaxs = anchors(temporal_dim, *anchor_offsets)
    pad = np.broadcast_to(np.asarray(pad, dtype=np.float64), gt.shape[:1])
    scores = []
    for boundary in (gt[:, 0], gt[:, 1]):
        low, high = boundary - pad / 2, boundary + pad / 2
        scores.append(temporal_iop(tmins[:, None], tmaxs[:, None], low[None], high[None]).max(axis=1, initial=0.0))
    return scores[0], scores[1]


def tem_targets(gt_bbox: Any, temporal_dim: int, boundary_ratio: float = 0.1
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BSN TEM targets ``(action, start, end)``, each float64 ``[T]``."""
    gt = _check_gt(gt_bbox)
    pad = np.maximum(1.0 / temporal_dim, boundary_ratio * (gt[:, 1] - gt[:, 0]))
    tmins, tmaxs = anchors(temporal_dim, 0.0, 1.0)
    action = temporal_iop(tmins[:, None], tmaxs[:, None], gt[None, :, 0], gt[None, :, 1]).max(axis=1, initial=0.0)
    start, end = boundary_targets(gt, temporal_dim, anchor_offsets=(0.0, 1.0), pad=pad)
    return action, start, end


def proposal_grid(temporal_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(tmin, tmax) ``[D, S]`` of the boundary-matching map: start ``s/T``, duration ``(d+1)/T``."""
    gap = 1.0 / temporal_dim
    tmin = gap * np.arange(temporal_dim, dtype=np.float64)
    tmax = tmin[None, :] + gap * np.arange(1, temporal_dim + 1, dtype=np.float64)[:, None]
    return np.broadcast_to(tmin[None, :], tmax.shape), tmax


def bmn_targets(gt_bbox: Any, temporal_dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BMN targets ``(iou_map [D, S] float32, start [T], end [T])``.

    ``iou_map`` covers every (duration, start) pair, also those running past the video end; the
    loss masks those out with the boundary-matching mask.
    """
    gt = _check_gt(gt_bbox)
    tmin, tmax = proposal_grid(temporal_dim)
    ious = temporal_iou(tmin[None], tmax[None], gt[:, 0, None, None], gt[:, 1, None, None])
    iou_map = ious.astype(np.float32).max(axis=0, initial=0.0)
    start, end = boundary_targets(gt, temporal_dim, anchor_offsets=(-0.5, 1.5), pad=3 * (1.0 / temporal_dim))
    return iou_map, start, end


def _stack(rows: Sequence[np.ndarray], device: torch.device | str | None) -> torch.Tensor:
    return torch.as_tensor(np.stack(rows), dtype=torch.float32, device=device)


def tem_targets_batch(labels: Sequence[Any], temporal_dim: int, boundary_ratio: float = 0.1, *,
                      device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`tem_targets` of each label's ``gt_bbox()``, as float32 ``[B, T]`` tensors."""
    parts = [tem_targets(label.gt_bbox(), temporal_dim, boundary_ratio) for label in labels]
    return tuple(_stack([p[i] for p in parts], device) for i in range(3))  # type: ignore[return-value]


def bmn_targets_batch(labels: Sequence[Any], temporal_dim: int, *,
                      device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`bmn_targets` of each label: ``iou_map [B, D, S]``, ``start [B, T]``, ``end [B, T]``."""
    parts = [bmn_targets(label.gt_bbox(), temporal_dim) for label in labels]
    return tuple(_stack([p[i] for p in parts], device) for i in range(3))  # type: ignore[return-value]
