"""Batch-level mixing on normalised float inputs: ActorCutMix, mixup and cutmix.

The functions work on any recognizer layout ``[B, ...]`` whose last two axes are H, W (2D
``[B, N, C, H, W]``, 3D ``[B, V, C, T, H, W]``); masks are passed broadcastable to the input
(:func:`mask_like` makes one from a collated ``batch["person_mask"]``). Randomness comes only from
the ``torch.Generator`` the caller passes, so a run that seeds it per iteration resumes exactly.

The registered transforms ``actor_cutmix``, ``mixup`` and ``cutmix`` are *batch steps*
(``batch_step = True``): a task applies them to a batch as ``step(inputs, targets, batch=...,
generator=...) -> (inputs, soft_targets)``, e.g. the recognition task's ``batch_steps``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import torch

from actioncore.sdk import ConfigError


def partner_index(batch: int, device: torch.device | None = None) -> torch.Tensor:
    """ActorCutMix's partner of clip ``i``: ``B - 1 - i`` (the batch reversed)."""
    return torch.arange(batch - 1, -1, -1, device=device)


def actor_cutmix(inputs: torch.Tensor, masks: torch.Tensor, *, generator: torch.Generator | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The actor of clip ``i`` on the background of clip ``j = B - 1 - i`` (SEED003 §2.4).

    ``composite_i = x_i * M_i + x_j * (1 - M_j) * (1 - M_i)``: inside actor ``i`` its own pixels,
    where the partner's actor stood 0 (the data set mean after normalisation), elsewhere the
    partner's background. A clip is *invalid* when its mask is all 0 or all 1, or it is the middle
    clip of an odd batch; an invalid clip's mask counts as all ones (also as a partner), keeps its
    input and gets weight 1. ``weight_i = 1 - (1 - r_i) ** 4`` with ``r_i`` the mask's fraction of
    the clip; the soft target is ``w_i * y_i + (1 - w_i) * y_j``.

    Returns ``(mixed, weight [B], partner [B], valid [B] bool)``. ActorCutMix draws nothing:
    ``generator`` is accepted so that all batch functions share one calling convention.
    """
    batch = inputs.shape[0]
    if masks.shape[0] != batch:
        raise ValueError(f"actor_cutmix: {masks.shape[0]} masks for {batch} clips")
    m = masks.to(device=inputs.device, dtype=inputs.dtype)
    flat = m.flatten(1)
    partner = partner_index(batch, inputs.device)
    valid = (flat.amax(1) > 0) & (flat.amin(1) < 1) & (partner != torch.arange(batch, device=inputs.device))
    shape = (batch,) + (1,) * (m.dim() - 1)
    m = torch.where(valid.view(shape), m, torch.ones_like(m))
    ratio = m.flatten(1).mean(1)
    weight = 1 - (1 - ratio) ** 4
    composite = inputs * m + inputs[partner] * (1 - m[partner]) * (1 - m)
    mixed = torch.where(valid.view((batch,) + (1,) * (inputs.dim() - 1)), composite, inputs)
    return mixed, weight, partner, valid


def sample_beta(alpha: float, generator: torch.Generator) -> float:
    """One Beta(alpha, alpha) draw driven by ``generator`` (torch's Beta cannot take one)."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return float(np.random.default_rng(seed).beta(alpha, alpha))


def check_alpha(alpha: float, what: str) -> None:
    if not alpha > 0:
        raise ValueError(f"{what} alpha must be positive, got {alpha}")


def _check(inputs: torch.Tensor, targets: torch.Tensor, alpha: float, what: str) -> None:
    check_alpha(alpha, what)
    if targets.dim() != 2 or targets.shape[0] != inputs.shape[0]:
        raise ValueError(f"{what}: targets must be one-hot/soft [B, C] for {inputs.shape[0]} clips, "
                         f"got {tuple(targets.shape)}")


def mixup(inputs: torch.Tensor, targets_onehot: torch.Tensor, *, alpha: float,
          generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """MMAction2's MixupBlending: ``lam ~ Beta(alpha, alpha)``, a random permutation as partners,
    ``lam * x + (1 - lam) * x[perm]`` and the same mix of the targets."""
    _check(inputs, targets_onehot, alpha, "mixup")
    lam = sample_beta(alpha, generator)
    perm = torch.randperm(inputs.shape[0], generator=generator).to(inputs.device)
    mixed = lam * inputs + (1 - lam) * inputs[perm]
    return mixed, lam * targets_onehot + (1 - lam) * targets_onehot[perm]


def cutmix_box(height: int, width: int, lam: float, generator: torch.Generator) -> tuple[int, int, int, int]:
    """MMAction2's ``CutmixBlending.rand_bbox``: a box of ``sqrt(1 - lam)`` of each side around a
    uniform centre, clipped to the frame; ``(x1, y1, x2, y2)``."""
    ratio = float(np.sqrt(1.0 - lam))
    cut_w, cut_h = int(width * ratio), int(height * ratio)
    cx = int(torch.randint(width, (1,), generator=generator))
    cy = int(torch.randint(height, (1,), generator=generator))
    x1, x2 = min(max(cx - cut_w // 2, 0), width), min(max(cx + cut_w // 2, 0), width)
    y1, y2 = min(max(cy - cut_h // 2, 0), height), min(max(cy + cut_h // 2, 0), height)
    return x1, y1, x2, y2


def cutmix(inputs: torch.Tensor, targets_onehot: torch.Tensor, *, alpha: float,
           generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """MMAction2's CutmixBlending: paste the same box of a permuted partner into every clip (all
    frames), then set ``lam`` to the kept area ``1 - box / (H * W)`` for the targets."""
    _check(inputs, targets_onehot, alpha, "cutmix")
    perm = torch.randperm(inputs.shape[0], generator=generator).to(inputs.device)
    lam = sample_beta(alpha, generator)
    height, width = inputs.shape[-2:]
    x1, y1, x2, y2 = cutmix_box(height, width, lam, generator)
    mixed = inputs.clone()
    mixed[..., y1:y2, x1:x2] = inputs[perm][..., y1:y2, x1:x2]
    lam = 1 - (x2 - x1) * (y2 - y1) / (width * height)
    return mixed, lam * targets_onehot + (1 - lam) * targets_onehot[perm]


def mask_like(person_mask: torch.Tensor, inputs: torch.Tensor, *, input_format: str, clip_len: int) -> torch.Tensor:
    """A collated ``person_mask`` ``[B, N, H, W]`` laid out to broadcast against ``inputs``.

    ``NCHW`` inputs ``[B, N, C, H, W]`` get ``[B, N, 1, H, W]``; ``NCTHW`` inputs ``[B, V, C, T, H, W]``
    get ``[B, V, 1, T, H, W]`` (N = V * T); unformatted ``NHWC`` ``[B, N, H, W, C]`` get ``[..., None]``.
    """
    batch, frames = person_mask.shape[:2]
    if input_format == "NCHW":
        out = person_mask[:, :, None]
    elif input_format == "NCTHW":
        out = person_mask.view(batch, frames // clip_len, clip_len, *person_mask.shape[2:])[:, :, None]
    elif input_format == "NHWC":
        out = person_mask[..., None]
    else:
        raise ConfigError(f"actor_cutmix: person masks for input_format {input_format!r} are not supported "
                          "(NCHW, NCTHW)")
    try:
        torch.broadcast_shapes(out.shape, inputs.shape)
    except RuntimeError:
        raise ConfigError(f"actor_cutmix: person_mask {tuple(person_mask.shape)} does not fit inputs "
                          f"{tuple(inputs.shape)} ({input_format}); render person_mask after the last crop") from None
    return out


@attrs.frozen(kw_only=True)
class ActorCutMixStep:
    """Batch step: with probability ``prob`` per batch, ActorCutMix with soft targets (SEED003 §5's
    supervised_aug: ``prob`` 0.5). Needs ``person_mask`` in the sample pipeline."""

    batch_step: ClassVar[bool] = True
    prob: float = 0.5

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.prob <= 1:
            raise ValueError(f"actor_cutmix prob must be in [0, 1], got {self.prob}")

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor, *, batch: Mapping[str, Any],
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        if "person_mask" not in batch:
            raise ConfigError("actor_cutmix needs batch['person_mask']: add person_boxes and person_mask "
                              "steps to the train pipeline")
        if float(torch.rand((), generator=generator)) >= self.prob:
            return inputs, targets
        masks = mask_like(batch["person_mask"], inputs, input_format=batch["input_format"],
                          clip_len=batch["clip_len"])
        mixed, weight, partner, _ = actor_cutmix(inputs, masks, generator=generator)
        weight = weight.to(targets.dtype)[:, None]
        return mixed, weight * targets + (1 - weight) * targets[partner]


@attrs.frozen(kw_only=True)
class BlendStep:
    """Batch step of a blending function ``f(inputs, targets, *, alpha, generator)`` (MMAction2's
    default ``alpha`` 0.2); subclasses name the function."""

    batch_step: ClassVar[bool] = True
    blend: ClassVar[Any]
    alpha: float = 0.2

    def __attrs_post_init__(self) -> None:
        check_alpha(self.alpha, type(self).__name__)

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor, *, batch: Mapping[str, Any],
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return type(self).blend(inputs, targets, alpha=self.alpha, generator=generator)


@attrs.frozen(kw_only=True)
class MixupStep(BlendStep):
    """Batch step: :func:`mixup`."""

    blend: ClassVar[Any] = staticmethod(mixup)


@attrs.frozen(kw_only=True)
class CutmixStep(BlendStep):
    """Batch step: :func:`cutmix`."""

    blend: ClassVar[Any] = staticmethod(cutmix)
