"""The TimeSformer head: a linear classifier on the backbone's cls-token feature."""
from __future__ import annotations

import torch
from torch import nn


class TimeSformerHead(nn.Module):
    """Dropout (optional) and ``fc_cls`` on ``[N, in_channels]`` features, MMAction2's
    ``TimeSformerHead``; its checkpoints convert without renaming inside the head.

    :param num_classes: number of classes.
    :param in_channels: width of the backbone's cls-token feature.
    :param init_std: standard deviation of the classifier's truncated-normal initial weights
        (bias 0).
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    """

    def __init__(self, *, num_classes: int, in_channels: int = 768, init_std: float = 0.02,
                 dropout_ratio: float = 0.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"timesformer head num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"timesformer head dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        if not self.fc_cls.weight.is_meta:
            nn.init.trunc_normal_(self.fc_cls.weight, std=init_std, a=-2.0, b=2.0)
            nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: torch.Tensor, **_: object) -> torch.Tensor:
        """Scores ``[N, num_classes]`` from features ``[N, in_channels]``."""
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"timesformer head: expected features [N, {self.in_channels}], "
                             f"got {tuple(x.shape)}")
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)
