"""Coordinate normalisation: ``pre_normalize_2d`` (image frame to [-1, 1]) and ``pre_normalize_3d``.

Both follow MMAction2 1.2.0 (``PreNormalize2D``, ``PreNormalize3D``); the 3D one is the 2s-AGCN
preprocessing of NTU RGB+D skeletons: centre on the first frame's spine, rotate the hip-spine
bone onto +Z and the left-to-right shoulder vector onto +X.
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from actioncore.sdk.data import VideoSample

from .state import pose_of, require_decoded


@attrs.frozen(kw_only=True)
class PreNormalize2D:
    """``x -> (x - W/2) / (W/2)``, ``y -> (y - H/2) / (H/2)`` with ``(H, W)`` the record's ``img_shape``.

    Missing joints stored as (0, 0) become (-1, -1), as in MMAction2.
    """

    needs_pixels: ClassVar[bool] = False

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pre_normalize_2d")
        h, w = state.img_shape
        kp = state.keypoint
        kp[..., 0] = (kp[..., 0] - (w / 2)) / (w / 2)
        kp[..., 1] = (kp[..., 1] - (h / 2)) / (h / 2)
        return sample


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def angle_between(v1: np.ndarray, v2: np.ndarray) -> float:
    """Angle in radians between two vectors; 0 when either is (nearly) zero."""
    if np.abs(v1).sum() < 1e-6 or np.abs(v2).sum() < 1e-6:
        return 0.0
    return float(np.arccos(np.clip(np.dot(_unit(v1), _unit(v2)), -1.0, 1.0)))


def rotation_matrix(axis: np.ndarray, theta: float) -> np.ndarray:
    """Matrix of the counter-clockwise rotation by ``theta`` about ``axis`` (Euler-Rodrigues)."""
    if np.abs(axis).sum() < 1e-6 or np.abs(theta) < 1e-6:
        return np.eye(3)
    axis = np.asarray(axis) / np.sqrt(np.dot(axis, axis))
    a = np.cos(theta / 2.0)
    b, c, d = -axis * np.sin(theta / 2.0)
    aa, bb, cc, dd = a * a, b * b, c * c, d * d
    bc, ad, ac, ab, bd, cd = b * c, a * d, a * c, a * b, b * d, c * d
    return np.array([[aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac)],
                     [2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab)],
                     [2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc]])


def _align(skeleton: np.ndarray, joints: tuple[int, int], target: list[float]) -> np.ndarray:
    """Rotate every point so that the first frame's ``joints[1] - joints[0]`` points along ``target``."""
    vector = skeleton[0, 0, joints[1]] - skeleton[0, 0, joints[0]]
    matrix = rotation_matrix(np.cross(vector, target), angle_between(vector, target))
    return np.einsum("abcd,kd->abck", skeleton, matrix)


@attrs.frozen(kw_only=True)
class PreNormalize3D:
    """Centre and rotate 3D skeletons (NTU RGB+D joint numbers by default).

    Frames where the main person (the one present in most frames; ties keep the first) is
    absent are dropped, and the main person moves to the front. Then, each optional:
    ``align_center`` subtracts the first frame's spine joint (joint 1 of NTU's 25, the last
    joint of other layouts) from every present joint; ``align_spine`` rotates ``zaxis`` (hip to
    spine) onto +Z; ``align_shoulder`` rotates ``xaxis`` (from its second joint, the left
    shoulder, to its first, the right shoulder) onto +X.
    """

    needs_pixels: ClassVar[bool] = False
    zaxis: tuple[int, int] = (0, 1)
    xaxis: tuple[int, int] = (8, 4)
    align_spine: bool = True
    align_shoulder: bool = True
    align_center: bool = True

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pre_normalize_3d", standin="nturgb+d")
        require_decoded(state, "pre_normalize_3d", decoded=False)
        skeleton = state.keypoint
        if skeleton.shape[-1] != 3 or skeleton.sum() == 0:
            return sample
        present = ~np.all(np.isclose(skeleton, 0), axis=-1).all(axis=-1)  # [M, T]: person has a joint
        counts = present.sum(axis=1)
        main = int(np.argmax(counts))
        order = [main] + [m for m in range(skeleton.shape[0]) if m != main]
        keep = np.flatnonzero(present[main])
        skeleton = skeleton[order][:, keep]
        score = state.keypoint_score[order][:, keep] if state.keypoint_score is not None else None
        if self.align_center:
            center = skeleton[0, 0, 1 if skeleton.shape[2] == 25 else -1].copy()
            mask = ((skeleton != 0).sum(-1) > 0)[..., None]
            skeleton = (skeleton - center) * mask
        if self.align_spine:
            skeleton = _align(skeleton, self.zaxis, [0, 0, 1])
        if self.align_shoulder:
            skeleton = _align(skeleton, (self.xaxis[1], self.xaxis[0]), [1, 0, 0])
        # float64 from here on, as in MMAction2; pose_decode brings it back to float32
        state.keypoint, state.keypoint_score = skeleton, score
        return sample
