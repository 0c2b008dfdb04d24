"""The TSN head: per-frame features of a video's segments to one score vector per video."""
from __future__ import annotations

from typing import Literal

import torch

from .base import ClsHead


class TSNHead(ClsHead):
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

    name = "tsn"
    pool_dims = 2
    spatial_types = ("avg", "max", None)

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048,
        spatial_type: Literal["avg", "max"] | None = "avg", consensus: Literal["avg"] = "avg",
        dropout_ratio: float = 0.4, init_std: float = 0.01,
    ):
        self.check_choice("consensus", consensus, ("avg",))
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type)

    def forward(self, x: torch.Tensor, num_segs: int) -> torch.Tensor:
        """Scores ``[N, num_classes]`` from features ``[N * num_segs, C, h, w]``."""
        if x.shape[0] % num_segs:
            raise ValueError(f"tsn head: {x.shape[0]} feature maps are not a multiple of "
                             f"num_segs = {num_segs}")
        x = self.pooled(x)
        x = x.reshape(-1, num_segs, *x.shape[1:]).mean(dim=1)
        if x.shape[1:].numel() != self.in_channels:
            raise ValueError(f"tsn head: features of shape {tuple(x.shape[1:])} per video, expected "
                             f"{self.in_channels} channels after pooling")
        return self.classify(x)
