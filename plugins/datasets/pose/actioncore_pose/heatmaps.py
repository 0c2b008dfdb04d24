"""PoseC3D inputs: Gaussian keypoint and limb heatmaps (``generate_pose_target``), ``format_heatmap``.

The maps are MMAction2 1.2.0's ``GeneratePoseTarget``, value for value: joint ``k`` of person
``m`` draws ``score * exp(-d^2 / (2 sigma^2))`` inside the window ``[int(mu - 3 sigma), int(mu +
3 sigma)]`` (clipped to the map), a limb draws the same of the distance to its segment (a limb
shorter than 1 px draws its first joint), persons overlap by maximum, and joints or limbs with a
score under 1e-4 draw nothing. MMAction2 loops over frames, joints and persons in Python; here
each chunk of frames is one array expression, with the same float32/float64 arithmetic.

One deliberate difference: with ``with_kp`` *and* ``with_limb`` MMAction2 draws limb ``i`` into
keypoint channel ``i`` and leaves the last channels empty; here limbs get their own channels
after the keypoints. Its configs use one or the other, where both agree.

Heatmaps are kept as uint8 (``round(255 * value)``) by default: a 10-clip test sample of 17 x 48
x 64 x 64 maps is 33 MB instead of 134 MB, and ``normalize`` (0, 255) is recorded so the batch is
scaled back to [0, 1] on the model's device. ``dtype = "float32"`` keeps MMAction2's exact values.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar, Literal

import attrs
import numpy as np
import torch

from actioncore.sdk.data import VideoSample
from actioncore.sdk import ConfigError

from .layouts import get_layout
from .state import pose_of, require_decoded

EPS = 1e-4
"""Joints and limbs with a lower score draw nothing (MMAction2's constant)."""
CHUNK_ELEMENTS = 1 << 20
"""Frames are drawn in chunks of about this many grid cells (times persons and channels)."""


def _window(low: np.ndarray, high: np.ndarray, sigma: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``[max(int(low - 3 sigma), 0), min(int(high + 3 sigma) + 1, size))`` elementwise (int() truncates)."""
    return np.maximum(np.trunc(low - 3 * sigma), 0), np.minimum(np.trunc(high + 3 * sigma) + 1, size)


def _inside(grid: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    return (grid >= start[..., None]) & (grid < stop[..., None])


def _point_maps(cx: np.ndarray, cy: np.ndarray, values: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                sigma: float) -> np.ndarray:
    """float32 ``[..., H, W]`` Gaussians at ``(cx, cy)`` (float32 ``[...]``) scaled by ``values``, windowed."""
    x0, x1 = _window(cx, cx, sigma, xs.size)
    y0, y1 = _window(cy, cy, sigma, ys.size)
    d2 = (xs - cx[..., None])[..., None, :] ** 2 + (ys - cy[..., None])[..., :, None] ** 2
    maps = np.exp(-d2 / 2 / sigma ** 2) * values[..., None, None]
    keep = _inside(ys, y0, y1)[..., :, None] & _inside(xs, x0, x1)[..., None, :] & (values >= EPS)[..., None, None]
    return np.where(keep, maps, np.float32(0))


def _limb_maps(start: np.ndarray, end: np.ndarray, start_value: np.ndarray, end_value: np.ndarray,
               xs: np.ndarray, ys: np.ndarray, sigma: float) -> np.ndarray:
    """float32 ``[..., H, W]`` maps of the distance to segments ``start -> end`` (float32 ``[..., 2]``)."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    value = np.minimum(start_value, end_value)
    x0, x1 = _window(np.minimum(sx, ex), np.maximum(sx, ex), sigma, xs.size)
    y0, y1 = _window(np.minimum(sy, ey), np.maximum(sy, ey), sigma, ys.size)
    gx, gy = xs[..., None, :], ys[..., :, None]
    d2_start = (xs - sx[..., None])[..., None, :] ** 2 + (ys - sy[..., None])[..., :, None] ** 2
    d2_end = (xs - ex[..., None])[..., None, :] ** 2 + (ys - ey[..., None])[..., :, None] ** 2
    d2_ab = ((sx - ex) ** 2 + (sy - ey) ** 2)[..., None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        along = (d2_start - d2_end + d2_ab) / 2. / d2_ab
    proj_x = sx[..., None, None] + along * (ex - sx)[..., None, None]
    proj_y = sy[..., None, None] + along * (ey - sy)[..., None, None]
    d2_line = (gx - proj_x) ** 2 + (gy - proj_y) ** 2
    d2_seg = np.where(along <= 0, d2_start, np.where(along >= 1, d2_end, d2_line))
    # MMAction2 mixes an int64 mask into this sum, so the exponential is taken in float64
    maps = np.exp(-d2_seg.astype(np.float64) / 2. / sigma ** 2) * value[..., None, None].astype(np.float64)
    keep = _inside(ys, y0, y1)[..., :, None] & _inside(xs, x0, x1)[..., None, :] & (value >= EPS)[..., None, None]
    short = d2_ab < 1  # a limb shorter than a pixel draws its start joint instead
    maps = np.where(keep & ~short, maps, 0).astype(np.float32)
    point = _point_maps(sx, sy, start_value, xs, ys, sigma)
    return np.where(short & (value >= EPS)[..., None, None], point, maps)


def draw_heatmaps(keypoint: np.ndarray, score: np.ndarray, *, height: int, width: int, sigma: float,
                  with_kp: bool = True, limbs: Sequence[tuple[int, int]] = ()) -> Iterator[tuple[slice, np.ndarray]]:
    """``(frames, maps)`` chunks of the float32 ``[T, K, H, W]`` heatmaps of ``keypoint [M, T, V, 2]``.

    Channels: the V joints (``with_kp``), then one per limb of ``limbs``; persons merge by maximum.
    """
    kps = np.ascontiguousarray(keypoint[..., :2].astype(np.float32).transpose(1, 0, 2, 3))  # [T, M, V, 2]
    values = np.ascontiguousarray(score.astype(np.float32).transpose(1, 0, 2))
    frames, persons, joints = values.shape
    channels = (joints if with_kp else 0) + len(limbs)
    xs, ys = np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    step = max(1, CHUNK_ELEMENTS // max(1, persons * channels * height * width))
    a = np.array([i for i, _ in limbs], dtype=np.int64)
    b = np.array([j for _, j in limbs], dtype=np.int64)
    for first in range(0, frames, step):
        part = slice(first, min(frames, first + step))
        k, v = kps[part], values[part]
        maps = []
        if with_kp:
            maps.append(_point_maps(k[..., 0], k[..., 1], v, xs, ys, sigma).max(axis=1))
        if len(limbs):
            maps.append(_limb_maps(k[:, :, a], k[:, :, b], v[:, :, a], v[:, :, b], xs, ys, sigma).max(axis=1))
        yield part, np.concatenate(maps, axis=1) if len(maps) > 1 else maps[0]


def _swap(size: int, left: Sequence[int], right: Sequence[int], offset: int = 0) -> list[int]:
    """Channels ``offset .. offset + size`` with ``left[i]`` and ``right[i]`` exchanged."""
    order = list(range(offset, offset + size))
    for l, r in zip(left, right):  # noqa: E741
        order[l], order[r] = r + offset, l + offset
    return order


@attrs.frozen(kw_only=True)
class GeneratePoseTarget:
    """Draw the sampled frames' poses as heatmaps: ``sample.frames`` ``[views * T, K, H, W]``.

    ``H, W`` is ``img_shape`` (times ``scaling``). The layout (the record's by default) gives
    the limbs and the left/right pairs; ``skeletons``, ``left_kp``... override them. ``double``
    adds the mirrored heatmaps (left and right channels swapped) as a second view, MMAction2's
    flip test-time augmentation.
    """

    needs_pixels: ClassVar[bool] = False
    sigma: float = 0.6
    use_score: bool = True
    with_kp: bool = True
    with_limb: bool = False
    layout: str | None = None
    skeletons: tuple[tuple[int, int], ...] | None = None
    double: bool = False
    left_kp: tuple[int, ...] | None = None
    right_kp: tuple[int, ...] | None = None
    left_limb: tuple[int, ...] | None = None
    right_limb: tuple[int, ...] | None = None
    scaling: float = 1.0
    dtype: Literal["uint8", "float32"] = "uint8"

    def __attrs_post_init__(self) -> None:
        if not (self.with_kp or self.with_limb):
            raise ValueError("generate_pose_target: at least one of with_kp and with_limb must be true")
        if self.sigma <= 0 or self.scaling <= 0:
            raise ValueError(f"generate_pose_target: sigma ({self.sigma}) and scaling ({self.scaling}) must be positive")
        if self.dtype not in ("uint8", "float32"):
            raise ValueError(f"generate_pose_target dtype must be 'uint8' or 'float32', got {self.dtype!r}")
        if self.layout is not None:
            get_layout(self.layout)

    def _plan(self, layout: str | None, joints: int) -> tuple[tuple[tuple[int, int], ...], list[int]]:
        """Limbs to draw and the channel order of the mirrored view."""
        spec = get_layout(layout) if layout is not None else None
        if self.with_limb and self.skeletons is None and spec is None:
            raise ConfigError("generate_pose_target: with_limb needs a layout or skeletons")
        limbs = (self.skeletons if self.skeletons is not None else spec.limbs) if self.with_limb else ()
        left_kp = self.left_kp if self.left_kp is not None else (spec.left if spec else ())
        right_kp = self.right_kp if self.right_kp is not None else (spec.right if spec else ())
        custom_limbs = self.skeletons is not None
        left_limb = self.left_limb if self.left_limb is not None else (() if custom_limbs or not spec else spec.left_limbs)
        right_limb = self.right_limb if self.right_limb is not None else (() if custom_limbs or not spec else spec.right_limbs)
        order: list[int] = []
        if self.with_kp:
            order += _swap(joints, left_kp, right_kp)
        if self.with_limb:
            offset = joints if self.with_kp else 0
            order += _swap(len(limbs), left_limb, right_limb, offset)
        return tuple(limbs), order

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "generate_pose_target", self.layout)
        require_decoded(state, "generate_pose_target")
        if state.features:
            raise ConfigError("generate_pose_target draws keypoints; remove gen_ske_feat from this pipeline")
        keypoint = state.keypoint.astype(np.float32)
        score = state.keypoint_score if state.keypoint_score is not None else np.ones(keypoint.shape[:3], np.float32)
        if not self.use_score:
            score = np.ones_like(score)
        h, w = state.img_shape
        h, w = int(h * self.scaling + 0.5), int(w * self.scaling + 0.5)
        keypoint[..., :2] *= self.scaling
        limbs, order = self._plan(self.layout or state.layout, keypoint.shape[2])
        frames = keypoint.shape[1]
        channels = (keypoint.shape[2] if self.with_kp else 0) + len(limbs)
        views = 2 if self.double else 1
        out = np.zeros((views, frames, channels, h, w), dtype=np.uint8 if self.dtype == "uint8" else np.float32)
        for part, maps in draw_heatmaps(keypoint, score, height=h, width=w, sigma=self.sigma,
                                        with_kp=self.with_kp, limbs=limbs):
            out[0, part] = np.rint(maps * 255) if self.dtype == "uint8" else maps
        if self.double:
            out[1] = out[0][..., ::-1][:, order]
        sample.frames = torch.from_numpy(out.reshape(views * frames, channels, h, w))
        sample.num_crops *= views
        sample.meta["heatmap"] = True
        if self.dtype == "uint8":
            sample.meta["normalize"] = {"mean": (0.0,), "std": (255.0,), "to_bgr": False}
        return sample


@attrs.frozen(kw_only=True)
class FormatHeatmap:
    """``[views * num_clips * clip_len, K, H, W]`` heatmaps -> ``[views * num_clips, K, clip_len, H, W]``.

    MMAction2's ``FormatShape(input_format="NCTHW_Heatmap")``; the 3D recognizer scores each of
    the ``views * num_clips`` volumes and averages them per sample.
    """

    needs_pixels: ClassVar[bool] = False

    def __call__(self, sample: VideoSample) -> VideoSample:
        if not sample.meta.get("heatmap"):
            raise ConfigError("format_heatmap needs generate_pose_target before it")
        maps = sample.frames
        length = sample.num_clips * sample.clip_len
        if maps.shape[0] != sample.num_crops * length:
            raise ConfigError(f"format_heatmap: {maps.shape[0]} heatmap frames, expected {sample.num_crops} "
                              f"views x {sample.num_clips} clips x {sample.clip_len} frames")
        _, k, h, w = maps.shape
        volume = maps.view(-1, sample.num_clips, sample.clip_len, k, h, w).permute(0, 1, 3, 2, 4, 5)
        sample.frames = volume.reshape(-1, k, sample.clip_len, h, w).contiguous()
        sample.meta["input_format"] = "NCTHW"
        sample.meta["input_shape"] = tuple(sample.frames.shape)
        sample.meta.pop("pose", None)
        return sample
