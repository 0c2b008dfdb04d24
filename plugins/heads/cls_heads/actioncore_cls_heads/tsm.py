"""The TSM head (also TIN's, TANet's and CMR's), as MMAction2 1.2.0 builds it."""
from __future__ import annotations

from typing import Literal

import torch

from .base import ClsHead


class TSMHead(ClsHead):
    """Per-frame classifier and average consensus over a clip's ``num_segments`` frames.

    Unlike TSN's head, the frames per clip are fixed by ``num_segments`` (the backbone's) and
    not taken from the input; several views of a sample (clips x crops) come out as several
    rows, which the recognizer averages.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param num_segments: frames per clip, as the backbone's.
    :param spatial_type: ``avg`` pooling over H, W, or None for already pooled features.
    :param consensus: ``avg``, the mean over segments.
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of the classifier's normal initial weights (bias 0).
    :param is_shift: with ``temporal_pool``, the backbone halved the frames (``T / 2`` per clip).
    :param temporal_pool: the backbone pooled time (see ``resnet_tsm``).
    """

    name = "tsm"
    pool_dims = 2
    spatial_types = ("avg", None)

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048, num_segments: int = 8,
        spatial_type: Literal["avg"] | None = "avg", consensus: Literal["avg"] = "avg",
        dropout_ratio: float = 0.8, init_std: float = 0.001, is_shift: bool = True,
        temporal_pool: bool = False,
    ):
        self.check_choice("consensus", consensus, ("avg",))
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type)
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.temporal_pool = temporal_pool

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``[N * T, C, h, w]`` features -> ``[N, num_classes]`` (``num_segs`` is not used)."""
        scores = self.classify(self.pooled(x).flatten(1))
        segments = self.num_segments // 2 if self.is_shift and self.temporal_pool else self.num_segments
        if scores.shape[0] % segments:
            raise ValueError(f"tsm head: {scores.shape[0]} frames are not a multiple of "
                             f"{segments} segments per clip")
        return scores.reshape(-1, segments, self.num_classes).mean(dim=1)
