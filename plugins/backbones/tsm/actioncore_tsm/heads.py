"""The TSM head (also TIN's and TANet's) and the TRN head, as MMAction2 1.2.0 builds them."""
from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import torch
from torch import nn


def _pool(spatial_type: str | None) -> nn.Module | None:
    if spatial_type not in ("avg", None):
        raise ValueError(f"spatial_type must be 'avg' or absent, got {spatial_type!r}")
    return nn.AdaptiveAvgPool2d(1) if spatial_type == "avg" else None


class TSMHead(nn.Module):
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

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048, num_segments: int = 8,
        spatial_type: Literal["avg"] | None = "avg", consensus: Literal["avg"] = "avg",
        dropout_ratio: float = 0.8, init_std: float = 0.001, is_shift: bool = True,
        temporal_pool: bool = False,
    ):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"tsm num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"tsm dropout_ratio must be in [0, 1), got {dropout_ratio}")
        if consensus != "avg":
            raise ValueError(f"tsm consensus must be 'avg', got {consensus!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.temporal_pool = temporal_pool
        self.avg_pool = _pool(spatial_type)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc_cls.weight, mean=0.0, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``[N * T, C, h, w]`` features -> ``[N, num_classes]`` (``num_segs`` is not used)."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        x = x.flatten(1)
        if self.dropout is not None:
            x = self.dropout(x)
        scores = self.fc_cls(x)
        segments = self.num_segments // 2 if self.is_shift and self.temporal_pool else self.num_segments
        if scores.shape[0] % segments:
            raise ValueError(f"tsm head: {scores.shape[0]} frames are not a multiple of "
                             f"{segments} segments per clip")
        return scores.reshape(-1, segments, self.num_classes).mean(dim=1)


class RelationModule(nn.Module):
    """TRN's single-scale relation: an MLP over all ``num_segments`` frame features."""

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int):
        super().__init__()
        self.classifier = nn.Sequential(
            nn.ReLU(), nn.Linear(num_segments * hidden_dim, 512), nn.ReLU(),
            nn.Linear(512, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(x.flatten(1))


class RelationModuleMultiScale(nn.Module):
    """TRN's multi-scale relation: MLPs over ordered frame tuples of every size ``T .. 2``.

    The scale ``T`` uses all frames; each smaller scale sums its MLP over at most 3 tuples drawn
    at random (``numpy.random``, as MMAction2, so that seeding NumPy reproduces its draws) at
    every call, in training and in evaluation alike.
    """

    max_subsample = 3

    def __init__(self, hidden_dim: int, num_segments: int, num_classes: int):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.scales = list(range(num_segments, 1, -1))
        self.relations_scales = [list(itertools.combinations(range(num_segments), s))
                                 for s in self.scales]
        self.subsample_scales = [min(self.max_subsample, len(r)) for r in self.relations_scales]
        self.fc_fusion_scales = nn.ModuleList(
            nn.Sequential(nn.ReLU(), nn.Linear(s * hidden_dim, 256), nn.ReLU(),
                          nn.Linear(256, num_classes))
            for s in self.scales)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fc_fusion_scales[0](x.flatten(1))
        for i in range(1, len(self.scales)):
            picks = np.random.choice(len(self.relations_scales[i]), self.subsample_scales[i],
                                     replace=False)
            for pick in picks:
                frames = list(self.relations_scales[i][pick])
                out = out + self.fc_fusion_scales[i](x[:, frames].flatten(1))
        return out


class TRNHead(nn.Module):
    """TRN head (Zhou et al., ECCV 2018): per-frame projection, then temporal relations.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param num_segments: frames per clip (fixed: the relations are over frame tuples).
    :param spatial_type: ``avg`` pooling over H, W, or None for already pooled features.
    :param relation_type: ``TRNMultiScale`` (scales ``T .. 2``) or ``TRN`` (scale ``T`` only).
    :param hidden_dim: width of each frame's projection (``fc_cls``).
    :param dropout_ratio: dropout before ``fc_cls``; 0 turns it off.
    :param init_std: standard deviation of ``fc_cls``'s normal initial weights (bias 0); the
        relation MLPs keep PyTorch's default initialisation, as in MMAction2.
    """

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048, num_segments: int = 8,
        spatial_type: Literal["avg"] | None = "avg",
        relation_type: Literal["TRNMultiScale", "TRN"] = "TRNMultiScale", hidden_dim: int = 256,
        dropout_ratio: float = 0.8, init_std: float = 0.001,
    ):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"trn num_classes must be positive, got {num_classes}")
        if num_segments < 2:
            raise ValueError(f"trn num_segments must be at least 2, got {num_segments}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"trn dropout_ratio must be in [0, 1), got {dropout_ratio}")
        relations = {"TRNMultiScale": RelationModuleMultiScale, "TRN": RelationModule}
        if relation_type not in relations:
            raise ValueError(f"trn relation_type must be 'TRNMultiScale' or 'TRN', got {relation_type!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.num_segments = num_segments
        self.hidden_dim = hidden_dim
        self.avg_pool = _pool(spatial_type)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.fc_cls = nn.Linear(in_channels, hidden_dim)
        nn.init.normal_(self.fc_cls.weight, mean=0.0, std=init_std)
        nn.init.zeros_(self.fc_cls.bias)
        self.consensus = relations[relation_type](hidden_dim, num_segments, num_classes)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``[N * T, C, h, w]`` features -> ``[N, num_classes]`` (``num_segs`` is not used)."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)
        x = x.flatten(1)
        if self.dropout is not None:
            x = self.dropout(x)
        x = self.fc_cls(x)
        if x.shape[0] % self.num_segments:
            raise ValueError(f"trn head: {x.shape[0]} frames are not a multiple of "
                             f"num_segments = {self.num_segments}")
        return self.consensus(x.reshape(-1, self.num_segments, self.hidden_dim))
