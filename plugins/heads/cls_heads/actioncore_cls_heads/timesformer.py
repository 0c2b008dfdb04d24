"""The TimeSformer head: a linear classifier on the backbone's cls-token feature."""
from __future__ import annotations

import torch

from .base import ClsHead


class TimeSformerHead(ClsHead):
    """Dropout (optional) and ``fc_cls`` on ``[N, in_channels]`` features, MMAction2's
    ``TimeSformerHead``; its checkpoints convert without renaming inside the head.

    What it changes in :class:`ClsHead`: no pooling (the backbone gives one feature per clip)
    and truncated-normal initial weights.

    :param num_classes: number of classes.
    :param in_channels: width of the backbone's cls-token feature.
    :param init_std: standard deviation of the classifier's truncated-normal initial weights
        (bias 0).
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    """

    name = "timesformer head"
    truncated_init = True

    def __init__(self, *, num_classes: int, in_channels: int = 768, init_std: float = 0.02,
                 dropout_ratio: float = 0.0):
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std)

    def forward(self, x: torch.Tensor, **_: object) -> torch.Tensor:
        """Scores ``[N, num_classes]`` from features ``[N, in_channels]``."""
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"timesformer head: expected features [N, {self.in_channels}], "
                             f"got {tuple(x.shape)}")
        return self.classify(x)
