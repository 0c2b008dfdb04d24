"""Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016), as timm and
mmcv's ``DropPath`` do it: in training, a whole sample's residual branch is zeroed with
probability ``drop_prob`` and the kept ones are scaled by ``1 / (1 - drop_prob)``, so the
expected output is unchanged and evaluation needs no rescaling."""
from __future__ import annotations

import torch
from torch import nn


def drop_path(x: torch.Tensor, drop_prob: float, *, training: bool) -> torch.Tensor:
    """``x`` with whole samples (first dimension) zeroed with probability ``drop_prob``."""
    if drop_prob == 0.0 or not training:
        return x
    keep = 1.0 - drop_prob
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    return x * mask / keep


class DropPath(nn.Module):
    """:func:`drop_path` as a module (no parameters, so state-dict keys are unaffected)."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop path probability must be in [0, 1), got {drop_prob}")
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return drop_path(x, self.drop_prob, training=self.training)

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


def linear_drop_path_rates(drop_path_rate: float, depth: int) -> list[float]:
    """The stochastic-depth rule of Swin, MViT and ViTs: rates rising linearly from 0 at the
    first block to ``drop_path_rate`` at the last (``torch.linspace(0, rate, depth)``)."""
    return [x.item() for x in torch.linspace(0, drop_path_rate, depth, device="cpu")]
