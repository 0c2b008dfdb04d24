"""MMAction2's ``SlowFastHead``: pool both pathways, concatenate (fast first), dropout, linear."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class SlowFastHead(nn.Module):
    """Scores ``[N, num_classes]`` from the backbone's ``(slow, fast)`` features.

    :param num_classes: number of classes.
    :param in_channels: slow plus fast channels (2048 + 256 = 2304 for SlowFast R50).
    :param spatial_type: ``avg``: global average pooling over T, H and W of each pathway.
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of ``fc_cls``'s normal initial weights (bias 0).
    """

    def __init__(self, *, num_classes: int, in_channels: int = 2304,
                 spatial_type: Literal["avg"] = "avg", dropout_ratio: float = 0.8,
                 init_std: float = 0.01):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"slowfast num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"slowfast dropout_ratio must be in [0, 1), got {dropout_ratio}")
        if spatial_type != "avg":
            raise ValueError(f"slowfast spatial_type must be 'avg', got {spatial_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.avg_pool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, mean=0.0, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        slow, fast = x
        x = torch.cat((self.avg_pool(fast), self.avg_pool(slow)), dim=1).flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"slowfast head: {x.shape[1]} channels (slow {slow.shape[1]} + fast "
                             f"{fast.shape[1]}), expected in_channels = {self.in_channels}")
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)
