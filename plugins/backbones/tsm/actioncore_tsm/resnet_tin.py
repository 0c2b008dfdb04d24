"""ResNet-TIN: Temporal Interlacing Network (Shao et al., AAAI 2020) as MMAction2 1.2.0 builds it.

MMAction2 moves features along time with ``mmcv.ops.tin_shift``, a CUDA-only kernel; here the
same fractional shift with linear interpolation is a small per-clip interpolation matrix over
time, applied with ``einsum``: pure PyTorch, any device, differentiable in the offsets.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from actioncore_tsn import Depth, ResNet

from .resnet_tsm import resnet_args


def shift_groups(data: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Integer shift along time, per channel group: ``out[:, t] = data[:, t - s]``, zeros outside.

    ``data`` is ``[N, T, C, ...]``, ``shift`` ``[N, G]`` (integer valued) with ``C`` divisible by
    ``G``; group ``g`` holds channels ``[g * C / G, (g + 1) * C / G)``. This is what
    ``mmcv.ops.tin_shift`` computes (a positive shift moves features to later frames).
    """
    return linear_sampler(data, shift.to(data.dtype))


def linear_sampler(data: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Fractional shift along time per channel group, by linear interpolation.

    ``data`` ``[N, T, C, ...]``, ``offset`` ``[N, G]`` real. With ``o0 = floor(offset)``,
    ``w1 = offset - o0``: ``out[:, t] = (1 - w1) * data[:, t - o0] + w1 * data[:, t - o0 - 1]``,
    frames outside ``[0, T)`` read as zeros. Gradients flow to ``data`` and (through the
    weights) to ``offset``, as in MMAction2's ``linear_sampler``.
    """
    n, t, c = data.shape[:3]
    groups = offset.shape[1]
    if c % groups:
        raise ValueError(f"tin: {c} channels do not split into {groups} offset groups")
    o0 = torch.floor(offset)
    w1 = offset - o0
    frames = torch.arange(t, device=data.device, dtype=data.dtype)
    lag = (frames[:, None] - frames[None, :])[None, None]            # [1, 1, T_out, T_in]
    o0 = o0.detach()[:, :, None, None]
    # [N, G, T_out, T_in]: which input frames make each output frame, and with what weight
    mix = (1 - w1)[:, :, None, None] * (lag == o0) + w1[:, :, None, None] * (lag == o0 + 1)
    grouped = data.reshape(n, t, groups, c // groups, -1)
    out = torch.einsum("ngst,ntgcp->nsgcp", mix.to(data.dtype), grouped)
    return out.reshape(data.shape)


class OffsetNet(nn.Module):
    """Per-clip temporal offsets in (-2, 2) for ``groups`` channel groups (MMAction2's names)."""

    def __init__(self, in_channels: int, groups: int, num_segments: int):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, 1, 3, padding=1)
        self.fc1 = nn.Linear(num_segments, num_segments)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(num_segments, groups)
        with torch.no_grad():
            self.fc2.bias.fill_(0.5108)   # as MMAction2: start the sigmoid near 0.625, offset 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T]`` pooled descriptors -> offsets ``[N, groups]``."""
        x = self.conv(x).flatten(1)
        x = self.fc2(self.relu(self.fc1(x)))
        return 4 * (torch.sigmoid(x) - 0.5)


class WeightNet(nn.Module):
    """Per-frame, per-group scales in (0, 2), 1 at initialisation (MMAction2's names)."""

    def __init__(self, in_channels: int, groups: int):
        super().__init__()
        self.groups = groups
        self.conv = nn.Conv1d(in_channels, groups, 3, padding=1)
        with torch.no_grad():
            self.conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T]`` -> ``[N, T, groups]``."""
        return 2 * torch.sigmoid(self.conv(x).transpose(1, 2))


class TemporalInterlace(nn.Module):
    """TIN's interlace on the first ``C / shift_div`` channels of ``[N * T, C, H, W]`` frames.

    Those channels are split in four groups; learned offsets ``(d1, d2)`` (per clip) move groups
    0 and 1 by ``d1`` and ``d2`` frames and groups 2 and 3 by ``-d1`` and ``-d2`` (linear
    interpolation between frames); group ``g`` of each frame is then scaled by a learned weight
    ``w[g % 2]``. The other channels pass unchanged.
    """

    deform_groups = 2

    def __init__(self, in_channels: int, num_segments: int = 3, shift_div: int = 1):
        super().__init__()
        self.num_segments = num_segments
        self.shift_div = shift_div
        self.in_channels = in_channels
        self.offset_net = OffsetNet(in_channels // shift_div, self.deform_groups, num_segments)
        self.weight_net = WeightNet(in_channels // shift_div, self.deform_groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nt, c, h, w = x.shape
        t = self.num_segments
        folds = c // self.shift_div
        if nt % t:
            raise ValueError(f"tin: {nt} frames are not a multiple of num_segments = {t}")
        part = x[:, :folds].reshape(nt // t, t, folds, h, w)
        pooled = part.mean(dim=(3, 4)).transpose(1, 2)               # [B, folds, T]
        offset = self.offset_net(pooled)                             # [B, 2]
        weight = self.weight_net(pooled)                             # [B, T, 2]
        shifted = linear_sampler(part, torch.cat([offset, -offset], dim=1))
        # group g of the four is scaled by weight[..., g % 2]
        scale = weight.repeat(1, 1, 2).repeat_interleave(folds // 4, dim=2)   # [B, T, folds]
        shifted = shifted * scale[..., None, None]
        return torch.cat([shifted.reshape(nt, folds, h, w), x[:, folds:]], dim=1)


class CombineNet(nn.Module):
    """``net2(net1(x))``: the interlace, then the block's first convolution (MMAction2's names)."""

    wrapped = "net2"

    def __init__(self, net1: nn.Module, net2: nn.Module):
        super().__init__()
        self.net1 = net1
        self.net2 = net2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net2(self.net1(x))


class ResNetTIN(ResNet):
    """MMAction2's ``ResNetTIN``: a temporal interlace before the first convolution of every block.

    Every parameter of actioncore-tsn's ``resnet`` applies, plus:

    :param num_segments: frames per clip the backbone is fed.
    :param is_tin: insert the interlace modules; false gives a plain ResNet.
    :param shift_div: the interlace acts on the first ``C / shift_div`` channels of each
        block's input (MMAction2's TIN configs use 4); that count must divide by 4.

    Keys follow MMAction2 (``layer1.0.conv1.conv.net1.offset_net.fc1.weight``,
    ``layer1.0.conv1.conv.net2.weight``), so its checkpoints load unchanged.
    """

    def __init__(
        self, *, depth: Depth = 50, num_segments: int = 8, is_tin: bool = True,
        shift_div: int = 4, in_channels: int = 3, num_stages: int = 4,
        out_indices: tuple[int, ...] = (3,), strides: tuple[int, ...] = (1, 2, 2, 2),
        dilations: tuple[int, ...] = (1, 1, 1, 1), style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, norm_eval: bool = False, partial_bn: bool = False,
        with_cp: bool = False, pretrained: str | None = None,
    ):
        super().__init__(**resnet_args(locals()))
        if num_segments < 1 or shift_div < 1:
            raise ValueError(f"resnet_tin num_segments and shift_div must be positive, got "
                             f"{num_segments} and {shift_div}")
        self.num_segments = num_segments
        self.is_tin = is_tin
        self.shift_div = shift_div
        if is_tin:
            for name in self.stage_names:
                for block in getattr(self, name):
                    conv = block.conv1.conv
                    if (conv.in_channels // shift_div) % 4:
                        raise ValueError(f"resnet_tin: {conv.in_channels} channels / shift_div "
                                         f"{shift_div} must be a multiple of 4")
                    tin = TemporalInterlace(conv.in_channels, num_segments, shift_div)
                    block.conv1.conv = CombineNet(tin, conv)
        self.freeze_stages()
