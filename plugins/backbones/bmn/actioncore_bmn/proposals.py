"""BMN's candidate proposals from its start/end probabilities and confidence maps.

A step can start a proposal when its start probability is a local peak or above half the
video's maximum (step 0 always can); likewise for ends (the last step always can). Every
(start, end) pair of such steps with ``end < T`` becomes a candidate scored
``p_start * p_end * p_cls * p_reg``, in MMAction2 1.2.0's order (duration-major), so soft-NMS
then sees the same list.
"""
from __future__ import annotations

import numpy as np


def boundary_candidates(scores: np.ndarray) -> np.ndarray:
    """bool ``[T]``: steps that are local maxima (strictly) or above half of the maximum."""
    inner = scores[1:-1]
    peak = (inner > scores[2:]) & (inner > scores[:-2])
    strong = inner > 0.5 * scores.max()
    flags = np.zeros(scores.shape, dtype=bool)
    flags[1:-1] = peak | strong
    return flags


def candidate_proposals(start: np.ndarray, end: np.ndarray, reg_map: np.ndarray, cls_map: np.ndarray) -> np.ndarray:
    """float64 ``[N, 7]`` rows ``(tmin, tmax, p_start, p_end, p_cls, p_reg, score)`` for one video.

    :param start: ``[T]`` start probabilities; ``end`` likewise.
    :param reg_map: ``[D, S]`` IoU regression map; ``cls_map`` the classification map.
    """
    temporal_dim = start.shape[0]
    starts_ok = boundary_candidates(start)
    starts_ok[0] = True
    ends_ok = boundary_candidates(end)
    ends_ok[-1] = True
    duration, first = np.meshgrid(np.arange(temporal_dim), np.arange(temporal_dim), indexing="ij")
    last = first + duration + 1
    valid = last < temporal_dim
    valid[valid] &= starts_ok[first[valid]] & ends_ok[last[valid]]
    d, s = np.nonzero(valid)
    e = s + d + 1
    p_start, p_end = start[s], end[e]
    p_cls, p_reg = cls_map[d, s], reg_map[d, s]
    score = p_start * p_end * p_cls * p_reg
    return np.stack([s / temporal_dim, e / temporal_dim, p_start, p_end, p_cls, p_reg, score], axis=1).astype(np.float64)
