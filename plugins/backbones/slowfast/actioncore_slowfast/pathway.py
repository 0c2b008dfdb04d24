"""A SlowFast pathway: actioncore-resnet3d's 3D ResNet stem and stages plus lateral connections.

Module names follow MMAction2 1.2.0's ``ResNet3dPathway`` (each convolution sits with its
BatchNorm in a ``conv``/``bn`` pair, e.g. ``layer3.0.conv1.conv.weight``; lateral connections
are ``conv1_lateral`` and ``layer{i}_lateral``), so MMAction2 checkpoints load unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn

from actioncore.sdk.layers import ConvModule, NonLocalCfg, NormCfg
from actioncore_resnet3d.resnet3d import Inflate, ResNet3d, init_resnet3d_weights, make_res_layer
from actioncore_resnet3d.weights import inflate_pretrained_2d

InflateStyle = Literal["3x1x1", "3x3x3"]


class ResNet3dPathway(nn.Module):
    """One SlowFast pathway: a 3D ResNet stem and stages, plus lateral convolutions if ``lateral``.

    A lateral pathway (the slow one) receives, before stage 1 and after stages 1..3, the other
    pathway's features through a ``fusion_kernel`` x 1 x 1 convolution of temporal stride
    ``speed_ratio`` that maps ``C / channel_ratio`` channels to ``C * lateral_infl /
    channel_ratio``; they are concatenated to its own, so its stages take more input channels.
    The forward pass is driven by :class:`~actioncore_slowfast.slowfast.ResNet3dSlowFast`.
    ``non_local`` (per stage a 0/1, or a tuple of one per block) ends blocks with a non-local
    block (``non_local_cfg``) as in ResNet3d (``layer3.1.non_local_block.*``).

    ``pretrained`` names a 2D ImageNet ResNet of the pathway's depth (torchvision naming) to
    inflate, MMAction2's pathway ``pretrained`` with ``pretrained2d = True``: the input channels
    that lateral connections add start at zero, the lateral convolutions (and a stage's first
    shortcut where only the lateral channels call for one) keep their initialisation. A whole 3D SlowFast checkpoint goes to the backbone's own ``pretrained``.
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
                 norm_eval: bool = False, with_cp: bool = False, zero_init_residual: bool = True,
                 non_local: Sequence[Inflate] = (0, 0, 0, 0),
                 non_local_cfg: NonLocalCfg = NonLocalCfg(),  # noqa: B008 (frozen)
                 pretrained: str | None = None):
        super().__init__()
        if depth not in ResNet3d.arch_settings:
            raise ValueError(f"pathway depth must be one of {sorted(ResNet3d.arch_settings)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"pathway num_stages must be 1 to 4, got {num_stages}")
        block, default_blocks = ResNet3d.arch_settings[depth]
        blocks = tuple(stage_blocks) if stage_blocks is not None else default_blocks[:num_stages]
        per_stage = {"stage_blocks": blocks, "spatial_strides": spatial_strides,
                     "temporal_strides": temporal_strides, "dilations": dilations,
                     "inflate": inflate, "lateral_activate": lateral_activate,
                     "non_local": non_local}
        for name, values in per_stage.items():
            if len(values) < num_stages:
                raise ValueError(f"pathway {name} {tuple(values)} needs one value per stage "
                                 f"(num_stages = {num_stages})")
        self.block = block
        self.lateral = lateral
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = ConvModule(in_channels, base_channels, tuple(conv1_kernel),
                                stride=(conv1_stride_t, conv1_stride_s, conv1_stride_s),
                                padding=tuple((k - 1) // 2 for k in conv1_kernel))
        self.maxpool = nn.MaxPool3d(kernel_size=(1, 3, 3),
                                    stride=(pool1_stride_t, pool1_stride_s, pool1_stride_s),
                                    padding=(0, 1, 1))

        def lateral_conv(channels: int) -> ConvModule:
            return ConvModule(channels // channel_ratio, channels * lateral_infl // channel_ratio,
                              (fusion_kernel, 1, 1), stride=(speed_ratio, 1, 1),
                              padding=((fusion_kernel - 1) // 2, 0, 0), bias=False,
                              norm_cfg=NormCfg() if lateral_norm else None, act=lateral_norm)

        lateral_in = [0] * num_stages
        if lateral and lateral_activate[0]:
            self.conv1_lateral = lateral_conv(base_channels)
            lateral_in[0] = base_channels * lateral_infl // channel_ratio
        self.res_layers: list[str] = []
        self.lateral_connections: list[str] = []
        channels = base_channels
        for i in range(num_stages):
            planes = base_channels * 2 ** i
            nl_flags = non_local[i]
            nl_flags = (nl_flags,) * blocks[i] if isinstance(nl_flags, int) else tuple(nl_flags)
            if len(nl_flags) != blocks[i]:
                raise ValueError(f"pathway non_local of stage {i + 1} {nl_flags} needs one value "
                                 f"per block ({blocks[i]})")
            layer = make_res_layer(block, channels + lateral_in[i], planes, (inflate[i],) * blocks[i],
                                   spatial_stride=spatial_strides[i],
                                   temporal_stride=temporal_strides[i], dilation=dilations[i],
                                   style=style, inflate_style=inflate_style, with_cp=with_cp,
                                   non_local=nl_flags, non_local_cfg=non_local_cfg)
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
            channels = planes * block.expansion
            if lateral and i != num_stages - 1 and lateral_activate[i + 1]:
                self.add_module(f"layer{i + 1}_lateral", lateral_conv(channels))
                self.lateral_connections.append(f"layer{i + 1}_lateral")
                lateral_in[i + 1] = channels * lateral_infl // channel_ratio
        self.out_channels = channels
        self.init_weights(zero_init_residual)
        if pretrained is not None:  # lateral connections have no 2D counterpart: they keep their init
            inflate_pretrained_2d(self, pretrained, skip=lambda name: "lateral" in name,
                                  optional=lambda name: lateral and name.endswith(".0.downsample"))
        self.train()

    def init_weights(self, zero_init_residual: bool = True) -> None:
        init_resnet3d_weights(self, zero_init_residual)

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
