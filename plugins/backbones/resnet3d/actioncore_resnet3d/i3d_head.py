"""MMAction2's I3DHead: global average pooling over T, H, W, dropout, linear classifier."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class I3DHead(nn.Module):
    """Scores ``[N, num_classes]`` from 3D features ``[N, C, t, h, w]`` (or ``[N, C]``).

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param spatial_type: ``avg`` pools over time and space; ``none`` (MMAction2's None, which
        TOML cannot hold) takes the features as they are (C3D's, already flat).
    :param dropout_ratio: dropout before ``fc_cls``; 0 turns it off.
    :param init_std: standard deviation of ``fc_cls``'s normal initial weights (bias 0).
    """

    def __init__(self, *, num_classes: int, in_channels: int = 2048,
                 spatial_type: Literal["avg", "none"] | None = "avg", dropout_ratio: float = 0.5,
                 init_std: float = 0.01):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"i3d num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"i3d dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        if spatial_type not in ("avg", "none", None):
            raise ValueError(f"i3d spatial_type must be 'avg' or 'none', got {spatial_type!r}")
        self.spatial_type = spatial_type
        self.avg_pool = nn.AdaptiveAvgPool3d(1) if spatial_type == "avg" else None
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"i3d head: {x.shape[1]} features per clip, expected in_channels = "
                             f"{self.in_channels}")
        return self.fc_cls(x)
