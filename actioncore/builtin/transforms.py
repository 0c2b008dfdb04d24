"""Clip transforms with MMAction2 semantics, on whole uint8 clips ``[N, H, W, 3]``.

Geometric steps (``needs_pixels = False``) only compose ``sample.geometry``; the pipeline resamples
once before the first step that needs pixels. Workers ship uint8: ``normalize`` records mean and
std, and :func:`normalize_on_device` applies them to the batch on the model's device, which moves
a quarter of the bytes of float32 and does the arithmetic where it is cheap.

Randomness comes only from ``sample.rng``. Each step's keyword parameters are its config schema.
"""
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF

from actioncore.data.deferred import DeferredFrames
from actioncore.data.geometry import Geometry, Interpolation, flip_frames
from actioncore.data.sample import VideoSample
from actioncore.errors import ConfigError, DataError

InputFormat = Literal["NCHW", "NCTHW", "NCHW_Flow", "NPTCHW"]

CHANNEL_DIM: dict[str, int] = {"NHWC": -1, "NCHW": -3, "NCHW_Flow": -3, "NPTCHW": -3, "NCTHW": -4}
"""Channel axis of each layout, counted from the end so it holds with or without a batch axis."""

_GRAY = (0.2989, 0.587, 0.114)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _pending(sample: VideoSample, step: str) -> Geometry:
    """The sample's pending geometry, starting from identity on the decoded frames."""
    if "input_format" in sample.meta:
        raise ConfigError(f"{step} must come before format_shape in the pipeline")
    if sample.geometry is not None:
        return sample.geometry
    if sample.frames is None:
        raise ConfigError(f"{step} needs decoded frames: put it after the decode step")
    return Geometry.identity(int(sample.frames.shape[1]), int(sample.frames.shape[2]))


def _frames(sample: VideoSample, step: str) -> torch.Tensor:
    """The decoded frames, read now if the pipeline deferred their read (three_crop and ten_crop
    resample them themselves, several times, without needing the pipeline to do it first)."""
    if sample.frames is None:
        raise ConfigError(f"{step} needs decoded frames: put it after the decode step")
    if "input_format" in sample.meta:
        raise ConfigError(f"{step} must come before format_shape in the pipeline")
    if isinstance(sample.frames, DeferredFrames):
        sample.frames = sample.frames.read()
    return sample.frames


def _too_small(
    sample: VideoSample, step: str, crop: tuple[int, int], size: tuple[int, int],
) -> DataError:
    return DataError(
        f"{sample.source}: {step} needs at least {crop[0]}x{crop[1]} (w x h) pixels, "
        f"the frames are {size[1]}x{size[0]} at that point", path=sample.source,
    )


def _five_offsets(width: int, height: int, crop_w: int, crop_h: int) -> list[tuple[int, int]]:
    """MMAction2's fixed crop grid: corners then center, on steps of a quarter of the slack."""
    w_step, h_step = (width - crop_w) // 4, (height - crop_h) // 4
    return [(0, 0), (4 * w_step, 0), (0, 4 * h_step), (4 * w_step, 4 * h_step),
            (2 * w_step, 2 * h_step)]


def _render_views(
    sample: VideoSample, step: str, offsets: list[tuple[int, int]], crop: tuple[int, int],
    *, mirrored: bool = False,
) -> VideoSample:
    """Materialise one view per offset, each in one resample, stacked view-major on axis 0."""
    if sample.boxes is not None or sample.person_mask is not None:
        raise ConfigError(f"{step} makes several views of a clip with person boxes or a person mask; "
                          "person boxes follow one view only (drop person_boxes/person_mask from this pipeline)")
    geometry = _pending(sample, step)
    frames = _frames(sample, step)
    flow = sample.modality == "Flow"
    crop_w, crop_h = crop
    views = []
    for x, y in offsets:
        view = geometry.crop(x, y, x + crop_w, y + crop_h).apply(frames, flow=flow)
        views.append(view)
        if mirrored:
            views.append(flip_frames(view, horizontal=True, vertical=False, flow=flow))
    sample.frames = torch.cat(views)
    sample.geometry = None
    sample.num_crops *= len(views)
    return sample


@attrs.frozen(kw_only=True)
class Resize:
    """Resize frames, MMAction2 ``Resize`` rules.

    With ``keep_ratio`` the frame is scaled as large as possible so that its long side is at most
    ``max(scale)`` and its short side at most ``min(scale)``; ``-1`` lifts the long-side limit,
    so ``(-1, 256)`` means "short side 256". Sizes are rounded with ``int(x * factor + 0.5)``.
    Without ``keep_ratio``, ``scale`` is the output ``(width, height)``.
    """

    needs_pixels: ClassVar[bool] = False
    scale: tuple[int, int]
    keep_ratio: bool = True
    interpolation: Interpolation = "bilinear"
    antialias: bool = True
    """See :attr:`Geometry.antialias`; False reproduces MMAction2's OpenCV resize numerics."""

    def __attrs_post_init__(self) -> None:
        if any(s <= 0 and s != -1 for s in self.scale) or self.scale.count(-1) > 1:
            raise ValueError(f"resize scale {self.scale}: sizes must be positive, or one -1")
        if not self.keep_ratio and -1 in self.scale:
            raise ValueError(f"resize scale {self.scale}: -1 needs keep_ratio = true")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` after resizing a ``height x width`` frame."""
        if not self.keep_ratio:
            return self.scale[1], self.scale[0]
        long_max, short_max = max(self.scale), min(self.scale)
        if short_max == -1:
            factor = long_max / min(height, width)
        else:
            factor = min(long_max / max(height, width), short_max / min(height, width))
        return int(height * factor + 0.5), int(width * factor + 0.5)

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "resize")
        height, width = self.output_size(*geometry.size)
        sample.geometry = geometry.resize(
            height, width, interpolation=self.interpolation, antialias=self.antialias
        )
        return sample


@attrs.frozen(kw_only=True)
class RandomRescale:
    """Resize so that the short side is an integer drawn uniformly from ``scale_range``
    (both ends included), keeping the aspect ratio: MMAction2 ``RandomRescale``."""

    needs_pixels: ClassVar[bool] = False
    scale_range: tuple[int, int]
    interpolation: Interpolation = "bilinear"
    antialias: bool = True

    def __attrs_post_init__(self) -> None:
        low, high = self.scale_range
        if not 0 < low < high:
            raise ValueError(f"random_rescale scale_range {self.scale_range}: need 0 < low < high")

    def __call__(self, sample: VideoSample) -> VideoSample:
        short_side = int(sample.rng.integers(self.scale_range[0], self.scale_range[1], endpoint=True))
        resize = Resize(scale=(-1, short_side), interpolation=self.interpolation, antialias=self.antialias)
        geometry = _pending(sample, "random_rescale")
        sample.geometry = geometry.resize(*resize.output_size(*geometry.size),
                                          interpolation=self.interpolation, antialias=self.antialias)
        return sample


@attrs.frozen(kw_only=True)
class RandomCrop:
    """Square crop of ``size`` at a uniformly drawn position.

    Every valid offset can be drawn; MMAction2 draws from ``randint(0, H - size)`` and so never
    touches the last row or column.
    """

    needs_pixels: ClassVar[bool] = False
    size: int

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "random_crop")
        height, width = geometry.size
        if self.size > height or self.size > width:
            raise _too_small(sample, "random_crop", (self.size, self.size), (height, width))
        x = int(sample.rng.integers(0, width - self.size, endpoint=True))
        y = int(sample.rng.integers(0, height - self.size, endpoint=True))
        sample.geometry = geometry.crop(x, y, x + self.size, y + self.size)
        return sample


@attrs.frozen(kw_only=True)
class RandomResizedCrop:
    """Crop of random area fraction and log-uniform aspect ratio (Inception-style), as MMAction2.

    Ten candidates are drawn at once; the first that fits is placed uniformly, else the center
    square of the short side is taken. Like MMAction2 it only crops: follow it with
    ``resize(scale = [224, 224], keep_ratio = false)``.
    """

    needs_pixels: ClassVar[bool] = False
    area_range: tuple[float, float] = (0.08, 1.0)
    aspect_ratio_range: tuple[float, float] = (3 / 4, 4 / 3)
    max_attempts: ClassVar[int] = 10

    def __attrs_post_init__(self) -> None:
        if not 0 < self.area_range[0] <= self.area_range[1] <= 1:
            raise ValueError(
                f"random_resized_crop area_range {self.area_range}: need 0 < a <= b <= 1"
            )
        if not 0 < self.aspect_ratio_range[0] <= self.aspect_ratio_range[1]:
            raise ValueError(
                f"random_resized_crop aspect_ratio_range {self.aspect_ratio_range}: need 0 < a <= b"
            )

    def crop_box(
        self, height: int, width: int, rng: np.random.Generator,
    ) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` for a ``height x width`` frame."""
        low, high = self.aspect_ratio_range
        ratios = np.exp(rng.uniform(math.log(low), math.log(high), size=self.max_attempts))
        areas = rng.uniform(*self.area_range, size=self.max_attempts) * (height * width)
        crop_ws = np.round(np.sqrt(areas * ratios)).astype(np.int64)
        crop_hs = np.round(np.sqrt(areas / ratios)).astype(np.int64)
        for crop_w, crop_h in zip(crop_ws.tolist(), crop_hs.tolist()):
            if 0 < crop_w <= width and 0 < crop_h <= height:
                x = int(rng.integers(0, width - crop_w, endpoint=True))
                y = int(rng.integers(0, height - crop_h, endpoint=True))
                return x, y, x + crop_w, y + crop_h
        side = min(height, width)
        x, y = (width - side) // 2, (height - side) // 2
        return x, y, x + side, y + side

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "random_resized_crop")
        sample.geometry = geometry.crop(*self.crop_box(*geometry.size, sample.rng))
        return sample


@attrs.frozen(kw_only=True)
class MultiScaleCrop:
    """TSN's corner/center crop at a random scale pair, MMAction2 ``MultiScaleCrop`` rules.

    Candidate sides are ``int(min(H, W) * s)`` for ``s`` in ``scales``; width and height scale
    indices differ by at most ``max_wh_scale_gap``; a side within 2 px of ``input_size`` (w, h)
    snaps to it. The position is one of 5 (or 13) fixed grid points, or uniform with
    ``random_crop``. Like MMAction2 it only crops; a resize to ``input_size`` follows in configs.
    """

    needs_pixels: ClassVar[bool] = False
    input_size: int | tuple[int, int]
    scales: tuple[float, ...] = (1,)
    max_wh_scale_gap: int = 1
    random_crop: bool = False
    num_fixed_crops: Literal[5, 13] = 5

    def __attrs_post_init__(self) -> None:
        if self.num_fixed_crops not in (5, 13):
            raise ValueError(
                f"multi_scale_crop num_fixed_crops must be 5 or 13, got {self.num_fixed_crops}"
            )
        if not self.scales or any(not 0 < s <= 1 for s in self.scales):
            raise ValueError(f"multi_scale_crop scales {self.scales}: each must be in (0, 1]")

    def crop_box(
        self, height: int, width: int, rng: np.random.Generator,
    ) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` for a ``height x width`` frame."""
        sides = [int(min(height, width) * s) for s in self.scales]
        candidates = [
            (w, h) for i, h in enumerate(sides) for j, w in enumerate(sides)
            if abs(i - j) <= self.max_wh_scale_gap
        ]
        crop_w, crop_h = candidates[int(rng.integers(len(candidates)))]
        target_w, target_h = _pair(self.input_size)
        if abs(crop_w - target_w) < 3:
            crop_w = min(target_w, width)
        if abs(crop_h - target_h) < 3:
            crop_h = min(target_h, height)
        if self.random_crop:
            x = int(rng.integers(0, width - crop_w, endpoint=True))
            y = int(rng.integers(0, height - crop_h, endpoint=True))
        else:
            offsets = _five_offsets(width, height, crop_w, crop_h)
            if self.num_fixed_crops == 13:
                w_step, h_step = (width - crop_w) // 4, (height - crop_h) // 4
                offsets += [
                    (0, 2 * h_step), (4 * w_step, 2 * h_step), (2 * w_step, 4 * h_step),
                    (2 * w_step, 0), (w_step, h_step), (3 * w_step, h_step),
                    (w_step, 3 * h_step), (3 * w_step, 3 * h_step),
                ]
            x, y = offsets[int(rng.integers(len(offsets)))]
        return x, y, x + crop_w, y + crop_h

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "multi_scale_crop")
        sample.geometry = geometry.crop(*self.crop_box(*geometry.size, sample.rng))
        return sample


@attrs.frozen(kw_only=True)
class CenterCrop:
    """Crop ``crop_size`` (w, h) at ``((W - w) // 2, (H - h) // 2)``."""

    needs_pixels: ClassVar[bool] = False
    crop_size: int | tuple[int, int]

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "center_crop")
        height, width = geometry.size
        crop_w, crop_h = _pair(self.crop_size)
        if crop_w > width or crop_h > height:
            raise _too_small(sample, "center_crop", (crop_w, crop_h), (height, width))
        x, y = (width - crop_w) // 2, (height - crop_h) // 2
        sample.geometry = geometry.crop(x, y, x + crop_w, y + crop_h)
        return sample


@attrs.frozen(kw_only=True)
class ThreeCrop:
    """Three test views along the long side: left/top, right/bottom, middle (MMAction2 order).

    One side of ``crop_size`` (w, h) must equal the frame's. Multiplies ``num_crops`` by 3.
    """

    needs_pixels: ClassVar[bool] = False
    crop_size: int | tuple[int, int]

    def __call__(self, sample: VideoSample) -> VideoSample:
        height, width = _pending(sample, "three_crop").size
        crop_w, crop_h = _pair(self.crop_size)
        if crop_h == height and crop_w <= width:
            step = (width - crop_w) // 2
            offsets = [(0, 0), (2 * step, 0), (step, 0)]
        elif crop_w == width and crop_h <= height:
            step = (height - crop_h) // 2
            offsets = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise DataError(
                f"{sample.source}: three_crop {crop_w}x{crop_h} (w x h) needs one side equal to "
                f"the frame's {width}x{height}; resize the short side to it first",
                path=sample.source,
            )
        return _render_views(sample, "three_crop", offsets, (crop_w, crop_h))


@attrs.frozen(kw_only=True)
class TenCrop:
    """Four corners and center, each followed by its horizontal mirror (MMAction2 order).

    Multiplies ``num_crops`` by 10; the mirrors reuse their view's resample.
    """

    needs_pixels: ClassVar[bool] = False
    crop_size: int | tuple[int, int]

    def __call__(self, sample: VideoSample) -> VideoSample:
        height, width = _pending(sample, "ten_crop").size
        crop_w, crop_h = _pair(self.crop_size)
        if crop_w > width or crop_h > height:
            raise _too_small(sample, "ten_crop", (crop_w, crop_h), (height, width))
        offsets = _five_offsets(width, height, crop_w, crop_h)
        return _render_views(sample, "ten_crop", offsets, (crop_w, crop_h), mirrored=True)


@attrs.frozen(kw_only=True)
class Flip:
    """Mirror the whole clip with probability ``flip_ratio``.

    With ``flip_label_map`` a flipped clip's label is remapped (Something-Something's "left to
    right" becomes "right to left"); labels not in the map stay. Flow is mirrored as motion.
    """

    needs_pixels: ClassVar[bool] = False
    flip_ratio: float = 0.5
    direction: Literal["horizontal", "vertical"] = "horizontal"
    flip_label_map: dict[int, int] | None = None

    def __attrs_post_init__(self) -> None:
        if self.direction not in ("horizontal", "vertical"):
            raise ValueError(
                f"flip direction must be horizontal or vertical, got {self.direction!r}"
            )
        if not 0 <= self.flip_ratio <= 1:
            raise ValueError(f"flip flip_ratio must be in [0, 1], got {self.flip_ratio}")

    def __call__(self, sample: VideoSample) -> VideoSample:
        geometry = _pending(sample, "flip")
        flip = bool(sample.rng.random() < self.flip_ratio)
        sample.meta["flip"] = flip
        sample.meta["flip_direction"] = self.direction
        if flip:
            sample.geometry = geometry.flip(self.direction)
            if self.flip_label_map and sample.label is not None:
                remap = self.flip_label_map
                label = sample.label
                sample.label = (
                    tuple(remap.get(int(x), int(x)) for x in label) if isinstance(label, tuple)
                    else remap.get(int(label), int(label))
                )
        return sample


@attrs.frozen(kw_only=True)
class ColorJitter:
    """Random brightness, contrast, saturation and hue, one draw per clip, MMAction2 1.x rules.

    A float ``v`` means the factor range ``(1 - v, 1 + v)`` (hue: ``(-v, v)``); a pair is the
    range itself. As in MMAction2 the ops run in float without clipping in between, contrast
    blends with each frame's mean gray, and hue ``h`` shifts OpenCV's 180-step hue by
    ``int(h * 255)`` steps. Unlike MMAction2, which draws the op order once per process, the
    order is drawn per clip from ``sample.rng`` so that it is reproducible.
    """

    needs_pixels: ClassVar[bool] = True
    brightness: float | tuple[float, float] = 0.5
    contrast: float | tuple[float, float] = 0.5
    saturation: float | tuple[float, float] = 0.5
    hue: float | tuple[float, float] = 0.1

    def _range(self, name: str, centre: float, bound: float) -> tuple[float, float]:
        value = getattr(self, name)
        low, high = (centre - value, centre + value) if isinstance(value, (int, float)) else value
        if not centre - bound <= low <= high <= centre + bound:
            raise ValueError(
                f"color_jitter {name} {value!r}: range must lie in "
                f"[{centre - bound}, {centre + bound}]"
            )
        return float(low), float(high)

    def __attrs_post_init__(self) -> None:
        self.factor_ranges()

    def factor_ranges(self) -> dict[str, tuple[float, float]]:
        return {
            "brightness": self._range("brightness", 1.0, 1.0),
            "contrast": self._range("contrast", 1.0, 1.0),
            "saturation": self._range("saturation", 1.0, 1.0),
            "hue": self._range("hue", 0.0, 0.5),
        }

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = _frames(sample, "color_jitter")
        ranges = self.factor_ranges()
        b, c, s, h = (float(sample.rng.uniform(*ranges[k]))
                      for k in ("brightness", "contrast", "saturation", "hue"))
        order = sample.rng.permutation(4).tolist()
        gray = torch.tensor(_GRAY, dtype=torch.float32)
        x = frames.to(torch.float32)
        for op in order:
            if op == 0 and b != 1:
                x = x * b
            elif op == 1 and c != 1:
                mean = (x @ gray).mean(dim=(1, 2), keepdim=True).unsqueeze(-1)
                x = c * x + (1 - c) * mean
            elif op == 2 and s != 1:
                x = s * x + (1 - s) * (x @ gray).unsqueeze(-1)
            elif op == 3 and int(h * 255) != 0:
                shift = int(h * 255) / 180
                shift -= round(shift)
                rgb = x.clamp(0, 255).floor().div(255).permute(0, 3, 1, 2)
                x = TF.adjust_hue(rgb, shift).permute(0, 2, 3, 1).mul(255)
        sample.frames = x.round().clamp(0, 255).to(torch.uint8)
        sample.meta["color_jitter"] = {"brightness": b, "contrast": c, "saturation": s, "hue": h,
                                       "order": order}
        return sample


@attrs.frozen(kw_only=True)
class Normalize:
    """Record ``(x - mean) / std`` for :func:`normalize_on_device`; the frames stay uint8.

    ``mean`` and ``std`` are per channel in 0-255 units (RGB, or x/y for flow); ``to_bgr``
    reverses the channels first, for weights trained on BGR input.
    """

    needs_pixels: ClassVar[bool] = False
    mean: tuple[float, ...]
    std: tuple[float, ...]
    to_bgr: bool = False

    def __attrs_post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError(
                f"normalize mean {self.mean} and std {self.std} must have one value per channel"
            )
        if any(s <= 0 for s in self.std):
            raise ValueError(f"normalize std {self.std} must be positive")

    def __call__(self, sample: VideoSample) -> VideoSample:
        sample.meta["normalize"] = {"mean": tuple(self.mean), "std": tuple(self.std),
                                    "to_bgr": self.to_bgr}
        return sample


@attrs.frozen(kw_only=True)
class FormatShape:
    """Permute uint8 ``[V * num_clips * clip_len, H, W, C]`` into the model's layout.

    ``NCHW``: ``[V * num_clips * clip_len, C, H, W]``; ``NCTHW``: ``[V * num_clips, C, clip_len,
    H, W]``; ``NCHW_Flow``: ``[V * num_clips, clip_len * C, H, W]`` (channels time-major, x/y
    interleaved); ``NPTCHW``: ``[P, num_clips * clip_len, C, H, W]`` with ``P =
    meta["num_proposals"]``. V is ``num_crops``; the counts stay on the sample for test-time
    averaging. ``collapse`` drops a leading axis of 1 (MMAction2's AVA setting).
    """

    needs_pixels: ClassVar[bool] = True
    input_format: InputFormat
    collapse: bool = False

    def __attrs_post_init__(self) -> None:
        if self.input_format not in CHANNEL_DIM or self.input_format == "NHWC":
            raise ValueError(f"format_shape input_format {self.input_format!r} is not one of "
                             "NCHW, NCTHW, NCHW_Flow, NPTCHW")

    def layout(self, sample: VideoSample) -> tuple[int, int, int, int] | None:
        """The memory order of the axes ``(N, H, W, C)`` this step's result has, where it is one
        (a read that resamples while decoding writes the frames that way; the permute below is
        then free); None for ``NCTHW`` with several clips, whose clips interleave the axes."""
        if self.input_format != "NCTHW":
            return (0, 3, 1, 2)
        frames = sample.frames
        return (3, 0, 1, 2) if frames is not None and frames.shape[0] == sample.clip_len else None

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = _frames(sample, "format_shape")
        length = sample.num_clips * sample.clip_len
        groups = int(sample.meta.get("num_proposals", 1)) if self.input_format == "NPTCHW" \
            else sample.num_crops
        if frames.shape[0] != groups * length:
            raise ConfigError(
                f"format_shape {self.input_format}: {frames.shape[0]} frames, expected "
                f"{groups} x num_clips {sample.num_clips} x clip_len {sample.clip_len}"
            )
        _, height, width, channels = frames.shape
        if self.input_format == "NCHW":
            out = frames.permute(0, 3, 1, 2)
        elif self.input_format == "NCTHW":
            out = frames.view(-1, sample.clip_len, height, width, channels).permute(0, 4, 1, 2, 3)
        elif self.input_format == "NCHW_Flow":
            out = frames.view(-1, sample.clip_len, height, width, channels).permute(0, 1, 4, 2, 3)
            out = out.reshape(-1, sample.clip_len * channels, height, width)
        else:
            out = frames.view(groups, length, height, width, channels).permute(0, 1, 4, 2, 3)
        if self.collapse:
            if out.shape[0] != 1:
                raise ConfigError(
                    f"format_shape collapse needs one leading item, got {out.shape[0]}"
                )
            out = out[0]
        sample.frames = out.contiguous()
        sample.meta["input_format"] = self.input_format
        sample.meta["input_shape"] = tuple(sample.frames.shape)
        return sample


def normalize_on_device(
    batch: torch.Tensor, mean: Sequence[float], std: Sequence[float], *, input_format: str,
    to_bgr: bool = False, dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """``(batch - mean) / std`` as ``dtype``, for a uint8 batch already on the model's device.

    ``input_format`` (``"NHWC"`` for unformatted frames) locates the channel axis, with or
    without a leading batch axis; it has no default because a wrong guess can pass silently
    (an NCTHW clip with 3 frames looks like NCHW). :func:`collate` returns all these keyword
    arguments. A mean shorter than the channel axis is tiled, so a two-value flow mean covers
    ``NCHW_Flow``'s time-major x/y channels.
    """
    dim = CHANNEL_DIM[input_format]
    channels = batch.shape[dim]
    if len(mean) != len(std) or channels % len(mean):
        raise ValueError(
            f"normalize: {len(mean)} mean and {len(std)} std values for {channels} channels"
        )
    x = batch.to(dtype=dtype, copy=True)
    if to_bgr:
        x = x.flip(dim)
    shape = (-1,) + (1,) * (-dim - 1)
    repeat = channels // len(mean)
    mean_t = torch.tensor(mean, dtype=dtype, device=x.device).repeat(repeat).view(shape)
    std_t = torch.tensor(std, dtype=dtype, device=x.device).repeat(repeat).view(shape)
    return x.sub_(mean_t).div_(std_t)


def collate(samples: Sequence[VideoSample]) -> dict[str, Any]:
    """Stack formatted samples into a uint8 batch plus what the model side needs to use it.

    Returns ``inputs`` (uint8 ``[B, ...]``), ``labels`` (int64 ``[B]`` for single labels, else
    the list of label tuples), ``num_clips``, ``clip_len``, ``num_crops``, ``input_format`` and
    ``normalize`` (the kwargs for :func:`normalize_on_device`, or None); ``person_mask`` (uint8
    ``[B, N, H, W]``) when the samples carry one.
    """
    first = samples[0]
    keys = ("num_clips", "clip_len", "num_crops")
    for sample in samples[1:]:
        if any(getattr(sample, k) != getattr(first, k) for k in keys) or (
            sample.meta.get("normalize") != first.meta.get("normalize")
        ):
            raise ValueError(
                f"collate: {sample.source} was prepared differently from {first.source}"
            )
    labels: Any = [s.label for s in samples]
    if all(isinstance(label, int) for label in labels):
        labels = torch.tensor(labels, dtype=torch.int64)
    input_format = first.meta.get("input_format", "NHWC")
    normalize = first.meta.get("normalize")
    batch = {
        "inputs": torch.stack([s.frames for s in samples]),
        "labels": labels,
        **{k: getattr(first, k) for k in keys},
        "input_format": input_format,
        "normalize": None if normalize is None else {**normalize, "input_format": input_format},
    }
    masked = [s.person_mask is not None for s in samples]
    if any(masked):
        if not all(masked):
            missing = samples[masked.index(False)].source
            raise ValueError(f"collate: {missing} has no person_mask but other samples of the batch do")
        batch["person_mask"] = torch.stack([s.person_mask for s in samples])
    return batch


TRANSFORMS: dict[str, type] = {
    "resize": Resize,
    "random_rescale": RandomRescale,
    "random_crop": RandomCrop,
    "random_resized_crop": RandomResizedCrop,
    "multi_scale_crop": MultiScaleCrop,
    "center_crop": CenterCrop,
    "three_crop": ThreeCrop,
    "ten_crop": TenCrop,
    "flip": Flip,
    "color_jitter": ColorJitter,
    "normalize": Normalize,
    "format_shape": FormatShape,
}
