"""A self-contained 3D ResNet pathway, the building block of SlowFast's two streams.

Module names follow MMAction2 1.2.0's ``ResNet3dPathway`` (each convolution sits with its
BatchNorm in a ``conv``/``bn`` pair, e.g. ``layer3.0.conv1.conv.weight``; lateral connections
are ``conv1_lateral`` and ``layer{i}_lateral``), so MMAction2 checkpoints load unchanged.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.utils import checkpoint

InflateStyle = Literal["3x1x1", "3x3x3"]

ARCH_SETTINGS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def _triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    if isinstance(value, int):
        return (value, value, value)
    return tuple(value)  # type: ignore[return-value]


class ConvBN3d(nn.Sequential):
    """Bias-free 3D convolution, optional BatchNorm and ReLU: MMAction2's ``ConvModule`` names."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int], *,
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, norm: bool = True, relu: bool = True):
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=nn.Conv3d(in_channels, out_channels, _triple(kernel_size), _triple(stride),
                           _triple(padding), _triple(dilation), bias=False))
        if norm:
            layers["bn"] = nn.BatchNorm3d(out_channels)
        if relu:
            layers["relu"] = nn.ReLU(inplace=True)
        super().__init__(layers)


class _Block3d(nn.Module):
    expansion = 1
    downsample: nn.Module | None
    with_cp: bool

    def body(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.body(x) + shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = checkpoint.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class BasicBlock3d(_Block3d):
    """Two 3x3 (inflated: 3x3x3) convolutions; the first strides in space and time."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, *, spatial_stride: int = 1,
                 temporal_stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None,
                 style: Literal["pytorch", "caffe"] = "pytorch", inflate: bool = True,
                 inflate_style: InflateStyle = "3x1x1", with_cp: bool = False):
        super().__init__()
        kt, pt = (3, 1) if inflate else (1, 0)
        self.conv1 = ConvBN3d(inplanes, planes, (kt, 3, 3),
                              stride=(temporal_stride, spatial_stride, spatial_stride),
                              padding=(pt, dilation, dilation), dilation=(1, dilation, dilation))
        self.conv2 = ConvBN3d(planes, planes * self.expansion, (kt, 3, 3), padding=(pt, 1, 1),
                              relu=False)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class Bottleneck3d(_Block3d):
    """1x1x1 (or 3x1x1) reduce, 1x3x3 (or 3x3x3), 1x1x1 expand by 4.

    ``inflate`` gives the block a temporal kernel of 3: on the first convolution
    (``inflate_style`` 3x1x1) or on the middle one (3x3x3). ``style`` pytorch strides in the
    middle convolution, caffe in the first.
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, *, spatial_stride: int = 1,
                 temporal_stride: int = 1, dilation: int = 1, downsample: nn.Module | None = None,
                 style: Literal["pytorch", "caffe"] = "pytorch", inflate: bool = True,
                 inflate_style: InflateStyle = "3x1x1", with_cp: bool = False):
        super().__init__()
        if style == "pytorch":
            stride1, stride2 = (1, 1, 1), (temporal_stride, spatial_stride, spatial_stride)
        else:
            stride1, stride2 = (temporal_stride, spatial_stride, spatial_stride), (1, 1, 1)
        if inflate and inflate_style == "3x1x1":
            k1, p1, k2, p2 = (3, 1, 1), (1, 0, 0), (1, 3, 3), (0, dilation, dilation)
        elif inflate:
            k1, p1, k2, p2 = (1, 1, 1), (0, 0, 0), (3, 3, 3), (1, dilation, dilation)
        else:
            k1, p1, k2, p2 = (1, 1, 1), (0, 0, 0), (1, 3, 3), (0, dilation, dilation)
        self.conv1 = ConvBN3d(inplanes, planes, k1, stride=stride1, padding=p1)
        self.conv2 = ConvBN3d(planes, planes, k2, stride=stride2, padding=p2,
                              dilation=(1, dilation, dilation))
        self.conv3 = ConvBN3d(planes, planes * self.expansion, 1, relu=False)
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.with_cp = with_cp

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))


def make_res_layer(block: type[_Block3d], inplanes: int, planes: int, num_blocks: int, *,
                   spatial_stride: int = 1, temporal_stride: int = 1, dilation: int = 1,
                   style: Literal["pytorch", "caffe"] = "pytorch", inflate: int | Sequence[int] = 1,
                   inflate_style: InflateStyle = "3x1x1", with_cp: bool = False) -> nn.Sequential:
    """One stage; its first block strides and projects the shortcut when shapes change."""
    inflates = (inflate,) * num_blocks if isinstance(inflate, int) else tuple(inflate)
    if len(inflates) != num_blocks:
        raise ValueError(f"inflate {inflates} needs one flag per block ({num_blocks})")
    out_channels = planes * block.expansion
    downsample = None
    if spatial_stride != 1 or inplanes != out_channels:
        downsample = ConvBN3d(inplanes, out_channels, 1,
                              stride=(temporal_stride, spatial_stride, spatial_stride), relu=False)
    common = dict(dilation=dilation, style=style, inflate_style=inflate_style, with_cp=with_cp)
    blocks = [block(inplanes, planes, spatial_stride=spatial_stride,
                    temporal_stride=temporal_stride, downsample=downsample,
                    inflate=inflates[0] == 1, **common)]
    blocks += [block(out_channels, planes, inflate=inflates[i] == 1, **common)
               for i in range(1, num_blocks)]
    return nn.Sequential(*blocks)


class ResNet3dPathway(nn.Module):
    """One SlowFast pathway: a 3D ResNet stem and stages, plus lateral convolutions if ``lateral``.

    A lateral pathway (the slow one) receives, before stage 1 and after stages 1..3, the other
    pathway's features through a ``fusion_kernel`` x 1 x 1 convolution of temporal stride
    ``speed_ratio`` that maps ``C / channel_ratio`` channels to ``C * lateral_infl /
    channel_ratio``; they are concatenated to its own, so its stages take more input channels.
    The forward pass is driven by :class:`~actioncore_slowfast.slowfast.ResNet3dSlowFast`.
    """

    def __init__(self, *, depth: int = 50, stage_blocks: Sequence[int] | None = None,
                 in_channels: int = 3, num_stages: int = 4, base_channels: int = 64,
                 spatial_strides: Sequence[int] = (1, 2, 2, 2),
                 temporal_strides: Sequence[int] = (1, 1, 1, 1),
                 dilations: Sequence[int] = (1, 1, 1, 1), conv1_kernel: Sequence[int] = (3, 7, 7),
                 conv1_stride_s: int = 2, conv1_stride_t: int = 1, pool1_stride_s: int = 2,
                 pool1_stride_t: int = 1, style: Literal["pytorch", "caffe"] = "pytorch",
                 inflate: Sequence[int] = (1, 1, 1, 1), inflate_style: InflateStyle = "3x1x1",
                 lateral: bool = False, lateral_norm: bool = False, speed_ratio: int = 8,
                 channel_ratio: int = 8, fusion_kernel: int = 5, lateral_infl: int = 2,
                 lateral_activate: Sequence[int] = (1, 1, 1, 1), frozen_stages: int = -1,
                 norm_eval: bool = False, with_cp: bool = False, zero_init_residual: bool = True):
        super().__init__()
        if depth not in ARCH_SETTINGS:
            raise ValueError(f"pathway depth must be one of {sorted(ARCH_SETTINGS)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"pathway num_stages must be 1 to 4, got {num_stages}")
        kind, default_blocks = ARCH_SETTINGS[depth]
        blocks = tuple(stage_blocks) if stage_blocks is not None else default_blocks[:num_stages]
        per_stage = {"stage_blocks": blocks, "spatial_strides": spatial_strides,
                     "temporal_strides": temporal_strides, "dilations": dilations,
                     "inflate": inflate, "lateral_activate": lateral_activate}
        for name, values in per_stage.items():
            if len(values) < num_stages:
                raise ValueError(f"pathway {name} {tuple(values)} needs one value per stage "
                                 f"(num_stages = {num_stages})")
        block: type[_Block3d] = BasicBlock3d if kind == "basic" else Bottleneck3d
        self.block = block
        self.lateral = lateral
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = ConvBN3d(in_channels, base_channels, conv1_kernel,
                              stride=(conv1_stride_t, conv1_stride_s, conv1_stride_s),
                              padding=tuple((k - 1) // 2 for k in conv1_kernel))
        self.maxpool = nn.MaxPool3d(kernel_size=(1, 3, 3),
                                    stride=(pool1_stride_t, pool1_stride_s, pool1_stride_s),
                                    padding=(0, 1, 1))

        def lateral_conv(channels: int) -> ConvBN3d:
            return ConvBN3d(channels // channel_ratio, channels * lateral_infl // channel_ratio,
                            (fusion_kernel, 1, 1), stride=(speed_ratio, 1, 1),
                            padding=((fusion_kernel - 1) // 2, 0, 0),
                            norm=lateral_norm, relu=lateral_norm)

        lateral_in = [0] * num_stages
        if lateral and lateral_activate[0]:
            self.conv1_lateral = lateral_conv(base_channels)
            lateral_in[0] = base_channels * lateral_infl // channel_ratio
        self.res_layers: list[str] = []
        self.lateral_connections: list[str] = []
        channels = base_channels
        for i in range(num_stages):
            planes = base_channels * 2 ** i
            layer = make_res_layer(block, channels + lateral_in[i], planes, blocks[i],
                                   spatial_stride=spatial_strides[i],
                                   temporal_stride=temporal_strides[i], dilation=dilations[i],
                                   style=style, inflate=inflate[i], inflate_style=inflate_style,
                                   with_cp=with_cp)
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
            channels = planes * block.expansion
            if lateral and i != num_stages - 1 and lateral_activate[i + 1]:
                self.add_module(f"layer{i + 1}_lateral", lateral_conv(channels))
                self.lateral_connections.append(f"layer{i + 1}_lateral")
                lateral_in[i + 1] = channels * lateral_infl // channel_ratio
        self.out_channels = channels
        self.init_weights(zero_init_residual)
        self.train()

    def init_weights(self, zero_init_residual: bool = True) -> None:
        """MMAction2's initialisation: Kaiming-normal (fan-out) convolutions, unit BatchNorms,
        and the last BatchNorm of each residual block zeroed with ``zero_init_residual``."""
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (Bottleneck3d, BasicBlock3d)):
                    last = m.conv3 if isinstance(m, Bottleneck3d) else m.conv2
                    nn.init.zeros_(last.bn.weight)

    def frozen_modules(self) -> list[nn.Module]:
        if self.frozen_stages < 0:
            return []
        modules: list[nn.Module] = [self.conv1]
        for i in range(1, self.frozen_stages + 1):
            modules.append(getattr(self, f"layer{i}"))
            if self.lateral and i != len(self.res_layers) and i - 1 < len(self.lateral_connections):
                modules.append(getattr(self, self.lateral_connections[i - 1]))
        return modules

    def train(self, mode: bool = True) -> ResNet3dPathway:
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad_(False)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


def load_backbone_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load a local backbone state dict in our (MMAction2's) naming, strictly.

    A whole recognizer checkpoint (``state_dict`` with ``backbone.*`` keys) is accepted too.
    """
    from actioncore.convert import load_into, mmaction2_weights

    state = mmaction2_weights(path)
    if any(k.startswith(("backbone.", "module.backbone.")) for k in state):
        state = {k.removeprefix("module.").removeprefix("backbone."): v for k, v in state.items()
                 if k.removeprefix("module.").startswith("backbone.")}
    load_into(module, state, path)
