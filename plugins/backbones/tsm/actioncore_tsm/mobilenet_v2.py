"""MMAction2's MobileNetV2 (mmcls's layout) and MobileNetV2-TSM, module for module.

Module names are MMAction2's (``conv1.conv.weight``, ``layer2.0.conv.0.net.conv.weight`` for a
shifted expansion, ``conv2.bn.running_var``), so its TSM checkpoints convert unchanged and an
mmcls ``mobilenet_v2`` ImageNet checkpoint loads as ``pretrained``.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.utils import checkpoint

from actioncore.sdk.layers import Conv2d, FrozenStagesMixin, constant_init, kaiming_init
from actioncore.sdk.weights import PretrainedMixin, backbone_weights

from .shift import TemporalShift

ARCH_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                 (6, 320, 1, 1))
"""Per stage: expand ratio, output channels, blocks, stride of the first block."""


def make_divisible(value: float, divisor: int, min_value: int | None = None, min_ratio: float = 0.9) -> int:
    """``value`` rounded to a multiple of ``divisor``, never below ``min_ratio`` of it (mmcls's rule)."""
    min_value = divisor if min_value is None else min_value
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return new_value + divisor if new_value < min_ratio * value else new_value


class ConvBNReLU6(nn.Sequential):
    """Bias-free 2D convolution, BatchNorm and optionally ReLU6: mmcv's ``ConvModule`` names."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 groups: int = 1, act: bool = True):
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
            bn=nn.BatchNorm2d(out_channels))
        if act:
            layers["activate"] = nn.ReLU6(inplace=True)
        super().__init__(layers)


class InvertedResidual(nn.Module):
    """1x1 expansion (absent for ratio 1), 3x3 depthwise, 1x1 linear projection; a shortcut when
    the block keeps stride 1 and width."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int, expand_ratio: int,
                 with_cp: bool = False):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_res_connect = stride == 1 and in_channels == out_channels
        self.with_cp = with_cp
        layers = [ConvBNReLU6(in_channels, hidden, 1)] if expand_ratio != 1 else []
        layers += [ConvBNReLU6(hidden, hidden, 3, stride=stride, groups=hidden),
                   ConvBNReLU6(hidden, out_channels, 1, act=False)]
        self.conv = nn.Sequential(*layers)

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return checkpoint.checkpoint(self._inner, x, use_reentrant=False)
        return self._inner(x)


class MobileNetV2(FrozenStagesMixin, PretrainedMixin):
    """The ``mobilenet_v2`` backbone (MMAction2's ``MobileNetV2``): frames ``[N, 3, H, W]`` ->
    ``[N, 1280, H/32, W/32]``.

    :param widen_factor: width multiplier of every layer (the last one widens only above 1).
    :param out_indices: stages returned (0-6: ``layer1``-``layer7``, 7: ``conv2``); several give a tuple.
    :param frozen_stages: ``conv1`` and the first ``frozen_stages`` stages frozen; -1 none.
    :param norm_eval: BatchNorms in eval mode while training.
    :param with_cp: recompute each block's activations in the backward pass (saves memory).
    :param pretrained: a local mmcls ``mobilenet_v2`` ImageNet checkpoint (``backbone.*`` keys)
        or a state dict of this backbone, loaded once the model is built; nothing is downloaded.
    """

    def __init__(self, *, widen_factor: float = 1.0, out_indices: tuple[int, ...] = (7,), frozen_stages: int = -1,
                 norm_eval: bool = False, with_cp: bool = False, pretrained: str | None = None):
        super().__init__()
        if not out_indices or any(i not in range(8) for i in out_indices):
            raise ValueError(f"mobilenet_v2 out_indices must be in 0..7, got {out_indices}")
        if frozen_stages not in range(-1, 9):
            raise ValueError(f"mobilenet_v2 frozen_stages must be in -1..8, got {frozen_stages}")
        self.widen_factor = widen_factor
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.pretrained = pretrained
        channels = make_divisible(32 * widen_factor, 8)
        self.conv1 = ConvBNReLU6(3, channels, 3, stride=2)
        self.layers: list[str] = []
        for i, (expand, width, blocks, stride) in enumerate(ARCH_SETTINGS):
            out = make_divisible(width * widen_factor, 8)
            stage = []
            for b in range(blocks):
                stage.append(InvertedResidual(channels, out, stride=stride if b == 0 else 1, expand_ratio=expand,
                                              with_cp=with_cp))
                channels = out
            self.add_module(f"layer{i + 1}", nn.Sequential(*stage))
            self.layers.append(f"layer{i + 1}")
        self.out_channels = int(1280 * widen_factor) if widen_factor > 1.0 else 1280
        self.conv2 = ConvBNReLU6(channels, self.out_channels, 1)
        self.layers.append("conv2")
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                constant_init(m, 1)
        self.freeze_stages()

    def stage_modules(self, index: int) -> list[nn.Module]:
        return [getattr(self, self.layers[index - 1])]

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """An mmcls checkpoint's (or a recognizer's) ``backbone.*`` tensors, or a bare state dict,
        under this module's names: a layer that TSM wraps in a shift is found under its plain
        name (MMAction2's ``load_original_weights``)."""
        state = backbone_weights(state)
        return {key: state.get(key, state.get(key.replace(".net.", "."))) for key in self.state_dict()
                if key in state or key.replace(".net.", ".") in state}

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)


class MobileNetV2TSM(MobileNetV2):
    """The ``mobilenet_v2_tsm`` backbone (MMAction2's ``MobileNetV2TSM``): MobileNetV2 whose
    residual blocks with an expansion shift time before it; frames ``[N * T, 3, H, W]`` with
    ``T = num_segments`` per clip. Every parameter of ``mobilenet_v2`` applies, plus:

    :param num_segments: frames per clip (the sampler's ``num_clips``).
    :param is_shift: insert the shifts; false gives plain MobileNetV2 (TSN).
    :param shift_div: a ``1 / shift_div`` fold of channels moves each way.
    """

    def __init__(self, *, num_segments: int = 8, is_shift: bool = True, shift_div: int = 8,
                 widen_factor: float = 1.0, out_indices: tuple[int, ...] = (7,), frozen_stages: int = -1,
                 norm_eval: bool = False, with_cp: bool = False, pretrained: str | None = None):
        super().__init__(widen_factor=widen_factor, out_indices=out_indices, frozen_stages=frozen_stages,
                         norm_eval=norm_eval, with_cp=with_cp, pretrained=pretrained)
        if num_segments < 1 or shift_div < 1:
            raise ValueError(f"mobilenet_v2_tsm num_segments and shift_div must be positive, got "
                             f"{num_segments} and {shift_div}")
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.shift_div = shift_div
        if is_shift:
            for m in self.modules():
                if isinstance(m, InvertedResidual) and len(m.conv) == 3 and m.use_res_connect:
                    m.conv[0] = TemporalShift(m.conv[0], num_segments, shift_div)
