"""The 2D ResNet that MMAction2 1.2.0 uses under TSN, TSM and other frame-level recognizers.

Module and parameter names follow MMAction2 (every convolution sits with its BatchNorm in a
``conv``/``bn`` pair, e.g. ``layer1.0.conv2.bn.weight``), so an MMAction2 backbone state dict
loads with identical keys; torchvision ImageNet weights are renamed on load (:mod:`.weights`).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn
from torch.utils import checkpoint

from actioncore.sdk.layers import Conv2d, FrozenStagesMixin
from actioncore.sdk.weights import PretrainedMixin

from .weights import init_resnet, resnet_weights

Depth = Literal[18, 34, 50, 101, 152]

STAGE_BLOCKS: dict[int, tuple[int, ...]] = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
}
"""Residual blocks per stage; depths 18 and 34 use basic blocks, the deeper ones bottlenecks."""


class ConvBN(nn.Sequential):
    """Bias-free convolution, BatchNorm and optionally ReLU, named ``conv``, ``bn``, ``relu``.

    The names are those of MMAction2's ``ConvModule`` so that state-dict keys match its
    checkpoints (the ReLU has no parameters, so its name does not matter for loading).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 padding: int = 0, dilation: int = 1, relu: bool = True):
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv=Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                           bias=False),
            bn=nn.BatchNorm2d(out_channels),
        )
        if relu:
            layers["relu"] = nn.ReLU(inplace=True)
        super().__init__(layers)


class _Residual(nn.Module):
    """A residual block: ``relu(body(x) + shortcut(x))``, the body optionally recomputed.

    With ``with_cp`` the body's activations are not stored but recomputed in the backward
    pass, trading compute for memory (MMAction2's ``with_cp``).
    """

    expansion = 1
    downsample: nn.Module | None
    with_cp: bool

    def body(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.body(x) + shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and torch.is_grad_enabled():
            out = checkpoint.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class BasicBlock(_Residual):
    """Two 3x3 convolutions (ResNet-18/34); the first one strides and dilates."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, *, stride: int = 1, dilation: int = 1,
                 style: Literal["pytorch", "caffe"] = "pytorch",
                 downsample: nn.Module | None = None, with_cp: bool = False):
        super().__init__()
        self.conv1 = ConvBN(in_channels, planes, 3, stride=stride, padding=dilation,
                            dilation=dilation)
        self.conv2 = ConvBN(planes, planes, 3, padding=1, relu=False)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class Bottleneck(_Residual):
    """1x1 reduce, 3x3, 1x1 expand by 4 (ResNet-50/101/152).

    ``style`` says which convolution strides: the 3x3 (``pytorch``, torchvision's ResNet v1.5)
    or the first 1x1 (``caffe``, the original ResNet).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, *, stride: int = 1, dilation: int = 1,
                 style: Literal["pytorch", "caffe"] = "pytorch",
                 downsample: nn.Module | None = None, with_cp: bool = False):
        super().__init__()
        stride1, stride2 = (1, stride) if style == "pytorch" else (stride, 1)
        self.conv1 = ConvBN(in_channels, planes, 1, stride=stride1)
        self.conv2 = ConvBN(planes, planes, 3, stride=stride2, padding=dilation, dilation=dilation)
        self.conv3 = ConvBN(planes, planes * self.expansion, 1, relu=False)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def body(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))


def create_res_stage(
    *, block: type[BasicBlock] | type[Bottleneck], in_channels: int, planes: int,
    num_blocks: int, stride: int = 1, dilation: int = 1,
    style: Literal["pytorch", "caffe"] = "pytorch", with_cp: bool = False,
) -> nn.Sequential:
    """One stage: ``num_blocks`` blocks, the first striding and projecting the shortcut if needed."""
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = ConvBN(in_channels, out_channels, 1, stride=stride, relu=False)
    blocks = [block(in_channels, planes, stride=stride, dilation=dilation, style=style,
                    downsample=downsample, with_cp=with_cp)]
    blocks += [block(out_channels, planes, dilation=dilation, style=style, with_cp=with_cp)
               for _ in range(1, num_blocks)]
    return nn.Sequential(*blocks)


class ResNet(FrozenStagesMixin, PretrainedMixin):
    """MMAction2's 2D ResNet: frames ``[N, C, H, W]`` to features ``[N, 2048, H/32, W/32]``.

    The shape is depth 50's (512 channels for depths 18 and 34) with the default strides.

    :param depth: 18, 34 (basic blocks) or 50, 101, 152 (bottlenecks).
    :param in_channels: input channels (3 for RGB; 10 for 5 stacked flow frames).
    :param num_stages: how many of the four residual stages to build.
    :param out_indices: stages whose output is returned; several give a tuple, stage order.
    :param strides: spatial stride of each stage's first block.
    :param dilations: dilation of each stage's 3x3 convolutions.
    :param style: ``pytorch`` strides in the 3x3 of a bottleneck, ``caffe`` in its first 1x1.
    :param frozen_stages: the stem (0) and stages 1..k get no gradient and keep their
        BatchNorm statistics; -1 freezes nothing.
    :param norm_eval: keep every BatchNorm in eval mode while training (fine-tuning with
        small batches).
    :param partial_bn: TSN's partial BN: every BatchNorm but the first is frozen (statistics
        and affine parameters).
    :param with_cp: recompute each block's activations in the backward pass to save memory.
    :param pretrained: a local torchvision ImageNet ResNet state dict (``.pth``) of the same
        depth, or a backbone state dict in this module's own naming (an MMAction2 ResNet's),
        loaded once the model is built (:meth:`filter_pretrained`); nothing is ever downloaded.
        Without it, convolutions get Kaiming-normal (fan-out) weights and BatchNorms weight 1 and
        bias 0, as in MMAction2.
    """

    def __init__(
        self, *, depth: Depth = 50, in_channels: int = 3, num_stages: int = 4,
        out_indices: tuple[int, ...] = (3,), strides: tuple[int, ...] = (1, 2, 2, 2),
        dilations: tuple[int, ...] = (1, 1, 1, 1), style: Literal["pytorch", "caffe"] = "pytorch",
        frozen_stages: int = -1, norm_eval: bool = False, partial_bn: bool = False,
        with_cp: bool = False, pretrained: str | None = None,
    ):
        super().__init__()
        _check_arguments(depth, num_stages, out_indices, strides, dilations, style, frozen_stages)
        self.depth = depth
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        block = BasicBlock if depth < 50 else Bottleneck

        self.conv1 = ConvBN(in_channels, 64, 7, stride=2, padding=3)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = 64
        self.stage_names: list[str] = []
        for i, num_blocks in enumerate(STAGE_BLOCKS[depth][:num_stages]):
            planes = 64 * 2 ** i
            stage = create_res_stage(block=block, in_channels=channels, planes=planes,
                                     num_blocks=num_blocks, stride=strides[i],
                                     dilation=dilations[i], style=style, with_cp=with_cp)
            self.add_module(f"layer{i + 1}", stage)
            self.stage_names.append(f"layer{i + 1}")
            channels = planes * block.expansion
        self.out_channels = channels

        init_resnet(self)
        self.pretrained = pretrained
        self.freeze_stages()

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.maxpool(self.conv1(x))
        outs = []
        for i, name in enumerate(self.stage_names):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The ``pretrained`` file (torchvision or our naming) as this module's state dict: the
        ResNet's tensors from the file, modules that subclasses add at their initialisation."""
        return resnet_weights(self, state, self.resnet_keys())

    def resnet_keys(self) -> dict[str, str]:
        """Our state-dict keys that hold the plain ResNet's tensors, by their plain-ResNet names.

        The two differ where a subclass wraps part of the ResNet (TSM's shift around a
        convolution, TANet's block around a bottleneck): a wrapper names the module it wraps in a
        ``wrapped`` class attribute, and its key segment is dropped; its other children are
        modules it adds, as are modules added to a ``conv``/``bn`` pair (CMR's motion
        enhancement), and are left out.
        """
        keys: dict[str, str] = {}

        def walk(module: nn.Module, key: str, plain: str, in_pair: bool) -> None:
            wrapped = getattr(module, "wrapped", None)
            if wrapped is not None:
                walk(getattr(module, wrapped), f"{key}{wrapped}.", plain, in_pair)
            elif in_pair:
                keys.update({plain + name: key + name for name in module.state_dict()})
            else:
                for name, child in module.named_children():
                    pair = isinstance(module, ConvBN)
                    if not pair or name in ("conv", "bn"):
                        walk(child, f"{key}{name}.", f"{plain}{name}.", pair)

        walk(self, "", "", False)
        return keys

    def _partial_bn_norms(self) -> list[nn.BatchNorm2d]:
        if not self.partial_bn:
            return []
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)][1:]

    def freeze_stages(self) -> None:
        """Turn off gradients of frozen stages and partial-BN norms.

        Done at construction (so an optimizer built right after sees it) and again in
        :meth:`train`, as MMAction2 does, in case a caller switched them back on. Subclasses
        that add modules to frozen stages call it again once they have.
        """
        super().freeze_stages()
        for norm in self._partial_bn_norms():
            norm.weight.requires_grad_(False)
            norm.bias.requires_grad_(False)

    def train(self, mode: bool = True) -> ResNet:
        """Switch modes, keeping frozen stages and norm_eval/partial_bn norms in eval mode."""
        super().train(mode)
        if mode:
            for norm in self._partial_bn_norms():
                norm.eval()
        return self


def _check_arguments(depth: int, num_stages: int, out_indices: Sequence[int],
                     strides: Sequence[int], dilations: Sequence[int], style: str,
                     frozen_stages: int) -> None:
    if depth not in STAGE_BLOCKS:
        raise ValueError(f"resnet depth must be one of {sorted(STAGE_BLOCKS)}, got {depth}")
    if not 1 <= num_stages <= 4:
        raise ValueError(f"resnet num_stages must be 1 to 4, got {num_stages}")
    if len(strides) != num_stages or len(dilations) != num_stages:
        raise ValueError(f"resnet strides {tuple(strides)} and dilations {tuple(dilations)} need "
                         f"one value per stage (num_stages = {num_stages})")
    if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
        raise ValueError(f"resnet out_indices {tuple(out_indices)}: each must be a stage index "
                         f"0 to {num_stages - 1}")
    if style not in ("pytorch", "caffe"):
        raise ValueError(f"resnet style must be 'pytorch' or 'caffe', got {style!r}")
    if not -1 <= frozen_stages <= num_stages:
        raise ValueError(f"resnet frozen_stages must be -1 to num_stages ({num_stages}), "
                         f"got {frozen_stages}")
