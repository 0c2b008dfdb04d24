"""MMAction2's ``ResNet3dSlowFast``: a slow, wide pathway and a fast, thin one with lateral links.

Input ``[N, C, T, H, W]``. The slow pathway sees every ``resample_rate``-th frame (T / 8 with
the defaults), the fast one every ``resample_rate / speed_ratio``-th (all T frames), both by
nearest-neighbour temporal resampling as in MMAction2. After the stem and after each of the
first three stages the fast features go through a lateral convolution (temporal stride
``speed_ratio``) and are concatenated to the slow ones. The output is the tuple
``(slow, fast)``: for depth 50 and 224 px input, ``[N, 2048, T/8, 7, 7]`` and ``[N, 256, T, 7, 7]``.
"""
from __future__ import annotations

from typing import Literal

import attrs
import torch
from torch import nn

from actioncore.sdk.layers import NonLocalCfg
from actioncore.sdk.weights import PretrainedMixin

from .pathway import InflateStyle, ResNet3dPathway


@attrs.frozen
class _Pathway:
    """What both pathways take (MMAction2's ``slow_pathway`` / ``fast_pathway`` dicts, ``type='resnet3d'``)."""

    depth: int = 50
    stage_blocks: tuple[int, ...] | None = None
    """Residual blocks per stage; None takes the depth's (3, 4, 6, 3 for 50)."""
    in_channels: int = 3
    num_stages: int = 4
    spatial_strides: tuple[int, ...] = (1, 2, 2, 2)
    temporal_strides: tuple[int, ...] = (1, 1, 1, 1)
    dilations: tuple[int, ...] = (1, 1, 1, 1)
    conv1_stride_s: int = 2
    conv1_stride_t: int = 1
    pool1_stride_s: int = 2
    pool1_stride_t: int = 1
    style: Literal["pytorch", "caffe"] = "pytorch"
    inflate_style: InflateStyle = "3x1x1"
    lateral_norm: bool = False
    """BatchNorm and ReLU after each lateral convolution."""
    fusion_kernel: int = 5
    lateral_infl: int = 2
    lateral_activate: tuple[int, ...] = (1, 1, 1, 1)
    frozen_stages: int = -1
    norm_eval: bool = False
    with_cp: bool = False
    zero_init_residual: bool = True
    non_local: tuple[int | tuple[int, ...], ...] = (0, 0, 0, 0)
    """Per stage 0/1, or per stage one 0/1 per block: blocks that end with a non-local block."""
    non_local_cfg: NonLocalCfg = NonLocalCfg()
    """The non-local blocks' ``sub_sample``, ``use_scale``, ``norm_cfg``, ``mode``, ``reduction``."""
    pretrained: str | None = None
    """A 2D ImageNet ResNet of this depth (torchvision naming) inflated into the pathway, as
    MMAction2's pathway ``pretrained`` with ``pretrained2d = True`` (the ImageNet-pretrained
    SlowOnly/SlowFast recipes); nothing is downloaded."""


@attrs.frozen
class SlowPathway(_Pathway):
    """The slow pathway, with MMAction2's defaults: ResNet-50, 1x7x7 stem, temporal kernels only
    in stages 3 and 4 (``inflate``), lateral connections from the fast pathway (5x1x1 fusion)."""

    base_channels: int = 64
    conv1_kernel: tuple[int, int, int] = (1, 7, 7)
    inflate: tuple[int, ...] = (0, 0, 1, 1)
    lateral: bool = True


@attrs.frozen
class FastPathway(_Pathway):
    """The fast pathway (MMAction2's ``fast_pathway`` dict): ResNet-50 with 8 base channels
    (1/``channel_ratio`` of the slow one), a 5x7x7 stem, temporal kernels everywhere."""

    base_channels: int = 8
    conv1_kernel: tuple[int, int, int] = (5, 7, 7)
    inflate: tuple[int, ...] = (1, 1, 1, 1)
    lateral: bool = False


class ResNet3dSlowFast(PretrainedMixin):
    """SlowFast backbone (Feichtenhofer et al., "SlowFast Networks for Video Recognition", 2019).

    :param resample_rate: tau: the slow pathway takes one of every ``resample_rate`` input
        frames (on top of the sampler's ``frame_interval``).
    :param speed_ratio: alpha: the fast pathway runs ``speed_ratio`` times more frames.
    :param channel_ratio: beta inverse: the fast pathway is this many times thinner; sizes the
        lateral connections.
    :param slow_pathway: the slow pathway's parameters (:class:`SlowPathway`); a partial table
        keeps the slow defaults for the keys it leaves out.
    :param fast_pathway: the fast pathway's parameters (:class:`FastPathway`).
    :param pretrained: a local state dict of this backbone (an MMAction2 SlowFast checkpoint,
        whole or backbone only), loaded once the model is built, after the pathways' own
        ``pretrained``; nothing is downloaded. 2D ImageNet weights go to the pathways.
    """

    def __init__(self, *, resample_rate: int = 8, speed_ratio: int = 8, channel_ratio: int = 8,
                 slow_pathway: SlowPathway = SlowPathway(),  # noqa: B008 (frozen)
                 fast_pathway: FastPathway = FastPathway(),  # noqa: B008 (frozen)
                 pretrained: str | None = None):
        super().__init__()
        if resample_rate < 1 or speed_ratio < 1 or resample_rate % speed_ratio:
            raise ValueError(f"slowfast resample_rate ({resample_rate}) must be a positive "
                             f"multiple of speed_ratio ({speed_ratio})")
        self.resample_rate = resample_rate
        self.speed_ratio = speed_ratio
        self.channel_ratio = channel_ratio
        slow = attrs.asdict(slow_pathway, recurse=False)
        if slow["lateral"]:
            slow.update(speed_ratio=speed_ratio, channel_ratio=channel_ratio)
        self.slow_path = ResNet3dPathway(**slow)
        self.fast_path = ResNet3dPathway(**attrs.asdict(fast_pathway, recurse=False))
        if len(self.slow_path.res_layers) != len(self.fast_path.res_layers):
            raise ValueError("slowfast pathways need the same num_stages")
        self.out_channels = (self.slow_path.out_channels, self.fast_path.out_channels)
        self.pretrained = pretrained

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        slow = nn.functional.interpolate(x, mode="nearest",
                                         scale_factor=(1.0 / self.resample_rate, 1.0, 1.0))
        slow = self.slow_path.maxpool(self.slow_path.conv1(slow))
        fast = nn.functional.interpolate(
            x, mode="nearest",
            scale_factor=(1.0 / (self.resample_rate // self.speed_ratio), 1.0, 1.0))
        fast = self.fast_path.maxpool(self.fast_path.conv1(fast))
        if self.slow_path.lateral and hasattr(self.slow_path, "conv1_lateral"):
            slow = torch.cat((slow, self.slow_path.conv1_lateral(fast)), dim=1)
        for name in self.slow_path.res_layers:
            slow = getattr(self.slow_path, name)(slow)
            fast = getattr(self.fast_path, name)(fast)
            lateral = f"{name}_lateral"
            if lateral in self.slow_path.lateral_connections:
                slow = torch.cat((slow, getattr(self.slow_path, lateral)(fast)), dim=1)
        return slow, fast
