"""The 3D non-local block (Wang et al., "Non-local Neural Networks", CVPR 2018) as mmcv's ``NonLocal3d``,
with its module names, so MMAction2's TSM-NL and I3D-NL checkpoints load key for key."""
from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import attrs
import torch
from torch import nn

from actioncore.ops.conv import Conv3d

NonLocalMode = Literal["embedded_gaussian", "dot_product", "gaussian"]


@attrs.define
class NonLocalCfg:
    """``non_local_cfg`` of ``resnet_tsm`` and ``resnet3d``: mmcv's ``NonLocal3d`` options.

    :param sub_sample: 2x2 spatial max pooling of the keys and values.
    :param use_scale: divide embedded-Gaussian affinities by ``sqrt(inter_channels)``.
    :param norm_cfg: ``{type = "BN3d"}`` puts a BatchNorm (initialised to 0) after the output
        convolution; without it the output convolution is initialised to 0.
    :param mode: pairwise function; mmcv's ``concatenation`` is not supported.
    :param reduction: ``inter_channels = in_channels // reduction``.
    """

    sub_sample: bool = False
    use_scale: bool = True
    norm_cfg: dict[str, str | bool] | None = None
    mode: NonLocalMode = "embedded_gaussian"
    reduction: int = 2


def _conv(in_channels: int, out_channels: int, norm: bool = False, std: float | None = 0.01) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv=Conv3d(in_channels, out_channels, 1, bias=not norm))
    if norm:
        layers["bn"] = nn.BatchNorm3d(out_channels)
    block = nn.Sequential(layers)
    with torch.no_grad():
        if std is not None:
            nn.init.normal_(block.conv.weight, std=std)
            if block.conv.bias is not None:
                block.conv.bias.zero_()
    return block


class NonLocal3d(nn.Module):
    """Non-local block over ``[N, C, T, H, W]``: ``x + conv_out(softmax(theta x . phi x) g x)``."""

    def __init__(self, in_channels: int, cfg: NonLocalCfg):
        super().__init__()
        if cfg.mode not in ("embedded_gaussian", "dot_product", "gaussian"):
            raise ValueError(f"non-local mode must be embedded_gaussian, dot_product or gaussian, got {cfg.mode!r}")
        norm = cfg.norm_cfg is not None
        if norm and cfg.norm_cfg.get("type", "BN3d") != "BN3d":
            raise ValueError(f"non-local norm_cfg type must be 'BN3d', got {cfg.norm_cfg.get('type')!r}")
        self.in_channels = in_channels
        self.inter_channels = max(in_channels // cfg.reduction, 1)
        self.mode = cfg.mode
        self.use_scale = cfg.use_scale
        self.sub_sample = cfg.sub_sample
        inter = self.inter_channels
        self.g = _conv(in_channels, inter)
        self.conv_out = _conv(inter, in_channels, norm=norm, std=None)
        with torch.no_grad():
            zeroed = self.conv_out.bn if norm else self.conv_out.conv
            zeroed.weight.zero_()
            if zeroed.bias is not None:
                zeroed.bias.zero_()
        if self.mode != "gaussian":
            self.theta = _conv(in_channels, inter)
            self.phi = _conv(in_channels, inter)
        if self.sub_sample:
            pool = nn.MaxPool3d(kernel_size=(1, 2, 2))
            self.g = nn.Sequential(self.g, pool)
            self.phi = nn.Sequential(self.phi, pool) if self.mode != "gaussian" else pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        g_x = self.g(x).reshape(n, self.inter_channels, -1).transpose(1, 2)
        if self.mode == "gaussian":
            theta_x = x.reshape(n, self.in_channels, -1).transpose(1, 2)
            phi_x = (self.phi(x) if self.sub_sample else x).reshape(n, self.in_channels, -1)
        else:
            theta_x = self.theta(x).reshape(n, self.inter_channels, -1).transpose(1, 2)
            phi_x = self.phi(x).reshape(n, self.inter_channels, -1)
        affinity = theta_x @ phi_x
        if self.mode == "dot_product":
            affinity = affinity / affinity.shape[-1]
        else:
            if self.mode == "embedded_gaussian" and self.use_scale:
                affinity = affinity / theta_x.shape[-1] ** 0.5
            affinity = affinity.softmax(dim=-1)
        y = (affinity @ g_x).transpose(1, 2).reshape(n, self.inter_channels, *x.shape[2:])
        return x + self.conv_out(y)
