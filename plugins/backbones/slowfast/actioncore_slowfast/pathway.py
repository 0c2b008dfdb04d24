"""A SlowFast pathway: actioncore-resnet3d's ``ResNet3d`` plus lateral connections.

Module names follow MMAction2 1.2.0's ``ResNet3dPathway`` (each convolution sits with its
BatchNorm in a ``conv``/``bn`` pair, e.g. ``layer3.0.conv1.conv.weight``; lateral connections
are ``conv1_lateral`` and ``layer{i}_lateral``), so MMAction2 checkpoints load unchanged.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from actioncore.sdk.layers import ConvModule, NonLocalCfg, NormCfg
from actioncore_resnet3d import Inflate, ResNet3d, inflate_2d_weights

InflateStyle = Literal["3x1x1", "3x3x3"]


class ResNet3dPathway(ResNet3d):
    """One SlowFast pathway: a :class:`~actioncore_resnet3d.ResNet3d` (no ``pool2``, default
    BatchNorms) plus lateral convolutions if ``lateral``.

    A lateral pathway (the slow one) receives, before stage 1 and after stages 1..3, the other
    pathway's features through a ``fusion_kernel`` x 1 x 1 convolution of temporal stride
    ``speed_ratio`` that maps ``C / channel_ratio`` channels to ``C * lateral_infl /
    channel_ratio``; they are concatenated to its own, so its stages take more input channels
    (:meth:`stage_inplanes`). The forward pass is driven by
    :class:`~actioncore_slowfast.slowfast.ResNet3dSlowFast`. ``non_local`` (per stage a 0/1, or
    a tuple of one per block) ends blocks with a non-local block (``non_local_cfg``) as in
    ResNet3d (``layer3.1.non_local_block.*``). ``frozen_stages`` also freezes the lateral
    connection after each frozen stage, as MMAction2's pathway does.

    ``pretrained`` names a 2D ImageNet ResNet of the pathway's depth (torchvision naming) to
    inflate once the model is built, MMAction2's pathway ``pretrained`` with
    ``pretrained2d = True`` (:meth:`filter_pretrained`): the input channels
    that lateral connections add start at zero, the lateral convolutions (and a stage's first
    shortcut where only the lateral channels call for one) keep their initialisation. A whole 3D
    SlowFast checkpoint goes to the backbone's own ``pretrained``.
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
        nn.Module.__init__(self)
        if depth not in self.arch_settings:
            raise ValueError(f"pathway depth must be one of {sorted(self.arch_settings)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"pathway num_stages must be 1 to 4, got {num_stages}")
        blocks = tuple(stage_blocks) if stage_blocks is not None else self.arch_settings[depth][1]
        # one value per stage, as MMAction2 takes them: longer sequences are cut to num_stages
        per_stage = {"stage_blocks": blocks, "spatial_strides": spatial_strides,
                     "temporal_strides": temporal_strides, "dilations": dilations,
                     "inflate": inflate, "lateral_activate": lateral_activate,
                     "non_local": non_local}
        for name, values in per_stage.items():
            if len(values) < num_stages:
                raise ValueError(f"pathway {name} {tuple(values)} needs one value per stage "
                                 f"(num_stages = {num_stages})")
        stages = {name: tuple(values)[:num_stages] for name, values in per_stage.items()}
        self.lateral = lateral
        self.lateral_norm = lateral_norm
        self.speed_ratio = speed_ratio
        self.channel_ratio = channel_ratio
        self.fusion_kernel = fusion_kernel
        self.lateral_infl = lateral_infl
        self.lateral_activate = stages["lateral_activate"]
        self.lateral_connections: list[str] = []
        self.build_layers(depth=depth, stage_blocks=stages["stage_blocks"], in_channels=in_channels,
                    num_stages=num_stages, base_channels=base_channels, out_indices=(num_stages - 1,),
                    spatial_strides=stages["spatial_strides"],
                    temporal_strides=stages["temporal_strides"], dilations=stages["dilations"],
                    conv1_kernel=tuple(conv1_kernel), conv1_stride_s=conv1_stride_s,
                    conv1_stride_t=conv1_stride_t, pool1_stride_s=pool1_stride_s,
                    pool1_stride_t=pool1_stride_t, with_pool1=True, with_pool2=False, style=style,
                    frozen_stages=frozen_stages, inflate=stages["inflate"], inflate_style=inflate_style,
                    norm_cfg=NormCfg(), norm_eval=norm_eval, with_cp=with_cp,
                    zero_init_residual=zero_init_residual, pretrained=pretrained, pretrained2d=False,
                    non_local=stages["non_local"], non_local_cfg=non_local_cfg)
        self.train()

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The 2D ResNet inflated; lateral connections have no 2D counterpart: they keep their
        initialisation, as does a stage's first shortcut that only the lateral channels call for."""
        return inflate_2d_weights(self, state, skip=lambda name: "lateral" in name,
                                  optional=lambda name: self.lateral and name.endswith(".0.downsample"))

    def stage_inplanes(self, index: int, inplanes: int) -> int:
        """A lateral pathway's stage also takes the fast pathway's features, through the lateral
        connection built here: ``conv1_lateral`` before stage 1, ``layer{index}_lateral`` after
        stage ``index``."""
        if not self.lateral or not self.lateral_activate[index]:
            return inplanes
        name = "conv1_lateral" if index == 0 else f"layer{index}_lateral"
        fused = inplanes * self.lateral_infl // self.channel_ratio
        self.add_module(name, ConvModule(
            inplanes // self.channel_ratio, fused, (self.fusion_kernel, 1, 1),
            stride=(self.speed_ratio, 1, 1), padding=((self.fusion_kernel - 1) // 2, 0, 0), bias=False,
            norm_cfg=NormCfg() if self.lateral_norm else None, act=self.lateral_norm))
        if index:
            self.lateral_connections.append(name)
        return inplanes + fused

    def stage_modules(self, index: int) -> list[nn.Module]:
        """Stage ``index`` and, but for the last stage, the lateral connection listed
        ``index``-th (MMAction2's ``_freeze_stages``)."""
        modules = super().stage_modules(index)
        if self.lateral and index != len(self.res_layers) and index - 1 < len(self.lateral_connections):
            modules.append(getattr(self, self.lateral_connections[index - 1]))
        return modules
