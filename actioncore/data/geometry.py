"""Pending geometric transform of a clip: crop box, output size and flips, applied in one resample.

Resizes, crops and flips only compose a :class:`Geometry`; the pixels are touched once, when a
step needs them or the pipeline ends. Resampling once instead of once per op saves the work
and avoids stacking interpolation blur, the same idea as MMAction2's ``lazy=True`` plus ``Fuse``
(whose crop -> resize -> flip order and rounded crop box this follows).
"""
from __future__ import annotations

from typing import Literal

import attrs
import numpy as np
import torch
import torch.nn.functional as F

Interpolation = Literal["nearest", "bilinear", "bicubic"]


@attrs.frozen
class Geometry:
    """Crop ``box`` of frames of ``source_size``, resize it to ``size``, then mirror.

    ``box`` is ``(x0, y0, x1, y1)`` in source pixels and may be fractional, since a crop taken
    after a resize lands between source pixels; it is rounded only when applied.
    """

    source_size: tuple[int, int]
    """(height, width) of the frames this geometry applies to."""
    box: tuple[float, float, float, float]
    size: tuple[int, int]
    """(height, width) of the result."""
    hflip: bool = False
    vflip: bool = False
    interpolation: Interpolation = "bilinear"
    antialias: bool = True
    """Low-pass filter when shrinking. The fused resample is often one large downscale (a 720p
    frame straight to 224 px) that plain bilinear sampling would alias; for enlarging it changes
    nothing. False reproduces OpenCV/MMAction2 ``INTER_LINEAR`` numerics."""

    @classmethod
    def identity(cls, height: int, width: int) -> Geometry:
        return cls((height, width), (0.0, 0.0, float(width), float(height)), (height, width))

    def resize(
        self, height: int, width: int, *, interpolation: Interpolation | None = None,
        antialias: bool | None = None,
    ) -> Geometry:
        """Scale the current output to ``height x width``; the last resize picks the filter."""
        if height < 1 or width < 1:
            raise ValueError(f"resize to {height}x{width}: sizes must be positive")
        return attrs.evolve(
            self, size=(height, width),
            interpolation=self.interpolation if interpolation is None else interpolation,
            antialias=self.antialias if antialias is None else antialias,
        )

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> Geometry:
        """Keep ``[x0, x1) x [y0, y1)`` of the current output (after any pending flip)."""
        height, width = self.size
        if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
            raise ValueError(f"crop box {(x0, y0, x1, y1)} outside a {height}x{width} frame")
        if self.hflip:
            x0, x1 = width - x1, width - x0
        if self.vflip:
            y0, y1 = height - y1, height - y0
        bx0, by0, bx1, by1 = self.box
        sx, sy = (bx1 - bx0) / width, (by1 - by0) / height
        box = (bx0 + x0 * sx, by0 + y0 * sy, bx0 + x1 * sx, by0 + y1 * sy)
        return attrs.evolve(self, box=box, size=(y1 - y0, x1 - x0))

    def flip(self, direction: Literal["horizontal", "vertical"]) -> Geometry:
        if direction == "horizontal":
            return attrs.evolve(self, hflip=not self.hflip)
        if direction == "vertical":
            return attrs.evolve(self, vflip=not self.vflip)
        raise ValueError(f"unknown flip direction {direction!r}")

    def pixel_box(self) -> tuple[int, int, int, int]:
        """The integer ``(left, top, width, height)`` region actually resampled.

        Offsets and extents are rounded separately so that a fractional offset never changes the
        size of a crop that needs no resampling.
        """
        src_h, src_w = self.source_size
        x0, y0, x1, y1 = self.box
        left = min(max(round(x0), 0), src_w - 1)
        top = min(max(round(y0), 0), src_h - 1)
        width = min(max(round(x1 - x0), 1), src_w - left)
        height = min(max(round(y1 - y0), 1), src_h - top)
        return left, top, width, height

    def on_region(self) -> tuple[tuple[int, int, int, int], Geometry]:
        """:meth:`pixel_box`, and this geometry for frames already cut to that box: applied to
        them it gives what :meth:`apply` gives on whole frames, so a caller can copy just the box."""
        left, top, width, height = self.pixel_box()
        x0, y0, x1, y1 = self.box
        cut = attrs.evolve(self, source_size=(height, width),
                           box=(x0 - left, y0 - top, x1 - left, y1 - top))
        return (left, top, width, height), cut

    def is_identity(self) -> bool:
        src_h, src_w = self.source_size
        return (
            self.pixel_box() == (0, 0, src_w, src_h) and self.size == self.source_size
            and not (self.hflip or self.vflip)
        )

    def apply(self, frames: torch.Tensor, *, flow: bool = False) -> torch.Tensor:
        """Crop, resample once and mirror uint8 frames ``[N, H, W, C]``.

        The result never is a view into ``frames`` (identity returns ``frames`` itself), so a
        small crop does not pin, or get shipped to the main process with, the whole decoded clip.
        ``flow`` marks optical-flow frames (channels x, y), whose motion component is negated
        along each mirrored axis.
        """
        if tuple(frames.shape[1:3]) != self.source_size:
            raise ValueError(
                f"geometry made for {self.source_size} frames applied to {tuple(frames.shape[1:3])}"
            )
        if self.is_identity():
            return frames
        left, top, width, height = self.pixel_box()
        region = frames[:, top:top + height, left:left + width]
        if (height, width) != self.size:
            nchw = region.permute(0, 3, 1, 2)
            if self.interpolation == "nearest":
                nchw = F.interpolate(nchw, size=self.size, mode="nearest")
            else:
                nchw = F.interpolate(
                    nchw, size=self.size, mode=self.interpolation, align_corners=False,
                    antialias=self.antialias,
                )
            region = nchw.permute(0, 2, 3, 1)
        elif not (self.hflip or self.vflip):
            return region.clone(memory_format=torch.contiguous_format)
        return flip_frames(region, horizontal=self.hflip, vertical=self.vflip, flow=flow)

    def transform_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Map ``[..., 4]`` boxes ``(x1, y1, x2, y2)`` from source pixels to output pixels.

        Uses the same rounded region as :meth:`apply`, so boxes stay aligned with the pixels.
        """
        left, top, width, height = self.pixel_box()
        out_h, out_w = self.size
        boxes = np.asarray(boxes, dtype=np.float64)
        x = (boxes[..., 0::2] - left) * (out_w / width)
        y = (boxes[..., 1::2] - top) * (out_h / height)
        if self.hflip:
            x = out_w - x[..., ::-1]
        if self.vflip:
            y = out_h - y[..., ::-1]
        out = np.empty_like(boxes)
        out[..., 0::2] = np.clip(x, 0, out_w)
        out[..., 1::2] = np.clip(y, 0, out_h)
        return out


def flip_frames(
    frames: torch.Tensor, *, horizontal: bool, vertical: bool, flow: bool = False,
) -> torch.Tensor:
    """Mirror ``[N, H, W, C]`` frames; a mirrored result is a new tensor, never a view.

    For uint8 flow (channels x, y) the motion component along a mirrored axis ``v`` becomes
    ``255 - v``, as MMAction2 does for flow-x on horizontal flips.
    """
    dims = [d for d, on in ((2, horizontal), (1, vertical)) if on]
    if not dims:
        return frames
    out = frames.flip(dims)
    if flow:
        for channel, on in ((0, horizontal), (1, vertical)):
            if on:
                out[..., channel] = 255 - out[..., channel]
    return out
