"""MMAction2's ``X3DHead``: pool, fc1 to 2048, ReLU, dropout, fc2."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from .base import ClsHead


class X3DHead(ClsHead):
    """Scores ``[N, num_classes]`` from X3D features ``[N, in_channels, T, H, W]``.

    What it adds to :class:`ClsHead`: a hidden layer ``fc1`` and ReLU before the classifier,
    which MMAction2 names ``fc2``.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features (432 for X3D-S/M).
    :param spatial_type: ``avg`` or ``max`` global pooling over T, H and W.
    :param dropout_ratio: dropout after fc1; 0 turns it off.
    :param init_std: standard deviation of fc1 and fc2's normal initial weights (biases 0).
    :param fc1_bias: whether fc1 has a bias (MMAction2's X3D-S/M configs: no).
    :param mid_channels: width of fc1 (2048, fixed in MMAction2).
    """

    name = "x3d"
    spatial_types = ("avg", "max")

    def __init__(self, *, num_classes: int, in_channels: int = 432,
                 spatial_type: Literal["avg", "max"] = "avg", dropout_ratio: float = 0.5,
                 init_std: float = 0.01, fc1_bias: bool = False, mid_channels: int = 2048):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type,
                         linears={"fc1": (in_channels, mid_channels, fc1_bias),
                                  "fc2": (mid_channels, num_classes)})
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pooled(x).flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"x3d head: {x.shape[1]} channels, expected in_channels = "
                             f"{self.in_channels}")
        return self.classify(self.relu(self.fc1(x)))
