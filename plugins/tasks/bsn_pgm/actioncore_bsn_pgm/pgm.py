"""BSN's proposal generation module (PGM): proposals from TEM boundaries and their BSP features.

Pure NumPy on one video at a time. Times are normalised to the feature sequence ([0, 1] spans
the frames the features cover), as in the TEM results.
"""
from __future__ import annotations

import attrs
import numpy as np

from actioncore_localization import temporal_iop, temporal_iou


def boundary_locations(scores: np.ndarray, peak_threshold: float) -> np.ndarray:
    """Indices where a boundary may lie: both ends, local maxima, and scores above
    ``peak_threshold`` times the sequence's maximum (BSN, 3.3)."""
    scores = np.asarray(scores, dtype=np.float64)
    chosen = np.zeros(len(scores), dtype=bool)
    inner = scores[1:-1]
    peak = (inner > scores[2:]) & (inner > scores[:-2])
    chosen[1:-1] = peak | (inner > peak_threshold * scores.max())
    chosen[[0, -1]] = True
    return np.flatnonzero(chosen)


@attrs.frozen
class Proposals:
    """Candidate proposals of one video, best ``score`` first; each array has one row a proposal."""

    tmin: np.ndarray
    tmax: np.ndarray
    tmin_score: np.ndarray
    tmax_score: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return self.tmin_score * self.tmax_score

    def __len__(self) -> int:
        return len(self.tmin)


def candidate_proposals(start: np.ndarray, end: np.ndarray, *, peak_threshold: float = 0.5) -> Proposals:
    """Every (start location, end location) pair with the start before the end.

    A location t stands for the time ``(t + 0.5) / T``, the centre of its anchor. Proposals are
    sorted by ``start probability x end probability``, highest first (stable among equals).
    """
    steps = len(start)
    if len(end) != steps or steps < 2:
        raise ValueError(f"start and end need the same length >= 2, got {len(start)} and {len(end)}")
    centres = (np.arange(steps) + 0.5) / steps
    starts = boundary_locations(start, peak_threshold)
    ends = boundary_locations(end, peak_threshold)
    s_idx, e_idx = np.meshgrid(starts, ends, indexing="xy")
    valid = s_idx < e_idx
    s_idx, e_idx = s_idx[valid], e_idx[valid]
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    order = np.argsort(-(start[s_idx] * end[e_idx]), kind="stable")
    s_idx, e_idx = s_idx[order], e_idx[order]
    return Proposals(tmin=centres[s_idx], tmax=centres[e_idx], tmin_score=start[s_idx], tmax_score=end[e_idx])


def best_overlaps(tmin: np.ndarray, tmax: np.ndarray, gt_segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each proposal its highest IoU and highest IoA (overlap over proposal length) with any
    ground-truth segment (``[G, 2]``, normalised); zeros when the video has none."""
    tmin = np.asarray(tmin, dtype=np.float64)[:, None]
    tmax = np.asarray(tmax, dtype=np.float64)[:, None]
    gt = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    iou = temporal_iou(tmin, tmax, gt[:, 0], gt[:, 1]).max(axis=1, initial=0.0)
    ioa = temporal_iop(tmin, tmax, gt[:, 0], gt[:, 1]).max(axis=1, initial=0.0)
    return iou, ioa


@attrs.frozen
class BSPSampling:
    """How the boundary-sensitive proposal feature samples the actionness curve (BSN, 3.4)."""

    num_sample_start: int = 8
    """Points over the start region ``tmin -+ bsp_boundary_ratio x length``."""
    num_sample_end: int = 8
    """Points over the end region ``tmax -+ bsp_boundary_ratio x length``."""
    num_sample_action: int = 16
    """Points over the proposal itself."""
    num_sample_interp: int = 3
    """Interpolated sub-points per sampling step; each point averages ``num_sample_interp + 1``."""
    bsp_boundary_ratio: float = 0.2

    @property
    def feature_dim(self) -> int:
        return self.num_sample_action + self.num_sample_start + self.num_sample_end


def _region_samples(times: np.ndarray, values: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    points: int, interp: int) -> np.ndarray:
    """``points`` values over ``[lo, hi]`` per proposal: each the mean of ``interp + 1`` linearly
    interpolated sub-points spanning one sampling step centred on it."""
    step = (hi - lo) / (points - 1)
    offsets = np.arange(points * interp + 1)
    sub_times = lo[:, None] - step[:, None] / 2 + (step / interp)[:, None] * offsets
    sub_values = np.interp(sub_times, times, values)
    windows = np.arange(points)[:, None] * interp + np.arange(interp + 1)
    return sub_values[:, windows].mean(axis=-1)


def bsp_features(action: np.ndarray, tmin: np.ndarray, tmax: np.ndarray,
                 sampling: BSPSampling = BSPSampling()) -> np.ndarray:
    """``[P, action + start + end samples]`` features of proposals ``[tmin, tmax]`` read off the
    actionness curve ``action`` (one value per location t, at time ``(t + 0.5) / T``).

    The curve is padded with ``T / 4 + 10`` zeros on each side, so that boundary regions reaching
    past the video read as background.
    """
    action = np.asarray(action, dtype=np.float64)
    steps = len(action)
    gap = 1.0 / steps
    pad = int(steps / 4 + 10)
    times = (np.arange(-pad, steps + pad) + 0.5) * gap
    values = np.concatenate([np.zeros(pad), action, np.zeros(pad)])
    tmin = np.asarray(tmin, dtype=np.float64).reshape(-1)
    tmax = np.asarray(tmax, dtype=np.float64).reshape(-1)
    if len(tmin) == 0:
        return np.zeros((0, sampling.feature_dim), dtype=np.float32)
    margin = (tmax - tmin) * sampling.bsp_boundary_ratio
    interp = sampling.num_sample_interp
    parts = [_region_samples(times, values, tmin, tmax, sampling.num_sample_action, interp),
             _region_samples(times, values, tmin - margin, tmin + margin, sampling.num_sample_start, interp),
             _region_samples(times, values, tmax - margin, tmax + margin, sampling.num_sample_end, interp)]
    return np.concatenate(parts, axis=1).astype(np.float32)
