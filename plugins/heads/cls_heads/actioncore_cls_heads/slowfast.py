"""MMAction2's ``SlowFastHead``: pool both pathways, concatenate (fast first), dropout, linear."""
from __future__ import annotations

from typing import Literal

import torch

from .base import ClsHead


class SlowFastHead(ClsHead):
    """Scores ``[N, num_classes]`` from the backbone's ``(slow, fast)`` features.

    :param num_classes: number of classes.
    :param in_channels: slow plus fast channels (2048 + 256 = 2304 for SlowFast R50).
    :param spatial_type: ``avg``: global average pooling over T, H and W of each pathway.
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of ``fc_cls``'s normal initial weights (bias 0).
    """

    name = "slowfast"
    spatial_types = ("avg",)

    def __init__(self, *, num_classes: int, in_channels: int = 2304,
                 spatial_type: Literal["avg"] = "avg", dropout_ratio: float = 0.8,
                 init_std: float = 0.01):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type)

    def forward(self, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        slow, fast = x
        x = torch.cat((self.pooled(fast), self.pooled(slow)), dim=1).flatten(1)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"slowfast head: {x.shape[1]} channels (slow {slow.shape[1]} + fast "
                             f"{fast.shape[1]}), expected in_channels = {self.in_channels}")
        return self.classify(x)
