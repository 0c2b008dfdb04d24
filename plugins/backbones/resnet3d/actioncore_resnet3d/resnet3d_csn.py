"""Channel-separated networks (Tran et al., ICCV 2019) as MMAction2 1.2.0 builds them:
a ResNet3d whose bottlenecks' 3x3x3 convolution is depthwise (ir-CSN), or a 1x1x1 convolution
followed by a depthwise 3x3x3 one (ip-CSN)."""
from __future__ import annotations

from typing import Literal

from torch import nn

from actioncore.sdk.layers import ConvModule, NormCfg
from .resnet3d import Bottleneck3d, Inflate, ResNet3d


class CSNBottleneck3d(Bottleneck3d):
    """Bottleneck whose ``conv2`` is ``Sequential([1x1x1 (ip only), depthwise 3x3x3])``."""

    def __init__(self, inplanes: int, planes: int, *, bottleneck_mode: str = "ir", **kwargs):
        self.bottleneck_mode = bottleneck_mode
        super().__init__(inplanes, planes, **kwargs)

    def _make_conv2(self, planes, kernel, stride, padding, dilation, norm_cfg, conv_layer):
        layers: list[nn.Module] = []
        if self.bottleneck_mode == "ip":
            layers.append(ConvModule(planes, planes, 1, norm_cfg=norm_cfg, act=False,
                                     conv_layer=conv_layer))
        layers.append(ConvModule(planes, planes, kernel, stride=stride, padding=padding,
                                 dilation=dilation, groups=planes, norm_cfg=norm_cfg,
                                 conv_layer=conv_layer))
        return nn.Sequential(*layers)


class ResNet3dCSN(ResNet3d):
    """MMAction2's ResNet3dCSN: depth 50, 101 or 152 with channel-separated bottlenecks.

    Parameters are :class:`ResNet3d`'s with CSN's defaults (stride 2 in time at stages 2-4,
    ``3x3x3`` inflation, BatchNorm eps 1e-3), plus:

    :param bottleneck_mode: ``ir`` (interaction-reduced: depthwise 3x3x3 only) or ``ip``
        (interaction-preserved: 1x1x1 then depthwise 3x3x3).
    :param bn_frozen: with ``norm_eval``, also stop the gradients of every BatchNorm's affine
        parameters when training (MMAction2's "bnfrozen" fine-tuning).
    """

    arch_settings = {
        50: (CSNBottleneck3d, (3, 4, 6, 3)),
        101: (CSNBottleneck3d, (3, 4, 23, 3)),
        152: (CSNBottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(
        self, *, depth: Literal[50, 101, 152] = 152, stage_blocks: tuple[int, ...] | None = None,
        in_channels: int = 3, num_stages: int = 4, base_channels: int = 64,
        out_indices: tuple[int, ...] = (3,), spatial_strides: tuple[int, ...] = (1, 2, 2, 2),
        temporal_strides: tuple[int, ...] = (1, 2, 2, 2), dilations: tuple[int, ...] = (1, 1, 1, 1),
        conv1_kernel: tuple[int, int, int] = (3, 7, 7), conv1_stride_s: int = 2,
        conv1_stride_t: int = 1, pool1_stride_s: int = 2, pool1_stride_t: int = 1,
        with_pool1: bool = True, with_pool2: bool = True,
        style: Literal["pytorch", "caffe"] = "pytorch", frozen_stages: int = -1,
        inflate: tuple[Inflate, ...] = (1, 1, 1, 1),
        inflate_style: Literal["3x1x1", "3x3x3"] = "3x3x3",
        norm_cfg: NormCfg = NormCfg(eps=1e-3), norm_eval: bool = False, bn_frozen: bool = False,
        bottleneck_mode: Literal["ir", "ip"] = "ir", with_cp: bool = False,
        zero_init_residual: bool = True, pretrained: str | None = None,
    ):
        nn.Module.__init__(self)
        if bottleneck_mode not in ("ir", "ip"):
            raise ValueError(f"resnet3d_csn bottleneck_mode must be 'ir' or 'ip', got {bottleneck_mode!r}")
        self.bottleneck_mode = bottleneck_mode
        self.bn_frozen = bn_frozen
        self.build_layers(depth=depth, stage_blocks=stage_blocks, in_channels=in_channels,
                    num_stages=num_stages, base_channels=base_channels, out_indices=out_indices,
                    spatial_strides=spatial_strides, temporal_strides=temporal_strides,
                    dilations=dilations, conv1_kernel=conv1_kernel, conv1_stride_s=conv1_stride_s,
                    conv1_stride_t=conv1_stride_t, pool1_stride_s=pool1_stride_s,
                    pool1_stride_t=pool1_stride_t, with_pool1=with_pool1, with_pool2=with_pool2,
                    style=style, frozen_stages=frozen_stages, inflate=inflate,
                    inflate_style=inflate_style, norm_cfg=norm_cfg, norm_eval=norm_eval,
                    with_cp=with_cp, zero_init_residual=zero_init_residual, pretrained=pretrained)

    def block_kwargs(self) -> dict:
        return {"bottleneck_mode": self.bottleneck_mode}

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.norm_eval and self.bn_frozen:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    for param in m.parameters():
                        param.requires_grad_(False)
        return self
