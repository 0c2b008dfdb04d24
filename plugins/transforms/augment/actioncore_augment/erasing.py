"""``random_erasing``: MMAction2 1.2.0's ``RandomErasing`` for clips (Zhong et al., 2017).

With probability ``erase_prob`` one rectangle is drawn per clip and erased in every frame alike
(MMAction2 draws the patch once and fills it in each frame). Its area is ``U(min_area_ratio,
max_area_ratio)`` of the frame, its aspect ratio (height / width) log-uniform in ``aspect_range``;
``h = min(round(sqrt(area * aspect)), H)``, ``w = min(round(sqrt(area / aspect)), W)``, and the
top-left corner is uniform over the positions that keep it inside (``randint(0, H - h)``, so the
last row/column of positions is never drawn, as in MMAction2).

``mode = "const"`` fills ``fill_color``; ``mode = "rand"`` fills each pixel of each frame with an
independent uniform value in [0, 255], or, with ``fill_std``, ``N(fill_color, fill_std)`` clipped
to [0, 255] (MMAction2 casts to int before clipping: values are truncated toward zero). Frames stay
uint8; the step runs on decoded frames, before ``format_shape``. Randomness comes from
``sample.rng``, so a resumed run erases the same regions.
"""
from __future__ import annotations

import math
from typing import ClassVar

import attrs
import numpy as np
import torch

from actioncore.sdk.data import VideoSample

from .frames import clip_frames


def _three(value: float | tuple[float, ...] | list[float], key: str) -> tuple[float, float, float]:
    values = tuple(float(v) for v in value) if isinstance(value, (tuple, list)) else (float(value),) * 3
    if len(values) != 3:
        raise ValueError(f"random_erasing {key} must be one number or three, got {value!r}")
    return values  # type: ignore[return-value]


@attrs.frozen
class Patch:
    """The erased rectangle: rows ``top:top + height``, columns ``left:left + width``."""

    top: int
    left: int
    height: int
    width: int


@attrs.define
class RandomErasing:
    """Erase one random rectangle of the clip (see the module docstring)."""

    needs_pixels: ClassVar[bool] = True
    erase_prob: float = 0.5
    min_area_ratio: float = 0.02
    max_area_ratio: float = 1 / 3
    aspect_range: float | tuple[float, float] = (3 / 10, 10 / 3)
    """(min, max) height / width; one number ``a`` means ``(min(a, 1/a), max(a, 1/a))``."""
    mode: str = "const"
    fill_color: float | tuple[float, float, float] = (128.0, 128.0, 128.0)
    fill_std: float | tuple[float, float, float] | None = None

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.erase_prob <= 1:
            raise ValueError(f"random_erasing erase_prob must be in [0, 1], got {self.erase_prob}")
        if not 0 <= self.min_area_ratio <= self.max_area_ratio <= 1:
            raise ValueError("random_erasing needs 0 <= min_area_ratio <= max_area_ratio <= 1, got "
                             f"{self.min_area_ratio}, {self.max_area_ratio}")
        if isinstance(self.aspect_range, (int, float)):
            low = min(float(self.aspect_range), 1 / float(self.aspect_range))
            self.aspect_range = (low, 1 / low)
        low, high = (float(a) for a in self.aspect_range)
        if not 0 < low <= high:
            raise ValueError(f"random_erasing aspect_range must be positive (min, max), got {self.aspect_range}")
        self.aspect_range = (low, high)
        if self.mode not in ("const", "rand"):
            raise ValueError(f"random_erasing mode must be 'const' or 'rand', got {self.mode!r}")
        self.fill_color = _three(self.fill_color, "fill_color")
        if self.fill_std is not None:
            self.fill_std = _three(self.fill_std, "fill_std")

    def patch(self, rng: np.random.Generator, height: int, width: int) -> Patch:
        """MMAction2's ``random_patch``: log-uniform aspect, uniform area, corner inside the frame."""
        log_low, log_high = np.log(np.array(self.aspect_range, dtype=np.float32))
        aspect = math.exp(rng.uniform(log_low, log_high))
        area = height * width * rng.uniform(self.min_area_ratio, self.max_area_ratio)
        h = min(int(round(math.sqrt(area * aspect))), height)
        w = min(int(round(math.sqrt(area / aspect))), width)
        top = int(rng.integers(0, height - h)) if height > h else 0
        left = int(rng.integers(0, width - w)) if width > w else 0
        return Patch(top, left, h, w)

    def fill(self, rng: np.random.Generator, frames: int, patch: Patch) -> torch.Tensor:
        """uint8 ``[frames, h, w, 3]`` (or a broadcastable colour for ``const``)."""
        if self.mode == "const":
            # MMAction2 casts the colour with np.uint8 (fractions truncated)
            return torch.tensor(np.array(self.fill_color).astype(np.uint8))
        shape = (frames, patch.height, patch.width, 3)
        if self.fill_std is None:
            values = rng.uniform(0, 256, shape).astype(np.uint8)
        else:
            values = np.clip(rng.normal(self.fill_color, self.fill_std, shape).astype(np.int32), 0, 255)
        return torch.from_numpy(values.astype(np.uint8))

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = clip_frames(sample, "random_erasing")
        if sample.rng.random() > self.erase_prob:
            sample.meta["random_erasing"] = None
            return sample
        patch = self.patch(sample.rng, int(frames.shape[1]), int(frames.shape[2]))
        frames = frames.clone()
        region = frames[:, patch.top:patch.top + patch.height, patch.left:patch.left + patch.width]
        region[...] = self.fill(sample.rng, int(frames.shape[0]), patch)
        sample.frames = frames
        sample.meta["random_erasing"] = attrs.astuple(patch)
        return sample
