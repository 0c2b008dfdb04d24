"""``temporal_augment``: video-data-aug's TemporalAugment (SEED003 §2.3(b)), one draw per clip.

One uniform draw picks: nothing (``p_none``), *half* (``p_half``), *reverse* (``p_reverse``) or
*drop-and-repeat* (the rest). Half overwrites the first half of the clip with the second with
probability ``half_first`` (frames 4-7 into slots 0-3 for 8 frames), otherwise the second half with
the first. Drop-and-repeat drops each frame but the first with probability ``drop_prob`` and shows
the previous *output* frame in its place, so runs of drops freeze on the last kept frame (the
original's ``aug_idx[i] = aug_idx[i - 1]``). The person mask and boxes are reordered alike.

The original refuses clips with ``num_clips > 1``; here every clip of the sample gets the same
reordering (one draw per sample), which is the same thing for one clip.
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np
import torch

from actioncore.sdk import ConfigError
from actioncore.sdk.data import VideoSample

from .frames import clip_frames

CHOICES = ("none", "half", "reverse", "drop")


def clip_order(choice: str, clip_len: int, rng: np.random.Generator, *, half_first: float,
               drop_prob: float) -> np.ndarray:
    """Source frame of each output slot for one clip of ``clip_len`` frames."""
    order = np.arange(clip_len)
    half = clip_len // 2
    if choice == "half":
        if rng.random() < half_first:
            order[:half] = order[half:2 * half]
        else:
            order[half:2 * half] = order[:half]
    elif choice == "reverse":
        order = order[::-1].copy()
    elif choice == "drop":
        drops = rng.random(clip_len) < drop_prob
        for i in range(1, clip_len):
            if drops[i]:
                order[i] = order[i - 1]
    return order


@attrs.frozen(kw_only=True)
class TemporalAugment:
    """none / half / reverse / drop-and-repeat with the given probabilities (defaults: the original's)."""

    needs_pixels: ClassVar[bool] = True
    p_none: float = 0.25
    p_half: float = 0.25
    p_reverse: float = 0.25
    p_drop: float = 0.25
    half_first: float = 0.5
    """Probability that *half* copies the second half over the first (else the reverse)."""
    drop_prob: float = 0.5
    """Per-frame drop probability of drop-and-repeat (the first frame is never dropped)."""

    def __attrs_post_init__(self) -> None:
        probs = self.probabilities()
        if any(p < 0 for p in probs) or not np.isclose(sum(probs), 1.0):
            raise ValueError(f"temporal_augment p_none, p_half, p_reverse, p_drop must be >= 0 and sum to 1, got {probs}")
        for name in ("half_first", "drop_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"temporal_augment {name} must be in [0, 1], got {getattr(self, name)}")

    def probabilities(self) -> tuple[float, float, float, float]:
        return (self.p_none, self.p_half, self.p_reverse, self.p_drop)

    def choose(self, rng: np.random.Generator) -> str:
        """The original's ``rnd < 0.25 / 0.5 / 0.75`` ladder, for any probabilities."""
        edges = np.cumsum(self.probabilities())
        return CHOICES[min(int(np.searchsorted(edges, rng.random(), side="right")), len(CHOICES) - 1)]

    def __call__(self, sample: VideoSample) -> VideoSample:
        frames = clip_frames(sample, "temporal_augment")
        if frames.shape[0] != sample.num_clips * sample.clip_len:
            raise ConfigError(f"temporal_augment: {frames.shape[0]} frames, expected num_clips {sample.num_clips} "
                              f"x clip_len {sample.clip_len}")
        choice = self.choose(sample.rng)
        sample.meta["temporal_augment"] = choice
        if choice == "none":
            return sample
        order = clip_order(choice, sample.clip_len, sample.rng, half_first=self.half_first,
                           drop_prob=self.drop_prob)
        starts = np.arange(0, frames.shape[0], sample.clip_len)[:, None]
        index = (starts + order[None, :]).reshape(-1)
        sample.frames = frames[torch.from_numpy(index)]
        if sample.person_mask is not None:
            sample.person_mask = sample.person_mask[torch.from_numpy(index)]
        if sample.boxes is not None:
            sample.boxes = [sample.boxes[i] for i in index.tolist()]
        sample.meta["temporal_order"] = order.tolist()
        return sample
