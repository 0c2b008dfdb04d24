"""MMAction2's I3DHead: global average pooling over T, H, W, dropout, linear classifier."""
from __future__ import annotations

from typing import Literal

import torch

from .base import ClsHead


class I3DHead(ClsHead):
    """Scores ``[N, num_classes]`` from 3D features ``[N, C, t, h, w]`` (or ``[N, C]``).

    The head of I3D, SlowOnly, R(2+1)D, CSN, C3D and PoseC3D.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param spatial_type: ``avg`` pools over time and space; ``none`` (MMAction2's None, which
        TOML cannot hold) takes the features as they are (C3D's, already flat).
    :param dropout_ratio: dropout before ``fc_cls``; 0 turns it off.
    :param init_std: standard deviation of ``fc_cls``'s normal initial weights (bias 0).
    """

    name = "i3d"
    spatial_types = ("avg", "none", None)

    def __init__(self, *, num_classes: int, in_channels: int = 2048,
                 spatial_type: Literal["avg", "none"] | None = "avg", dropout_ratio: float = 0.5,
                 init_std: float = 0.01):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pooled(x).reshape(x.shape[0], -1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"i3d head: {x.shape[1]} features per clip, expected in_channels = "
                             f"{self.in_channels}")
        return self.classify(x)
