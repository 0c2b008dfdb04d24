"""Weights for parity tests: BatchNorm layers that are not an identity in eval mode, parameter counts."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def randomise_norms(model: nn.Module) -> nn.Module:
    """Give every BatchNorm (1D/2D/3D) non-trivial running statistics and affine parameters, so a
    comparison in eval mode also checks that they were carried over. Returns ``model``."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            if m.affine:
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


def count_parameters(module: nn.Module) -> int:
    """Number of parameter elements, as MMAction2's tables and ``actioncore info`` count them
    (works on the meta device)."""
    return sum(p.numel() for p in module.parameters())
