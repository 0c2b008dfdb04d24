"""RoI features from a video feature map: MMAction2's ``SingleRoIExtractor3D`` on torchvision.ops.

The backbone's output (one map, or SlowFast's ``(slow, fast)`` pair) is brought to one temporal
length, pooled over time (by default), concatenated over channels, and each actor box is cut
out of every remaining time step with ``torchvision.ops.roi_align`` (or ``roi_pool``).
"""
from __future__ import annotations

from typing import Literal

import attrs
import torch
from torch import nn
from torch.nn import functional as F
from torchvision import ops


@attrs.frozen
class RoIExtractorConfig:
    """MMAction2's ``bbox_roi_extractor`` dict (``SingleRoIExtractor3D``)."""

    roi_layer_type: Literal["RoIAlign", "RoIPool"] = "RoIAlign"
    featmap_stride: int = 16
    """Input pixels per feature-map cell: boxes are scaled by ``1 / featmap_stride``."""
    output_size: int = 8
    """Each RoI becomes an ``output_size x output_size`` grid per time step."""
    sampling_ratio: int = 0
    """Bilinear samples per bin side in RoIAlign; 0 adapts to the bin size."""
    pool_mode: Literal["avg"] = "avg"
    """How RoIAlign combines a bin's samples; torchvision (and every MMAction2 config) averages."""
    aligned: bool = True
    """RoIAlign's half-pixel offset (MMAction2's default, ``aligned = true``)."""
    with_temporal_pool: bool = True
    """Pool the feature map over time before cutting RoIs (one time step)."""
    temporal_pool_mode: Literal["avg", "max"] = "avg"
    with_global: bool = False
    """Append the whole frame, pooled to the same grid, to each RoI's channels (the "context" configs)."""


class SingleRoIExtractor3D(nn.Module):
    """``(features, rois)`` to ``(roi_feats [R, C, t, s, s], context [N, C, t, H, W])``.

    ``rois`` are ``[R, 5]``: batch index, then ``x1, y1, x2, y2`` in input pixels. ``t`` is 1
    with temporal pooling, else the longest pathway's length (shorter ones are stretched by
    nearest-neighbour interpolation, as MMAction2 does). ``context`` is the pooled,
    concatenated map the RoIs were cut from (ACRN relates actors to it).
    """

    def __init__(self, config: RoIExtractorConfig = RoIExtractorConfig()):
        super().__init__()
        if config.output_size < 1 or config.featmap_stride < 1 or config.sampling_ratio < 0:
            raise ValueError(f"roi_extractor: output_size and featmap_stride must be positive and "
                             f"sampling_ratio >= 0, got {config}")
        self.config = config
        self.spatial_scale = 1.0 / config.featmap_stride
        self.global_pool = nn.AdaptiveAvgPool2d(config.output_size) if config.with_global else None

    def forward(self, features: torch.Tensor | tuple[torch.Tensor, ...] | list[torch.Tensor],
                rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = [features] if isinstance(features, torch.Tensor) else list(features)
        if len(maps) > 1:
            longest = max(m.shape[2] for m in maps)
            size = (longest, *maps[0].shape[3:])
            maps = [F.interpolate(m, size) for m in maps]
        if self.config.with_temporal_pool:
            if self.config.temporal_pool_mode == "avg":
                maps = [m.mean(dim=2, keepdim=True) for m in maps]
            else:
                maps = [m.amax(dim=2, keepdim=True) for m in maps]
        context = torch.cat(maps, dim=1)
        rois = rois.to(context.dtype)
        per_step = []
        for t in range(context.shape[2]):
            frame = context[:, :, t]
            roi_feat = self._cut(frame, rois)
            if self.global_pool is not None:
                whole = self.global_pool(frame)[rois[:, 0].long()]
                roi_feat = torch.cat([roi_feat, whole], dim=1)
            per_step.append(roi_feat)
        return torch.stack(per_step, dim=2), context

    def _cut(self, frame: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        c = self.config
        if c.roi_layer_type == "RoIPool":
            return ops.roi_pool(frame, rois, c.output_size, self.spatial_scale)
        return ops.roi_align(frame, rois, c.output_size, self.spatial_scale, c.sampling_ratio,
                             aligned=c.aligned)
