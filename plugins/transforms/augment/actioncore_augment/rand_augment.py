"""``rand_augment``: the 15-op FixMatch RandAugment of video-data-aug, one draw per clip.

The op list, value ranges and quirks are those of video-data-aug's ``rand_augment.py``
(SEED003 §2.3(a), "FixMatch Table 12"), whose ops are PIL's; here each op is one
``torchvision.transforms.v2.functional`` call over all frames of the clip at once (uint8
``[N, 3, H, W]``), which matches PIL's numbers (see the tests for the tolerances):

- ``num_ops`` ops are drawn uniformly *with replacement*; value ``v = m / 30 * (high - low) + low``.
- Color, Contrast, Brightness and Sharpness use the factor ``v`` itself (0.35 at m = 10): they
  only ever reduce, never enhance (the original has no random direction for them).
- Rotate, Shear and Translate share one random sign per clip; their resampling is nearest and
  the uncovered area is ``fill`` (the original's ``(124, 116, 104)``). Shears pivot on the
  top-left corner (PIL's affine ``(1, v, 0, 0, 1, 0)``), rotations on the centre.
- Solarize inverts pixels ``>= v`` (85.3 at m = 10); Posterize keeps ``int(v)`` bits.
- CutoutAbs fills a square of side ``v`` px (37.3 at m = 10, PIL draws the end row/column too,
  so 38 px) whose top-left corner is ``max(0, c - v / 2)`` for a centre ``c`` per clip. The
  original draws ``c`` as ``np.random.uniform(W)``, i.e. with ``low = W, high = 1``: uniform on
  ``(1, W]``; that distribution is kept.

The op, its value, the sign and the cutout centre are drawn once per clip from ``sample.rng``
and applied alike to every frame. Geometric ops and CutoutAbs are applied to
``sample.person_mask`` too, with fill 0; photometric ops leave it alone. Person boxes cannot follow
a rotation or a shear, so after a geometric op ``sample.boxes`` is dropped (steps that need boxes
then refuse to run: put ``person_mask`` before ``rand_augment``).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

import attrs
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from torchvision.transforms import InterpolationMode

from actioncore.sdk.data import VideoSample

from .frames import clip_frames

FILL_COLOR: tuple[int, int, int] = (124, 116, 104)
"""video-data-aug's fill: the data set's mean pixel, out-of-image area and cutout."""

BOXES_DROPPED = "person_boxes_dropped"
"""``sample.meta`` key: the step that made the person boxes stale (a rotation or a shear)."""

OpFn = Callable[[torch.Tensor, float, "Draw", list[float]], torch.Tensor]


@attrs.frozen
class Draw:
    """What one clip draws besides the ops: the shared sign and the cutout centre (x, y)."""

    negative: bool
    centre: tuple[float, float]


def _signed(value: float, draw: Draw) -> float:
    return -value if draw.negative else value


def _affine(x: torch.Tensor, fill: list[float], *, shear: tuple[float, float] = (0.0, 0.0),
            translate: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """PIL's ``img.transform(size, AFFINE, (1, sx, tx, sy, 1, ty))`` (output (x, y) samples input
    ``(x + sx*y + tx, sy*x + y + ty)``, nearest): a shear about the top-left corner, then a shift."""
    angles = [math.degrees(math.atan(shear[0])), math.degrees(math.atan(shear[1]))]
    return TF.affine(x, angle=0.0, translate=[-translate[0], -translate[1]], scale=1.0, shear=angles,
                     interpolation=InterpolationMode.NEAREST, fill=fill, center=[0.0, 0.0])


def _identity(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return x


def _rotate(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return TF.rotate(x, _signed(v, draw), interpolation=InterpolationMode.NEAREST, fill=fill)


def _solarize(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return x if v > 255 else TF.solarize(x, threshold=v)  # PIL: nothing is >= 256


def _shear_x(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return _affine(x, fill, shear=(_signed(v, draw), 0.0))


def _shear_y(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return _affine(x, fill, shear=(0.0, _signed(v, draw)))


def _translate_x(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return _affine(x, fill, translate=(_signed(v, draw) * x.shape[-1], 0.0))


def _translate_y(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return _affine(x, fill, translate=(0.0, _signed(v, draw) * x.shape[-2]))


def _posterize(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    return TF.posterize(x, bits=max(1, int(v)))


def cutout_box(height: int, width: int, side: float, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``, end exclusive, of CutoutAbs's square as PIL draws it.

    ``x0 = int(max(0, cx - side / 2))``, ``x1 = min(W, x0 + side)``; ``ImageDraw.rectangle``
    includes the end pixel ``int(x1)``, so the square is ``int(x1) - x0 + 1`` px wide.
    """
    x0 = int(max(0.0, centre[0] - side / 2))
    y0 = int(max(0.0, centre[1] - side / 2))
    x1 = min(width, int(min(width, x0 + side)) + 1)
    y1 = min(height, int(min(height, y0 + side)) + 1)
    return x0, y0, x1, y1


def _cutout(x: torch.Tensor, v: float, draw: Draw, fill: list[float]) -> torch.Tensor:
    if v < 0:
        return x
    x0, y0, x1, y1 = cutout_box(x.shape[-2], x.shape[-1], v, draw.centre)
    out = x.clone()
    out[..., y0:y1, x0:x1] = torch.tensor(fill, dtype=x.dtype).view(-1, 1, 1)
    return out


def _enhance(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> OpFn:
    return lambda x, v, draw, fill: fn(x, v)


@attrs.frozen
class Op:
    """One RandAugment op: its value range, what it does, and whether it moves pixels."""

    name: str
    low: float
    high: float
    fn: OpFn
    moves_pixels: bool = False
    """Geometric ops and CutoutAbs: applied to the person mask as well (fill 0)."""
    geometric: bool = False

    def value(self, magnitude: float) -> float:
        return magnitude / 30 * (self.high - self.low) + self.low


OPS: tuple[Op, ...] = (
    Op("Identity", 0.0, 1.0, _identity),
    Op("AutoContrast", 0, 1, _enhance(lambda x, v: TF.autocontrast(x))),
    Op("Equalize", 0, 1, _enhance(lambda x, v: TF.equalize(x))),
    Op("Rotate", 0, 30, _rotate, moves_pixels=True, geometric=True),
    Op("Solarize", 0, 256, _solarize),
    Op("Color", 0.05, 0.95, _enhance(TF.adjust_saturation)),
    Op("Contrast", 0.05, 0.95, _enhance(TF.adjust_contrast)),
    Op("Brightness", 0.05, 0.95, _enhance(TF.adjust_brightness)),
    Op("Sharpness", 0.05, 0.95, _enhance(TF.adjust_sharpness)),
    Op("ShearX", 0.0, 0.3, _shear_x, moves_pixels=True, geometric=True),
    Op("TranslateX", 0.0, 0.3, _translate_x, moves_pixels=True, geometric=True),
    Op("TranslateY", 0.0, 0.3, _translate_y, moves_pixels=True, geometric=True),
    Op("Posterize", 4, 8, _posterize),
    Op("ShearY", 0.0, 0.3, _shear_y, moves_pixels=True, geometric=True),
    Op("CutoutAbs", 0, 112, _cutout, moves_pixels=True),
)
"""video-data-aug's list, in its order (the index a draw picks)."""

OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}


def apply_op(op: Op, frames: torch.Tensor, *, magnitude: float, draw: Draw,
             fill: tuple[float, ...], mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``op`` on uint8 frames ``[N, 3, H, W]`` (and a ``[N, 1, H, W]`` mask, fill 0, when it moves pixels)."""
    value = op.value(magnitude)
    frames = op.fn(frames, value, draw, [float(c) for c in fill])
    if mask is not None and op.moves_pixels:
        mask = op.fn(mask, value, draw, [0.0])
    return frames, mask


@attrs.frozen(kw_only=True)
class RandAugment:
    """RandAugment(``num_ops``, ``magnitude``) with one draw per clip (see the module docstring)."""

    needs_pixels: ClassVar[bool] = True
    num_ops: int = 2
    magnitude: float = 10.0
    """In [0, 30], the original's scale (10 in every video-data-aug config)."""
    fill: tuple[int, int, int] = FILL_COLOR

    def __attrs_post_init__(self) -> None:
        if self.num_ops < 0:
            raise ValueError(f"rand_augment num_ops must be >= 0, got {self.num_ops}")
        if not 0 <= self.magnitude <= 30:
            raise ValueError(f"rand_augment magnitude must be in [0, 30], got {self.magnitude}")
        if len(self.fill) != 3 or any(not 0 <= c <= 255 for c in self.fill):
            raise ValueError(f"rand_augment fill must be three values in [0, 255], got {self.fill}")

    def draw(self, rng: np.random.Generator, height: int, width: int) -> tuple[list[Op], Draw]:
        """The clip's ops (with replacement), sign and cutout centre, in the original's order."""
        ops = [OPS[i] for i in rng.integers(len(OPS), size=self.num_ops).tolist()]
        negative = bool(rng.random() > 0.5)
        # np.random.uniform(W) in the original: low = W, high = 1, i.e. uniform on (1, W]
        cx, cy = width + (1 - width) * rng.random(), height + (1 - height) * rng.random()
        return ops, Draw(negative, (float(cx), float(cy)))

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = clip_frames(sample, "rand_augment")
        ops, draw = self.draw(sample.rng, int(frames.shape[1]), int(frames.shape[2]))
        x = frames.permute(0, 3, 1, 2)
        mask = None if sample.person_mask is None else sample.person_mask[:, None]
        for op in ops:
            x, mask = apply_op(op, x, magnitude=self.magnitude, draw=draw, fill=self.fill, mask=mask)
            if op.geometric and sample.boxes is not None:
                sample.boxes = None
                sample.meta[BOXES_DROPPED] = f"rand_augment ({op.name})"
        sample.frames = x.permute(0, 2, 3, 1).contiguous()
        if mask is not None:
            sample.person_mask = mask[:, 0].contiguous()
        sample.meta["rand_augment"] = {"ops": [op.name for op in ops], "negative": draw.negative,
                                       "centre": draw.centre}
        return sample
