"""MMAction2's ``X3DHead``: pool, fc1 to 2048, ReLU, dropout, fc2."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class X3DHead(nn.Module):
    """Scores ``[N, num_classes]`` from X3D features ``[N, in_channels, T, H, W]``.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features (432 for X3D-S/M).
    :param spatial_type: ``avg`` or ``max`` global pooling over T, H and W.
    :param dropout_ratio: dropout after fc1; 0 turns it off.
    :param init_std: standard deviation of fc1 and fc2's normal initial weights (biases 0).
    :param fc1_bias: whether fc1 has a bias (MMAction2's X3D-S/M configs: no).
    :param mid_channels: width of fc1 (2048, fixed in MMAction2).
    """

    def __init__(self, *, num_classes: int, in_channels: int = 432,
                 spatial_type: Literal["avg", "max"] = "avg", dropout_ratio: float = 0.5,
                 init_std: float = 0.01, fc1_bias: bool = False, mid_channels: int = 2048):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"x3d num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"x3d dropout_ratio must be in [0, 1), got {dropout_ratio}")
        pools = {"avg": nn.AdaptiveAvgPool3d, "max": nn.AdaptiveMaxPool3d}
        if spatial_type not in pools:
            raise ValueError(f"x3d spatial_type must be 'avg' or 'max', got {spatial_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.pool = pools[spatial_type]((1, 1, 1))
        self.fc1 = nn.Linear(in_channels, mid_channels, bias=fc1_bias)
        self.fc2 = nn.Linear(mid_channels, num_classes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        for fc in (self.fc1, self.fc2):
            nn.init.normal_(fc.weight, mean=0.0, std=init_std)
            if fc.bias is not None:
                nn.init.zeros_(fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(x).flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x3d head: {x.shape[1]} channels, expected in_channels = "
                             f"{self.in_channels}")
        x = self.relu(self.fc1(x))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc2(x)
