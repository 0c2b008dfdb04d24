"""ACRN (Sun et al., "Actor-Centric Relation Network", ECCV 2018) as MMAction2's ``ACRNHead``.

Each actor's RoI feature is max-pooled to one vector, tiled over the whole frame's feature map
and concatenated to it; 1x1x1 and 1x3x3 convolutions then relate the actor to every place in
the scene. The output is a map per actor, which the box head pools.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from actioncore.sdk.layers import ConvModule, NormCfg, constant_init, kaiming_init


class ACRNHead(nn.Module):
    """Shared head ``(roi_feats [R, C, 1, s, s], context [N, C, 1, H, W])`` to ``[R, out, 1, H', W']``.

    :param in_channels: RoI plus context channels (2 x 2304 = 4608 for SlowFast-R50).
    :param out_channels: channels of the relation map (the box head's ``in_channels``).
    :param stride: spatial stride of the first 1x3x3 convolution.
    :param num_convs: number of 1x3x3 convolutions (at least 1).
    :param norm_cfg: BatchNorm settings of each convolution.
    """

    def __init__(self, *, in_channels: int = 4608, out_channels: int = 2304, stride: int = 1,
                 num_convs: int = 1, norm_cfg: NormCfg = NormCfg()):  # noqa: B008 (frozen)
        super().__init__()
        if num_convs < 1:
            raise ValueError(f"acrn num_convs must be at least 1, got {num_convs}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.max_pool = nn.AdaptiveMaxPool3d(1)
        self.conv1 = ConvModule(in_channels, out_channels, 1, norm_cfg=norm_cfg, bias=False)
        self.conv2 = ConvModule(out_channels, out_channels, (1, 3, 3), stride=(1, stride, stride),
                                padding=(0, 1, 1), norm_cfg=norm_cfg, bias=False)
        self.convs = nn.ModuleList(
            ConvModule(out_channels, out_channels, (1, 3, 3), padding=(0, 1, 1), norm_cfg=norm_cfg,
                       bias=False)
            for _ in range(num_convs - 1))
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, nn.BatchNorm3d):
                constant_init(m, 1)

    def forward(self, roi_feats: torch.Tensor, *, context: torch.Tensor, rois: torch.Tensor,
                meta: Any = None) -> torch.Tensor:
        actor = self.max_pool(roi_feats)
        height, width = context.shape[-2:]
        tiled = actor.expand(-1, -1, -1, height, width)
        scene = context[rois[:, 0].long()]
        if tiled.shape[2] != scene.shape[2]:
            raise ValueError(f"acrn: the RoI features have {tiled.shape[2]} time steps after "
                             f"pooling, the context {scene.shape[2]}; use with_temporal_pool")
        x = self.conv2(self.conv1(torch.cat([tiled, scene], dim=1)))
        for conv in self.convs:
            x = conv(x)
        return x
