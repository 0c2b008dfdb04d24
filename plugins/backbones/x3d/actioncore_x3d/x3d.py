"""MMAction2's X3D: a 2D-ResNet-like network of depthwise 3x3x3 bottlenecks, scaled by gammas.

Module names follow MMAction2 1.2.0 (``conv1_s``, ``conv1_t``, ``layer{i}.{j}.conv{1,2,3}.conv``
/ ``.bn``, ``se_module.fc1``/``fc2``, ``conv5``), so MMAction2 X3D checkpoints load unchanged.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.utils import checkpoint

from actioncore.sdk.layers import Conv3d, ConvModule, FrozenStagesMixin, NormCfg, constant_init, kaiming_init
from actioncore.sdk.weights import PretrainedMixin


def _triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    return (value, value, value) if isinstance(value, int) else tuple(value)  # type: ignore[return-value]


def round_width(width: float, multiplier: float | None, min_width: int = 8, divisor: int = 8) -> int:
    """``width * multiplier`` rounded to a multiple of ``divisor`` (never below 90% of it)."""
    if not multiplier:
        return int(width)
    width *= multiplier
    out = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if out < 0.9 * width:
        out += divisor
    return int(out)


def round_repeats(repeats: int, multiplier: float | None) -> int:
    return repeats if not multiplier else int(math.ceil(multiplier * repeats))


def conv_bn(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], *,
            stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0, groups: int = 1,
            norm: bool = True, relu: bool = True) -> ConvModule:
    """Bias-free 3D convolution, optional BatchNorm and ReLU (MMAction2's ``ConvModule`` as X3D
    configures it: ``bias=False`` even without a norm)."""
    return ConvModule(in_channels, out_channels, _triple(kernel_size), stride=_triple(stride),
                      padding=_triple(padding), groups=groups, bias=False,
                      norm_cfg=NormCfg() if norm else None, act=relu)


class SEModule(nn.Module):
    """Squeeze-and-excitation: global pool, 1x1x1 reduce, ReLU, 1x1x1 expand, sigmoid gate."""

    def __init__(self, channels: int, reduction: float):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.bottleneck = round_width(channels, reduction)
        self.fc1 = Conv3d(channels, self.bottleneck, kernel_size=1)
        self.relu = nn.ReLU()
        self.fc2 = Conv3d(self.bottleneck, channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))


class BlockX3D(nn.Module):
    """1x1x1 expand to ``planes``, depthwise 3x3x3 (spatial stride), SE, Swish, 1x1x1 project."""

    def __init__(self, inplanes: int, planes: int, outplanes: int, *, spatial_stride: int = 1,
                 downsample: nn.Module | None = None, se_ratio: float | None = None,
                 use_swish: bool = True, with_cp: bool = False):
        super().__init__()
        self.conv1 = conv_bn(inplanes, planes, 1)
        self.conv2 = conv_bn(planes, planes, 3, stride=(1, spatial_stride, spatial_stride),
                             padding=1, groups=planes, relu=False)
        self.se_module = SEModule(planes, se_ratio) if se_ratio is not None else None
        self.swish = nn.SiLU() if use_swish else nn.ReLU()
        self.conv3 = conv_bn(planes, outplanes, 1, relu=False)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        if self.se_module is not None:
            out = self.se_module(out)
        out = self.conv3(self.swish(out))
        return out + (x if self.downsample is None else self.downsample(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return self.relu(checkpoint.checkpoint(self._residual, x, use_reentrant=False))
        return self.relu(self._residual(x))


class X3D(FrozenStagesMixin, PretrainedMixin):
    """X3D backbone (Feichtenhofer, "X3D: Expanding Architectures for Efficient Video
    Recognition", CVPR 2020): ``[N, 3, T, H, W]`` -> ``[N, feat_dim, T, H/32, W/32]``.

    The base network has 24 stem channels and 1, 2, 5, 3 blocks per stage; X3D-S/M use
    ``gamma_w = 1``, ``gamma_b = 2.25``, ``gamma_d = 2.2`` (feat_dim 432).

    :param gamma_w: width multiplier of the stem and stages (rounded to multiples of 8).
    :param gamma_b: bottleneck expansion: inner width of each block, and of ``conv5``.
    :param gamma_d: depth multiplier of the blocks per stage (rounded up).
    :param in_channels: input channels.
    :param num_stages: how many of the four stages to build.
    :param spatial_strides: spatial stride of each stage's first block.
    :param frozen_stages: the stem (0) and stages 1..k get no gradient and keep their
        BatchNorm statistics; -1 freezes nothing.
    :param se_style: squeeze-excitation in every block (``all``) or every other one from the
        first (``half``).
    :param se_ratio: SE bottleneck ratio; None disables SE.
    :param use_swish: Swish (SiLU) after the depthwise convolution; False uses ReLU there.
        (MMAction2 1.2.0 accepts the flag but always applies Swish.)
    :param norm_eval: keep every BatchNorm in eval mode while training.
    :param with_cp: recompute each block's activations in the backward pass to save memory.
    :param zero_init_residual: zero the last BatchNorm of each block at initialisation.
    :param pretrained: a local state dict of this backbone (an MMAction2 X3D checkpoint, whole
        or backbone only), loaded once the model is built; nothing is downloaded.
    """

    def __init__(self, *, gamma_w: float = 1.0, gamma_b: float = 1.0, gamma_d: float = 1.0,
                 in_channels: int = 3, num_stages: int = 4,
                 spatial_strides: tuple[int, ...] = (2, 2, 2, 2), frozen_stages: int = -1,
                 se_style: Literal["all", "half"] = "half", se_ratio: float | None = 1 / 16,
                 use_swish: bool = True, norm_eval: bool = False, with_cp: bool = False,
                 zero_init_residual: bool = True, pretrained: str | None = None):
        super().__init__()
        if not 1 <= num_stages <= 4:
            raise ValueError(f"x3d num_stages must be 1 to 4, got {num_stages}")
        if len(spatial_strides) != num_stages:
            raise ValueError(f"x3d spatial_strides {tuple(spatial_strides)} need one value per "
                             f"stage (num_stages = {num_stages})")
        if se_ratio is not None and se_ratio <= 0:
            raise ValueError(f"x3d se_ratio must be positive or absent, got {se_ratio}")
        if se_style not in ("all", "half"):
            raise ValueError(f"x3d se_style must be 'all' or 'half', got {se_style!r}")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f"x3d frozen_stages must be -1 to {num_stages}, got {frozen_stages}")
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.base_channels = round_width(24, gamma_w)
        self.stage_blocks = [round_repeats(n, gamma_d) for n in (1, 2, 5, 3)][:num_stages]

        self.conv1_s = conv_bn(in_channels, self.base_channels, (1, 3, 3), stride=(1, 2, 2),
                               padding=(0, 1, 1), norm=False, relu=False)
        self.conv1_t = conv_bn(self.base_channels, self.base_channels, (5, 1, 1),
                               padding=(2, 0, 0), groups=self.base_channels)
        self.res_layers: list[str] = []
        layer_inplanes = self.base_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            inplanes = self.base_channels * 2 ** i
            planes = int(inplanes * gamma_b)
            stride = spatial_strides[i]
            downsample = None
            if stride != 1 or layer_inplanes != inplanes:
                downsample = conv_bn(layer_inplanes, inplanes, 1, stride=(1, stride, stride),
                                     relu=False)
            use_se = [se_style == "all" or j % 2 == 0 for j in range(num_blocks)]
            blocks = [BlockX3D(layer_inplanes if j == 0 else inplanes, planes, inplanes,
                               spatial_stride=stride if j == 0 else 1,
                               downsample=downsample if j == 0 else None,
                               se_ratio=se_ratio if use_se[j] else None, use_swish=use_swish,
                               with_cp=with_cp)
                      for j in range(num_blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            self.res_layers.append(f"layer{i + 1}")
            layer_inplanes = inplanes
        feat_dim = self.base_channels * 2 ** (len(self.stage_blocks) - 1)
        self.conv5 = conv_bn(feat_dim, int(feat_dim * gamma_b), 1)
        self.feat_dim = self.out_channels = int(feat_dim * gamma_b)

        self._init_weights(zero_init_residual)
        self.pretrained = pretrained
        self.train()

    def _init_weights(self, zero_init_residual: bool) -> None:
        """MMAction2's: Kaiming-normal (fan-out) convolutions with zero bias, unit BatchNorms."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, nn.BatchNorm3d):
                constant_init(m, 1)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BlockX3D):
                    nn.init.zeros_(m.conv3.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1_t(self.conv1_s(x))
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return self.conv5(x)

    def stem_modules(self) -> list[nn.Module]:
        return [self.conv1_s, self.conv1_t]
