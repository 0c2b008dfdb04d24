"""ActorCutMix at batch level (SEED003 §1.2 step 3, §2.4): the coin, the masks, the composites.

One coin per iteration with probability ``p``, drawn from a generator seeded by
``(runtime.seed, iteration, stream)``: a pure function of the iteration, so a resumed run draws
the same coins (streams keep the labeled branch's coin independent of the unlabeled one, as the
cross-dataset code draws two). On heads ``actioncore_augment.actor_cutmix`` builds composites
of the **weak** views; valid clips train on them instead of their strong view, invalid ones
keep the strong view with weight 1.

The mask: the original code passes the **strong** view's person mask (already warped by
RandAugment's geometric ops and reordered by the temporal op) and applies it to the weak frames
(SEED003 §2.4 "Observation"). ``mask_view = "strong"`` (the default) reproduces that;
``"weak"`` uses the weak view's own mask, which is pixel-aligned with the frames it cuts.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
import torch

MaskView = Literal["strong", "weak"]
UNLABELED_STREAM, LABELED_STREAM = 0, 1


def iteration_generator(seed: int, iteration: int, stream: int) -> torch.Generator:
    """A CPU generator seeded by ``(seed, iteration, stream)`` only."""
    state = np.random.SeedSequence([seed, iteration, stream]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def mask_like(mask: torch.Tensor, inputs: torch.Tensor, *, input_format: str, clip_len: int) -> torch.Tensor:
    """uint8 ``[B, N, H, W]`` per-frame masks shaped to broadcast over the recognizer's input.

    NCTHW inputs are ``[B, V, C, T, H, W]`` (``N = V * T``); NCHW inputs ``[B, N, C, H, W]``.
    """
    batch, frames, height, width = mask.shape
    if input_format == "NCTHW":
        shape = (batch, frames // clip_len, 1, clip_len, height, width)
    elif input_format == "NCHW":
        shape = (batch, frames, 1, height, width)
    else:
        raise ValueError(f"ActorCutMix needs NCTHW or NCHW inputs, got {input_format}")
    mask = mask.to(device=inputs.device, dtype=inputs.dtype).reshape(shape)
    if mask.shape[-2:] != inputs.shape[-2:]:
        raise ValueError(f"person masks of {tuple(mask.shape[-2:])} pixels for clips of {tuple(inputs.shape[-2:])}")
    return mask


@attrs.frozen
class Mix:
    """The result of one ActorCutMix draw on a batch."""

    inputs: torch.Tensor
    """The strong inputs with valid clips replaced by composites."""
    weight: torch.Tensor
    partner: torch.Tensor
    valid: torch.Tensor


def actor_cutmix_views(*, weak: torch.Tensor, strong: torch.Tensor, weak_batch: Mapping[str, Any],
                       strong_batch: Mapping[str, Any], probability: float, seed: int, iteration: int,
                       stream: int, mask_view: MaskView) -> Mix | None:
    """ActorCutMix of the weak views replacing the strong ones, or None (tails, or no masks)."""
    source = strong_batch if mask_view == "strong" else weak_batch
    if probability <= 0 or source.get("person_mask") is None:
        return None
    generator = iteration_generator(seed, iteration, stream)
    if not bool(torch.rand((), generator=generator) < probability):
        return None
    from actioncore_augment import actor_cutmix  # only runs that mix need the augment plugin

    masks = mask_like(source["person_mask"], weak, input_format=weak_batch["input_format"],
                      clip_len=int(weak_batch["clip_len"]))
    mixed, weight, partner, valid = actor_cutmix(weak, masks, generator=generator)
    valid = valid.to(weak.device)
    keep = valid.view(-1, *([1] * (weak.dim() - 1)))
    return Mix(inputs=torch.where(keep, mixed, strong), weight=weight.to(weak.device),
               partner=partner.to(weak.device), valid=valid)
