"""TPN (Yang et al., CVPR 2020): MMAction2 1.2.0's temporal pyramid neck, module for module.

Module and parameter names are MMAction2's (``spatial_modulation.0.0.conv.weight``,
``level_fusion_1.downsamples.0.conv.bn.running_var``, ``aux_head.fc.weight``), so its checkpoints
convert with ``actioncore convert mmaction2`` and no renaming.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import attrs
import torch
import torch.nn.functional as F
from torch import nn

from actioncore.sdk.layers import ConvModule, NormCfg, constant_init

Triple = tuple[int, int, int]


@attrs.define
class SpatialModulationCfg:
    """``spatial_modulation_cfg``: every level but the top is strided to ``out_channels``."""

    in_channels: tuple[int, ...]
    out_channels: int


@attrs.define
class TemporalModulationCfg:
    """``temporal_modulation_cfg``: the temporal max-pool scale of each level."""

    downsample_scales: tuple[int, ...]


@attrs.define
class UpsampleCfg:
    """``upsample_cfg``: ``nn.Upsample``'s scale factor for the top-down flow."""

    scale_factor: Triple = (1, 1, 1)


@attrs.define
class DownsampleCfg:
    """``downsample_cfg``: the max-pool scale of the bottom-up flow's downsamples."""

    downsample_scale: Triple = (1, 1, 1)


@attrs.define
class LevelFusionCfg:
    """``level_fusion_cfg``: per-level grouped 1x1x1 convolutions, concatenated and fused."""

    in_channels: tuple[int, ...]
    mid_channels: tuple[int, ...]
    out_channels: int
    downsample_scales: tuple[Triple, ...] = ((1, 1, 1), (1, 1, 1))


@attrs.define
class AuxHeadCfg:
    """``aux_head_cfg``: the auxiliary classifier on the second-highest level and its loss weight."""

    out_channels: int
    loss_weight: float = 0.5


class DownSample(nn.Module):
    """A 3D convolution (no norm, no activation unless given) and a ceil-mode max pool, in the
    order ``downsample_position`` says."""

    def __init__(self, in_channels: int, out_channels: int, *, kernel_size: Triple = (3, 1, 1),
                 stride: Triple = (1, 1, 1), padding: Triple = (1, 0, 0), groups: int = 1,
                 norm_cfg: NormCfg | None = None, act: bool = False,
                 downsample_position: Literal["before", "after"] = "after",
                 downsample_scale: Triple = (1, 2, 2)):
        super().__init__()
        if downsample_position not in ("before", "after"):
            raise ValueError(f"tpn downsample_position must be 'before' or 'after', got {downsample_position!r}")
        self.conv = ConvModule(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                               groups=groups, norm_cfg=norm_cfg, act=act, bias=False)
        self.downsample_position = downsample_position
        self.pool = nn.MaxPool3d(downsample_scale, downsample_scale, (0, 0, 0), ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample_position == "before":
            return self.conv(self.pool(x))
        return self.pool(self.conv(x))


class LevelFusion(nn.Module):
    """Each level through a grouped (32) 1x1x1 conv-BN-ReLU after a max pool, concatenated, fused by
    a 1x1x1 conv-BN-ReLU."""

    def __init__(self, cfg: LevelFusionCfg):
        super().__init__()
        self.downsamples = nn.ModuleList(
            DownSample(c_in, c_mid, kernel_size=(1, 1, 1), padding=(0, 0, 0), groups=32, norm_cfg=NormCfg(),
                       act=True, downsample_position="before", downsample_scale=tuple(scale))
            for c_in, c_mid, scale in zip(cfg.in_channels, cfg.mid_channels, cfg.downsample_scales, strict=True))
        self.fusion_conv = ConvModule(sum(cfg.mid_channels), cfg.out_channels, 1, bias=False)

    def forward(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.fusion_conv(torch.cat([down(level) for down, level in zip(self.downsamples, x)], 1))


class SpatialModulation(nn.Module):
    """Levels below the top strided spatially (1x3x3 conv-BN-ReLU, stride 2, doubling channels) until
    they have ``out_channels``; a level that already has them passes through."""

    def __init__(self, cfg: SpatialModulationCfg):
        super().__init__()
        self.spatial_modulation = nn.ModuleList()
        for channels in cfg.in_channels:
            factor = int(math.log2(cfg.out_channels // channels))
            if factor < 1:
                self.spatial_modulation.append(nn.Identity())
                continue
            self.spatial_modulation.append(nn.ModuleList(
                ConvModule(channels * 2 ** i, channels * 2 ** (i + 1), (1, 3, 3), stride=(1, 2, 2),
                           padding=(0, 1, 1), bias=False)
                for i in range(factor)))

    def forward(self, x: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for ops, level in zip(self.spatial_modulation, x):
            for op in ops if isinstance(ops, nn.ModuleList) else (ops,):
                level = op(level)
            out.append(level)
        return out


class TemporalModulation(nn.Module):
    """A grouped (32) 3x1x1 convolution and a temporal max pool by ``downsample_scale``."""

    def __init__(self, in_channels: int, out_channels: int, downsample_scale: int = 8):
        super().__init__()
        self.conv = ConvModule(in_channels, out_channels, (3, 1, 1), padding=(1, 0, 0), groups=32,
                               norm_cfg=None, act=False, bias=False)
        self.pool = nn.MaxPool3d((downsample_scale, 1, 1), (downsample_scale, 1, 1), (0, 0, 0), ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.conv(x))


class AuxHead(nn.Module):
    """A 1x3x3 conv-BN-ReLU (stride 2, doubling channels), global average pool, dropout 0.5 and a
    linear classifier: the deep supervision TPN adds on the second-highest level in training."""

    def __init__(self, in_channels: int, out_channels: int, loss_weight: float = 0.5):
        super().__init__()
        self.conv = ConvModule(in_channels, in_channels * 2, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1),
                               bias=False)
        self.avg_pool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.loss_weight = loss_weight
        self.dropout = nn.Dropout(p=0.5)
        self.fc = nn.Linear(in_channels * 2, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.avg_pool(self.conv(x)).flatten(1)))


class TPN(nn.Module):
    """The ``tpn`` neck: backbone levels ``[N, C_i, T, H_i, W_i]`` -> ``[N, 2048, T', H, W]``.

    Spatial modulation brings every level to the top one's shape, temporal modulation pools
    each level's time by its ``downsample_scales`` entry, a top-down (upsample and add) and a
    bottom-up (downsample and add) flow are each fused across levels, and the two pyramids are
    fused by a 1x1x1 conv-BN-ReLU with 2048 outputs (fixed, as in MMAction2).

    With ``aux_head_cfg`` an auxiliary classifier scores the second-highest level in training;
    the recognition task adds ``loss_weight`` x its cross-entropy to the training loss as
    ``loss_aux`` (see :meth:`auxiliary_losses`). It is not run in evaluation.

    :param in_channels: channels of the backbone levels, lowest first (``out_indices`` order).
    :param out_channels: channels of the temporal modulation outputs.
    :param flow_type: ``cascade`` runs the bottom-up flow on the top-down flow's sums,
        ``parallel`` on the temporal modulation outputs.
    """

    def __init__(self, *, in_channels: tuple[int, ...] = (1024, 2048), out_channels: int = 1024,
                 spatial_modulation_cfg: SpatialModulationCfg | None = None,
                 temporal_modulation_cfg: TemporalModulationCfg | None = None,
                 upsample_cfg: UpsampleCfg | None = None, downsample_cfg: DownsampleCfg | None = None,
                 level_fusion_cfg: LevelFusionCfg | None = None, aux_head_cfg: AuxHeadCfg | None = None,
                 flow_type: Literal["cascade", "parallel"] = "cascade"):
        super().__init__()
        if flow_type not in ("cascade", "parallel"):
            raise ValueError(f"tpn flow_type must be 'cascade' or 'parallel', got {flow_type!r}")
        if spatial_modulation_cfg is None or level_fusion_cfg is None:
            raise ValueError("tpn needs spatial_modulation_cfg and level_fusion_cfg (MMAction2 requires both)")
        levels = len(in_channels)
        if levels < 2:
            raise ValueError(f"tpn needs at least two backbone levels, got in_channels = {in_channels}")
        if temporal_modulation_cfg is not None and len(temporal_modulation_cfg.downsample_scales) != levels:
            raise ValueError(f"tpn temporal_modulation_cfg.downsample_scales needs {levels} entries, "
                             f"got {temporal_modulation_cfg.downsample_scales}")
        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.num_tpn_stages = levels
        self.flow_type = flow_type
        self.temporal_modulation_ops = nn.ModuleList()
        self.upsample_ops = nn.ModuleList()
        self.downsample_ops = nn.ModuleList()
        self.level_fusion_1 = LevelFusion(level_fusion_cfg)
        self.spatial_modulation = SpatialModulation(spatial_modulation_cfg)
        for i in range(levels):
            if temporal_modulation_cfg is not None:
                self.temporal_modulation_ops.append(TemporalModulation(
                    in_channels[-1], out_channels, temporal_modulation_cfg.downsample_scales[i]))
            if i < levels - 1:
                if upsample_cfg is not None:
                    self.upsample_ops.append(nn.Upsample(scale_factor=tuple(float(s) for s in upsample_cfg.scale_factor)))
                if downsample_cfg is not None:
                    self.downsample_ops.append(DownSample(out_channels, out_channels,
                                                          downsample_scale=tuple(downsample_cfg.downsample_scale)))
        self.level_fusion_2 = LevelFusion(level_fusion_cfg)
        self.pyramid_fusion = ConvModule(level_fusion_cfg.out_channels * 2, 2048, 1, bias=False)
        self.aux_head = (AuxHead(in_channels[-2], aux_head_cfg.out_channels, aux_head_cfg.loss_weight)
                         if aux_head_cfg is not None else None)
        self.aux_scores: torch.Tensor | None = None
        self.init_weights()

    def init_weights(self) -> None:
        """MMAction2's: Xavier-uniform convolutions, BatchNorms at 1, the auxiliary fc N(0, 0.01)."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm3d):
                constant_init(m, 1)
        if self.aux_head is not None:
            nn.init.normal_(self.aux_head.fc.weight, std=0.01)
            nn.init.zeros_(self.aux_head.fc.bias)

    def forward(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(x) != self.num_tpn_stages:
            raise ValueError(f"tpn: {len(x)} backbone levels, expected {self.num_tpn_stages} "
                             f"(set the backbone's out_indices to {self.num_tpn_stages} stages)")
        # the auxiliary scores are kept for the loss (training only, as MMAction2's loss mode)
        self.aux_scores = self.aux_head(x[-2]) if self.aux_head is not None and self.training else None
        spatial = self.spatial_modulation(x)
        temporal = [op(level) for op, level in zip(self.temporal_modulation_ops, spatial)]
        outs = [t.clone() for t in temporal]
        if len(self.upsample_ops):
            for i in range(self.num_tpn_stages - 1, 0, -1):
                outs[i - 1] = outs[i - 1] + self.upsample_ops[i - 1](outs[i])
        top_down = self.level_fusion_1(outs)
        if self.flow_type == "parallel":
            outs = [t.clone() for t in temporal]
        if len(self.downsample_ops):
            for i in range(self.num_tpn_stages - 1):
                outs[i + 1] = outs[i + 1] + self.downsample_ops[i](outs[i])
        bottom_up = self.level_fusion_2(outs)
        return self.pyramid_fusion(torch.cat([top_down, bottom_up], 1))

    def auxiliary_losses(self, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"loss_aux": loss_weight x cross-entropy}`` of the last training forward's auxiliary
        scores against ``targets`` (class indices or soft labels), ``{}`` without an auxiliary head
        or outside training. The scores are used once: a second call returns ``{}``."""
        scores, self.aux_scores = self.aux_scores, None
        if scores is None:
            return {}
        return {"loss_aux": self.aux_head.loss_weight * F.cross_entropy(scores.float(), targets)}
