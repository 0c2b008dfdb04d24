"""The TRN head (Zhou et al., ECCV 2018) and its relation modules, as MMAction2 1.2.0 builds them."""
from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import torch
from torch import nn

from .base import ClsHead


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


RELATIONS = {"TRNMultiScale": RelationModuleMultiScale, "TRN": RelationModule}


class TRNHead(ClsHead):
    """TRN head: per-frame projection, then temporal relations.

    What it adds to :class:`ClsHead`: ``fc_cls`` projects each frame to ``hidden_dim`` (not to
    the classes), and the relation module ``consensus`` scores the clip from those projections.

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

    name = "trn"
    pool_dims = 2
    spatial_types = ("avg", None)

    def __init__(
        self, *, num_classes: int, in_channels: int = 2048, num_segments: int = 8,
        spatial_type: Literal["avg"] | None = "avg",
        relation_type: Literal["TRNMultiScale", "TRN"] = "TRNMultiScale", hidden_dim: int = 256,
        dropout_ratio: float = 0.8, init_std: float = 0.001,
    ):
        if num_segments < 2:
            raise ValueError(f"trn num_segments must be at least 2, got {num_segments}")
        self.check_choice("relation_type", relation_type, tuple(RELATIONS))
        super().__init__(num_classes=num_classes, in_channels=in_channels, dropout_ratio=dropout_ratio,
                         init_std=init_std, spatial_type=spatial_type,
                         linears={"fc_cls": (in_channels, hidden_dim)})
        self.num_segments = num_segments
        self.hidden_dim = hidden_dim
        self.consensus = RELATIONS[relation_type](hidden_dim, num_segments, num_classes)

    def forward(self, x: torch.Tensor, num_segs: int | None = None) -> torch.Tensor:
        """``[N * T, C, h, w]`` features -> ``[N, num_classes]`` (``num_segs`` is not used)."""
        x = self.classify(self.pooled(x).flatten(1))
        if x.shape[0] % self.num_segments:
            raise ValueError(f"trn head: {x.shape[0]} frames are not a multiple of "
                             f"num_segments = {self.num_segments}")
        return self.consensus(x.reshape(-1, self.num_segments, self.hidden_dim))
