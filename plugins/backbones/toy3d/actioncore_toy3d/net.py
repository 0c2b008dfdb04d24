from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk.layers import NormEvalMixin


class Toy3D(NormEvalMixin):
    """``depth`` blocks of conv3d-BN-ReLU; each block after the first halves H and W.

    Input ``[N, C, T, H, W]``; output ``[N, width * 2**(depth-1), T, H', W']``.
    """

    def __init__(self, *, in_channels: int = 3, width: int = 8, depth: int = 2,
                 temporal_kernel: int = 3, norm_eval: bool = False):
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        if temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd, got {temporal_kernel}")
        layers: list[nn.Module] = []
        channels = in_channels
        for i in range(depth):
            out = width * 2 ** i
            stride = (1, 1, 1) if i == 0 else (1, 2, 2)
            layers += [nn.Conv3d(channels, out, (temporal_kernel, 3, 3), stride,
                                 (temporal_kernel // 2, 1, 1), bias=False),
                       nn.BatchNorm3d(out), nn.ReLU(inplace=True)]
            channels = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels
        self.norm_eval = norm_eval

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class LinearHead(nn.Module):
    """Global average pooling over every axis after channels, dropout, one linear layer."""

    def __init__(self, *, in_channels: int, num_classes: int, dropout: float = 0.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = features.flatten(2).mean(dim=2)
        return self.fc(self.dropout(pooled))
