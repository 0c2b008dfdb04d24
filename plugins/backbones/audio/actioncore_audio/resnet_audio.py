"""ResNetAudio: the AudioOnly pathway of AVSlowFast (Xiao et al., 2020), as MMAction2 1.2.0 builds it.

Input: log-mel spectrogram clips ``[N, 1, T, F]`` (``format_audio_shape``); output ``[N, 1024, T/8, F/8]``
for depth 50. The stem is a factorized 9x9 convolution (9x1 over time plus 1x9 over frequency,
summed, each with its own BatchNorm and ReLU) and no pooling; bottlenecks of stages with
``factorize`` 1 replace their 3x3 by the two factorized convolutions concatenated (twice the
channels into ``conv3``). Module names are MMAction2's (``conv1.conv.conv_1.conv.weight``, ...)
so its checkpoints load key for key.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs
import torch
import torch.utils.checkpoint as cp
from torch import nn

from actioncore.sdk.layers import ConvModule, FrozenStagesMixin, constant_init, kaiming_init
from actioncore.sdk.weights import PretrainedMixin

STAGE_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
EXPANSION = 4


@attrs.frozen
class Norm2d:
    """``norm_cfg = dict(type='BN2d')``: a BatchNorm over ``[N, C, T, F]`` for :class:`ConvModule`."""

    requires_grad: bool = True

    def build(self, channels: int) -> nn.BatchNorm2d:
        norm = nn.BatchNorm2d(channels)
        for param in norm.parameters():
            param.requires_grad_(self.requires_grad)
        return norm


def conv2d(in_channels: int, out_channels: int, kernel_size, *, stride=1, padding=0, dilation=1,
           groups: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias)


class ConvAudio(nn.Module):
    """MMAction2's ``ConvAudio``: a ``k x 1`` and a ``1 x k`` convolution (each conv-BN-ReLU) of the
    same input, summed (``op = "sum"``) or concatenated on channels (``"concat"``).

    As in MMAction2, ``dilation`` is not applied and the padding is ``k // 2`` on the kernel's axis.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *,
                 op: Literal["sum", "concat"] = "concat", stride: int = 1):
        super().__init__()
        if op not in ("sum", "concat"):
            raise ValueError(f"ConvAudio op must be 'sum' or 'concat', got {op!r}")
        self.op = op
        self.conv_1 = ConvModule(in_channels, out_channels, (kernel_size, 1), stride=stride,
                                 padding=(kernel_size // 2, 0), norm_cfg=Norm2d(), bias=False, conv_layer=conv2d)
        self.conv_2 = ConvModule(in_channels, out_channels, (1, kernel_size), stride=stride,
                                 padding=(0, kernel_size // 2), norm_cfg=Norm2d(), bias=False, conv_layer=conv2d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.conv_1(x), self.conv_2(x)
        return a + b if self.op == "sum" else torch.cat([a, b], dim=1)


class ConvAudioModule(nn.Module):
    """mmcv's ``ConvModule`` around a :class:`ConvAudio`: ``conv`` (the ConvAudio), then ``bn`` and ``activate``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, op: Literal["sum", "concat"],
                 stride: int = 1, norm: bool, act: bool):
        super().__init__()
        self.conv = ConvAudio(in_channels, out_channels, kernel_size, op=op, stride=stride)
        width = out_channels * (2 if op == "concat" else 1)
        self.bn = Norm2d().build(width) if norm else None
        self.activate = nn.ReLU(inplace=True) if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.activate(x) if self.activate is not None else x


class Bottleneck2dAudio(nn.Module):
    """MMAction2's ``Bottleneck2dAudio``: 1x1 (BN, ReLU), 3x3 or factorized 3x3 (no norm, no
    activation), 1x1 to ``4 * planes`` (BN), residual, ReLU; the stride is in the middle convolution."""

    def __init__(self, in_channels: int, planes: int, *, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, factorize: bool = True, with_cp: bool = False):
        super().__init__()
        self.with_cp = with_cp
        self.conv1 = ConvModule(in_channels, planes, 1, dilation=dilation, norm_cfg=Norm2d(), bias=False,
                                conv_layer=conv2d)
        if factorize:
            self.conv2 = ConvAudioModule(planes, planes, 3, op="concat", stride=stride, norm=False, act=False)
        else:
            self.conv2 = ConvModule(planes, planes, 3, stride=stride, padding=dilation, dilation=dilation,
                                    norm_cfg=None, act=False, bias=False, conv_layer=conv2d)
        self.conv3 = ConvModule(2 * planes if factorize else planes, planes * EXPANSION, 1, norm_cfg=Norm2d(),
                                act=False, bias=False, conv_layer=conv2d)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def body(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3(self.conv2(self.conv1(x)))
        return out + (self.downsample(x) if self.downsample is not None else x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = cp.checkpoint(self.body, x, use_reentrant=False) if self.with_cp and x.requires_grad else self.body(x)
        return self.relu(out)


class ResNetAudio(FrozenStagesMixin, PretrainedMixin):
    """MMAction2's ``ResNetAudio`` (depth 50, 101 or 152).

    :param depth: 50, 101 or 152 (bottleneck blocks; MMAction2 has no basic-block variant).
    :param in_channels: channels of the input spectrogram (1).
    :param base_channels: stem width; stage i has ``base_channels * 2**i`` planes.
    :param num_stages: residual stages built (1-4).
    :param strides: stride of each stage's first block (both axes).
    :param dilations: dilation of each stage's unfactorized 3x3 convolutions.
    :param conv1_kernel: the stem's factorized kernel length (9).
    :param conv1_stride: the stem's stride.
    :param factorize: per stage, 1 for factorized 3x3 convolutions in its blocks.
    :param frozen_stages: the stem (0) and stages 1..k get no gradient; -1 freezes nothing.
    :param norm_eval: every BatchNorm in eval mode while training.
    :param with_cp: recompute block activations in the backward pass.
    :param zero_init_residual: each block's last BatchNorm starts at 0 (MMAction2's default).
    :param pretrained: a state dict file of this backbone, loaded once the model is built.
    """

    def __init__(self, *, depth: int = 50, in_channels: int = 1, base_channels: int = 32, num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2), dilations: Sequence[int] = (1, 1, 1, 1),
                 conv1_kernel: int = 9, conv1_stride: int = 1, factorize: Sequence[int] | int = (1, 1, 0, 0),
                 frozen_stages: int = -1, norm_eval: bool = False, with_cp: bool = False,
                 zero_init_residual: bool = True, pretrained: str | None = None):
        super().__init__()
        if depth not in STAGE_BLOCKS:
            raise ValueError(f"ResNetAudio depth must be one of {sorted(STAGE_BLOCKS)}, got {depth}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"ResNetAudio num_stages must be in 1..4, got {num_stages}")
        factorize = (factorize,) * num_stages if isinstance(factorize, int) else tuple(factorize)
        if len(factorize) < num_stages or len(strides) < num_stages or len(dilations) < num_stages:
            raise ValueError(f"ResNetAudio needs factorize, strides and dilations for each of {num_stages} stages")
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv1 = ConvAudioModule(in_channels, base_channels, conv1_kernel, op="sum", stride=conv1_stride,
                                     norm=True, act=True)
        channels = base_channels
        self.stage_names: list[str] = []
        for i, blocks in enumerate(STAGE_BLOCKS[depth][:num_stages]):
            planes = base_channels * 2 ** i
            out = planes * EXPANSION
            downsample = None
            if strides[i] != 1 or channels != out:
                downsample = ConvModule(channels, out, 1, stride=strides[i], norm_cfg=Norm2d(), act=False,
                                        bias=False, conv_layer=conv2d)
            layers = [Bottleneck2dAudio(channels if b == 0 else out, planes, stride=strides[i] if b == 0 else 1,
                                        dilation=dilations[i], downsample=downsample if b == 0 else None,
                                        factorize=factorize[i] == 1, with_cp=with_cp) for b in range(blocks)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
            self.stage_names.append(f"layer{i + 1}")
            channels = out
        self.out_channels = channels
        self._init_weights(zero_init_residual)
        self.pretrained = pretrained
        self.freeze_stages()

    def _init_weights(self, zero_init_residual: bool) -> None:
        """mmengine's ``kaiming_init`` (fan-out) for convolutions, BatchNorms 1 and 0; the last
        BatchNorm of every block 0 with ``zero_init_residual``, as MMAction2's ``init_weights``."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                constant_init(m, 1)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck2dAudio):
                    constant_init(m.conv3.bn, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return x
