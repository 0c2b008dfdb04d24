"""The TSN head: per-frame features of a video's segments to one score vector per video."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class TSNHead(nn.Module):
    """Pool each frame, average over the video's segments (consensus), dropout, linear classifier.

    TSN scores a video from ``num_segs`` frames drawn one per segment; the backbone sees them
    as a batch of ``N * num_segs`` images, and this head folds them back into ``N`` videos.
    The classifier is ``fc_cls`` as in MMAction2's ``TSNHead``, so its checkpoints convert.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param spatial_type: ``avg`` or ``max`` global pooling over H and W; None for features that
        are already pooled (``[N * num_segs, C]`` or ``[..., C, 1, 1]``). MMAction2 pools only for
        ``avg``; any other value skips pooling there, which agrees with ``max`` on 1x1 maps.
    :param consensus: how segments are fused; ``avg`` is the mean over segments.
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of the classifier's normal initial weights (bias 0).
    """

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048,
        spatial_type: Literal["avg", "max"] | None = "avg", consensus: Literal["avg"] = "avg",
        dropout_ratio: float = 0.4, init_std: float = 0.01,
    ):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"tsn num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"tsn dropout_ratio must be in [0, 1), got {dropout_ratio}")
        if consensus != "avg":
            raise ValueError(f"tsn consensus must be 'avg', got {consensus!r}")
        pools = {"avg": nn.AdaptiveAvgPool2d(1), "max": nn.AdaptiveMaxPool2d(1), None: None}
        if spatial_type not in pools:
            raise ValueError(f"tsn spatial_type must be 'avg', 'max' or absent, got {spatial_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.pool = pools[spatial_type]
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, mean=0.0, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        """Scores ``[N, num_classes]`` from features ``[N * num_segs, C, h, w]``."""
        if x.shape[0] % num_segs:
            raise ValueError(f"tsn head: {x.shape[0]} feature maps are not a multiple of "
                             f"num_segs = {num_segs}")
        if self.pool is not None:
            x = self.pool(x)
        x = x.reshape(-1, num_segs, *x.shape[1:]).mean(dim=1)
        if x.shape[1:].numel() != self.in_channels:
            raise ValueError(f"tsn head: features of shape {tuple(x.shape[1:])} per video, expected "
                             f"{self.in_channels} channels after pooling")
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x.flatten(1))
