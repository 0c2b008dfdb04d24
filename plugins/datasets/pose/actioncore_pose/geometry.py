"""Geometric steps on keypoints (PoseC3D): compact crop, resize, crops and flip.

They move keypoint coordinates and ``img_shape`` exactly as MMAction2 1.2.0's ``PoseCompact``,
``Resize``, ``RandomResizedCrop``, ``CenterCrop`` and ``Flip`` do when a sample holds keypoints
and no images; the heatmaps drawn afterwards are the "frames". Output sizes and random boxes
come from the kernel's own ``resize`` and ``random_resized_crop`` rules, so pose and video
pipelines size things the same way.
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from actioncore.sdk.data import RandomResizedCrop, Resize, VideoSample

from .layouts import get_layout
from .state import pose_of


def _pair(value: float | tuple[float, float]) -> tuple[float, float]:
    return (float(value), float(value)) if isinstance(value, (int, float)) else (float(value[0]), float(value[1]))


def compact_box(keypoint: np.ndarray, img_shape: tuple[int, int], *, padding: float, threshold: float,
                hw_ratio: tuple[float, float] | None, allow_imgpad: bool) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` of the padded box around every non-zero coordinate, or None when too small.

    x and y are bounded separately over their non-zero values (zero marks a missing joint); the
    box grows by ``padding`` around its centre and then, with ``hw_ratio = (lo, hi)``, until
    ``lo <= h / w`` and ``w / h >= 1 / hi``. Without ``allow_imgpad`` it is clipped to the image.
    """
    h, w = img_shape
    xs, ys = keypoint[..., 0], keypoint[..., 1]
    min_x, max_x = np.min(xs[xs != 0], initial=np.inf), np.max(xs[xs != 0], initial=-np.inf)
    min_y, max_y = np.min(ys[ys != 0], initial=np.inf), np.max(ys[ys != 0], initial=-np.inf)
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return None
    center = ((max_x + min_x) / 2, (max_y + min_y) / 2)
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_h = max(hw_ratio[0] * half_w, half_h)
        half_w = max(1 / hw_ratio[1] * half_h, half_w)
    x0, x1 = center[0] - half_w, center[0] + half_w
    y0, y1 = center[1] - half_h, center[1] + half_h
    if not allow_imgpad:
        return int(max(0, x0)), int(max(0, y0)), int(min(w, x1)), int(min(h, y1))
    return int(x0), int(y0), int(x1), int(y1)


@attrs.frozen(kw_only=True)
class PoseCompact:
    """Shrink the coordinate frame to a padded box around all actors over the whole clip.

    The box may extend past the image (``allow_imgpad``) to reach ``hw_ratio``; boxes thinner
    than ``threshold`` pixels leave the sample as it is. Missing joints (0) stay 0.
    """

    needs_pixels: ClassVar[bool] = False
    padding: float = 0.25
    threshold: float = 10
    hw_ratio: float | tuple[float, float] | None = None
    allow_imgpad: bool = True

    def __attrs_post_init__(self) -> None:
        if self.padding < 0:
            raise ValueError(f"pose_compact padding must be >= 0, got {self.padding}")

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_compact")
        box = compact_box(state.keypoint, state.img_shape, padding=self.padding, threshold=self.threshold,
                          hw_ratio=None if self.hw_ratio is None else _pair(self.hw_ratio),
                          allow_imgpad=self.allow_imgpad)
        if box is None:
            return sample
        x0, y0, x1, y1 = box
        xs, ys = state.keypoint[..., 0], state.keypoint[..., 1]
        xs[xs != 0] -= x0
        ys[ys != 0] -= y0
        state.img_shape = (y1 - y0, x1 - x0)
        return sample


def _on_xy(keypoint: np.ndarray, move) -> np.ndarray:
    """``move`` applied to the x, y channels; NumPy's type promotion kept (a crop by integers
    gives float64, as in MMAction2, and ``generate_pose_target`` rounds once at the end)."""
    moved = move(keypoint[..., :2])
    if keypoint.shape[-1] == 2:
        return moved
    return np.concatenate([moved, keypoint[..., 2:].astype(moved.dtype)], axis=-1)


def _shift(state, x0: int, y0: int, height: int, width: int) -> None:
    """Crop: every coordinate (missing joints too, as MMAction2) moves by ``-(x0, y0)``."""
    state.keypoint = _on_xy(state.keypoint, lambda xy: xy - np.array([x0, y0]))
    state.img_shape = (height, width)


@attrs.frozen(kw_only=True)
class PoseResize:
    """Scale coordinates as the kernel's ``resize`` scales frames (``(-1, 64)``: short side 64)."""

    needs_pixels: ClassVar[bool] = False
    scale: tuple[int, int]
    keep_ratio: bool = True

    def __attrs_post_init__(self) -> None:
        Resize(scale=self.scale, keep_ratio=self.keep_ratio)  # same validation as for frames

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_resize")
        h, w = state.img_shape
        new_h, new_w = Resize(scale=self.scale, keep_ratio=self.keep_ratio).output_size(h, w)
        factor = np.array([new_w / w, new_h / h], dtype=np.float32)
        state.keypoint = _on_xy(state.keypoint, lambda xy: xy * factor)
        state.img_shape = (new_h, new_w)
        return sample


@attrs.frozen(kw_only=True)
class PoseRandomResizedCrop:
    """A random box of ``area_range`` and ``aspect_ratio_range`` (the kernel's rule); keypoints follow."""

    needs_pixels: ClassVar[bool] = False
    area_range: tuple[float, float] = (0.08, 1.0)
    aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3)

    def __attrs_post_init__(self) -> None:
        RandomResizedCrop(area_range=self.area_range, aspect_ratio_range=self.aspect_ratio_range)

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_random_resized_crop")
        rule = RandomResizedCrop(area_range=self.area_range, aspect_ratio_range=self.aspect_ratio_range)
        x0, y0, x1, y1 = rule.crop_box(*state.img_shape, sample.rng)
        _shift(state, x0, y0, y1 - y0, x1 - x0)
        return sample


@attrs.frozen(kw_only=True)
class PoseCenterCrop:
    """The ``crop_size`` (w, h) box at ``((W - w) // 2, (H - h) // 2)``; keypoints follow."""

    needs_pixels: ClassVar[bool] = False
    crop_size: int | tuple[int, int]

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_center_crop")
        h, w = state.img_shape
        crop_w, crop_h = (self.crop_size, self.crop_size) if isinstance(self.crop_size, int) else self.crop_size
        x0, y0 = (w - crop_w) // 2, (h - crop_h) // 2
        _shift(state, x0, y0, crop_h, crop_w)
        return sample


@attrs.frozen(kw_only=True)
class PoseFlip:
    """Mirror horizontally with probability ``flip_ratio``: ``x -> W - x`` and left/right joints swap.

    The joints to swap are the layout's (the record's when ``layout`` is unset); ``left_kp`` and
    ``right_kp`` override them. ``flip_label_map`` relabels flipped samples (walk left <-> walk
    right). Missing joints (x = 0) stay 0.
    """

    needs_pixels: ClassVar[bool] = False
    flip_ratio: float = 0.5
    layout: str | None = None
    left_kp: tuple[int, ...] | None = None
    right_kp: tuple[int, ...] | None = None
    flip_label_map: dict[int, int] | None = None

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.flip_ratio <= 1:
            raise ValueError(f"pose_flip flip_ratio must be in [0, 1], got {self.flip_ratio}")
        if (self.left_kp is None) != (self.right_kp is None) or len(self.left_kp or ()) != len(self.right_kp or ()):
            raise ValueError("pose_flip: left_kp and right_kp go together and must have equal lengths")
        if self.layout is not None:
            get_layout(self.layout)

    def swap_order(self, num_joints: int, layout: str | None) -> list[int]:
        if self.left_kp is not None:
            left, right = self.left_kp, self.right_kp
        elif layout is not None:
            spec = get_layout(layout)
            left, right = spec.left, spec.right
        else:
            left, right = (), ()
        order = list(range(num_joints))
        for a, b in zip(left, right):
            order[a], order[b] = b, a
        return order

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "pose_flip", self.layout)
        flip = bool(sample.rng.random() < self.flip_ratio)
        sample.meta["flip"] = flip
        if not flip:
            return sample
        width = state.img_shape[1]
        xs = state.keypoint[..., 0]
        xs[xs != 0] = width - xs[xs != 0]
        order = self.swap_order(state.keypoint.shape[2], self.layout or state.layout)
        state.keypoint = state.keypoint[:, :, order]
        if state.keypoint_score is not None:
            state.keypoint_score = state.keypoint_score[:, :, order]
        if self.flip_label_map and isinstance(sample.label, int):
            sample.label = self.flip_label_map.get(sample.label, sample.label)
        return sample
