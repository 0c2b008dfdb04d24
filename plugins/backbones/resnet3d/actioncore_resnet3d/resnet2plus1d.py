"""R(2+1)D (Tran et al., CVPR 2018) as MMAction2 1.2.0 builds it: every 3D convolution of a
ResNet3d factorised into a spatial ``conv_s`` (1 x k x k), BatchNorm ``bn_s``, ReLU and a temporal
``conv_t`` (k x 1 x 1)."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from actioncore.sdk.layers import Conv3d, ConvFactory, NormCfg, constant_init, kaiming_init

from .resnet3d import Depth, Inflate, ResNet3d, _triple


def mid_channels(in_channels: int, out_channels: int, kernel: tuple[int, int, int]) -> int:
    """Middle planes of a (2+1)D convolution, as MMAction2 computes them.

    The paper's rule (section 3.5) keeps the parameter count of a ``t x h x w`` kernel; MMAction2
    uses t = 3 whatever the kernel (so a 1x1x1 shortcut gets the planes of a 3x1x1 one).
    """
    _, h, w = kernel
    return int(3 * in_channels * out_channels * h * w / (in_channels * h * w + 3 * out_channels))


class Conv2plus1d(nn.Module):
    """A (2+1)D convolution: ``conv_s`` -> ``bn_s`` -> ReLU -> ``conv_t``; names as MMAction2's.

    As in MMAction2 (whose ``ConvModule`` does not pass its ``norm_cfg`` on to the convolution),
    the middle ``bn_s`` is a default BatchNorm3d (eps 1e-5) whatever the network's ``norm_cfg``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, *, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = False, norm_cfg: NormCfg = NormCfg(),
                 mid: int | None = None):
        super().__init__()
        kernel, stride, padding = _triple(kernel_size), _triple(stride), _triple(padding)
        dilation = _triple(dilation)
        if groups != 1:
            raise ValueError("Conv2plus1d has no grouped form")
        mid = mid if mid is not None else mid_channels(in_channels, out_channels, kernel)
        self.conv_s = Conv3d(in_channels, mid, (1, kernel[1], kernel[2]),
                                stride=(1, stride[1], stride[2]), padding=(0, padding[1], padding[2]),
                                dilation=(1, dilation[1], dilation[2]), bias=bias)
        self.bn_s = norm_cfg.build(mid)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = Conv3d(mid, out_channels, (kernel[0], 1, 1), stride=(stride[0], 1, 1),
                                padding=(padding[0], 0, 0), bias=bias)
        kaiming_init(self.conv_s)
        kaiming_init(self.conv_t)
        constant_init(self.bn_s, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_t(self.relu(self.bn_s(self.conv_s(x))))


class ResNet2Plus1d(ResNet3d):
    """MMAction2's ResNet2Plus1d: a ResNet3d whose convolutions are all :class:`Conv2plus1d`.

    Parameters are :class:`ResNet3d`'s with R(2+1)D's defaults (depth 34, stride 2 in time at
    stages 2-4, no pool2). As in MMAction2, the stem's max pooling is always applied and
    ``with_pool2`` is ignored; ``with_pool1 = false`` drops the pooling (torchvision).

    :param layout: ``mmaction2`` computes each (2+1)D convolution's middle planes from its own
        in/out channels and factorises the 1x1x1 shortcut too; ``torchvision`` builds
        ``torchvision.models.video.r2plus1d_18``'s variant (45-plane stem, both convolutions of
        a block with the middle planes of its first, plain 1x1x1 shortcut). Use it with
        ``with_pool1 = false`` to load torchvision weights (:func:`from_torchvision`).
    """

    def __init__(
        self, *, depth: Depth = 34, stage_blocks: tuple[int, ...] | None = None,
        in_channels: int = 3, num_stages: int = 4, base_channels: int = 64,
        out_indices: tuple[int, ...] = (3,), spatial_strides: tuple[int, ...] = (1, 2, 2, 2),
        temporal_strides: tuple[int, ...] = (1, 2, 2, 2), dilations: tuple[int, ...] = (1, 1, 1, 1),
        conv1_kernel: tuple[int, int, int] = (3, 7, 7), conv1_stride_s: int = 2,
        conv1_stride_t: int = 1, pool1_stride_s: int = 2, pool1_stride_t: int = 1,
        with_pool1: bool = True, style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, inflate: tuple[Inflate, ...] = (1, 1, 1, 1),
        norm_cfg: NormCfg = NormCfg(eps=1e-3), norm_eval: bool = False, with_cp: bool = False,
        zero_init_residual: bool = False,
        layout: Literal["mmaction2", "torchvision"] = "mmaction2", pretrained: str | None = None,
    ):
        nn.Module.__init__(self)
        self.layout = layout
        self.build_layers(depth=depth, stage_blocks=stage_blocks, in_channels=in_channels,
                    num_stages=num_stages, base_channels=base_channels, out_indices=out_indices,
                    spatial_strides=spatial_strides, temporal_strides=temporal_strides,
                    dilations=dilations, conv1_kernel=conv1_kernel, conv1_stride_s=conv1_stride_s,
                    conv1_stride_t=conv1_stride_t, pool1_stride_s=pool1_stride_s,
                    pool1_stride_t=pool1_stride_t, with_pool1=with_pool1, with_pool2=False,
                    style=style, frozen_stages=frozen_stages, inflate=inflate,
                    inflate_style="3x1x1", norm_cfg=norm_cfg, norm_eval=norm_eval,
                    with_cp=with_cp, zero_init_residual=zero_init_residual, pretrained=pretrained)

    def conv_layer(self) -> ConvFactory:
        if self.layout == "mmaction2":
            return Conv2plus1d
        if self.depth >= 50:
            raise ValueError("resnet2plus1d layout 'torchvision' has basic blocks only (depth 18 or 34)")
        pending: list[int] = []

        def build(in_channels: int, out_channels: int, kernel_size, **kwargs) -> nn.Module:
            kernel = _triple(kernel_size)
            if kernel == (1, 1, 1):  # torchvision's shortcut is a plain Conv3d
                return Conv3d(in_channels, out_channels, kernel, **kwargs)
            if kernel[1] == 7:  # torchvision's stem has 45 middle planes
                return Conv2plus1d(in_channels, out_channels, kernel, mid=45, **kwargs)
            # a block's two convolutions share the middle planes computed for its first
            if pending:
                mid = pending.pop()
            else:
                mid = mid_channels(in_channels, out_channels, kernel)
                pending.append(mid)
            return Conv2plus1d(in_channels, out_channels, kernel, mid=mid, **kwargs)

        return build
