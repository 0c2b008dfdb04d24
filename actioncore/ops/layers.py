"""Building blocks shared by model plugins: MMAction2's ``ConvModule``, its norm config, initialisers.

Module names are mmcv's (``conv``, ``bn``, ``activate``) so that state-dict keys match
MMAction2 checkpoints: ``layer1.0.conv1.conv.weight``, ``layer1.0.conv1.bn.running_mean``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs
import torch
from torch import nn

from .conv import Conv3d


@attrs.frozen
class NormCfg:
    """MMAction2's ``norm_cfg``: BatchNorm over ``[N, C, T, H, W]``.

    ``SyncBN`` builds a plain ``BatchNorm3d``; convert the model with
    ``torch.nn.SyncBatchNorm.convert_sync_batchnorm`` for synchronised statistics (the
    state dicts are the same). ``requires_grad = false`` freezes every norm's affine parameters.
    """

    type: Literal["BN3d", "BN", "SyncBN"] = "BN3d"
    eps: float = 1e-5
    momentum: float = 0.1
    requires_grad: bool = True

    def build(self, channels: int) -> nn.BatchNorm3d:
        norm = nn.BatchNorm3d(channels, eps=self.eps, momentum=self.momentum)
        for param in norm.parameters():
            param.requires_grad_(self.requires_grad)
        return norm


ConvFactory = Callable[..., nn.Module]


def conv3d(in_channels: int, out_channels: int, kernel_size, *, stride=1, padding=0,
           dilation=1, groups: int = 1, bias: bool = False) -> nn.Module:
    """A plain 3D convolution (``actioncore.ops.Conv3d``: ``nn.Conv3d``, faster on CPU)."""
    return Conv3d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias)


class ConvModule(nn.Module):
    """Convolution, optional BatchNorm, optional ReLU: ``conv``, ``bn``, ``activate``.

    The convolution is built by ``conv_layer`` (a ``Conv3d`` by default, ``Conv2plus1d`` in
    R(2+1)D); its bias is on only without a norm, as mmcv's ``bias='auto'``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, *, stride=1, padding=0,
                 dilation=1, groups: int = 1, norm_cfg: NormCfg | None = NormCfg(),
                 act: bool = True, bias: bool | None = None,
                 conv_layer: ConvFactory = conv3d):
        super().__init__()
        bias = norm_cfg is None if bias is None else bias
        self.conv = conv_layer(in_channels, out_channels, kernel_size, stride=stride,
                               padding=padding, dilation=dilation, groups=groups, bias=bias)
        self.bn = norm_cfg.build(out_channels) if norm_cfg is not None else None
        self.activate = nn.ReLU(inplace=True) if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.activate is not None:
            x = self.activate(x)
        return x


def kaiming_init(module: nn.Module) -> None:
    """mmengine's ``kaiming_init``: normal, fan-out, ReLU gain; bias 0."""
    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


def constant_init(module: nn.Module, value: float) -> None:
    nn.init.constant_(module.weight, value)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)


class NormEvalMixin(nn.Module):
    """``norm_eval``: every BatchNorm stays in eval mode while the model trains.

    Fine-tuning with small batches keeps the pretrained statistics this way (MMAction2's
    ``norm_eval``). The subclass sets ``self.norm_eval`` in its constructor; list the mixin
    before (or instead of) ``nn.Module`` among the bases. ``train(False)`` is ``nn.Module``'s.
    """

    norm_eval: bool = False

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self


class FrozenStagesMixin(NormEvalMixin):
    """``frozen_stages`` and ``norm_eval`` of a staged backbone, as MMAction2's backbones do them.

    With ``frozen_stages = k >= 0`` the stem (:meth:`stem_modules`) and stages 1..k
    (:meth:`stage_modules`) get ``requires_grad = False`` and stay in eval mode (BatchNorm
    statistics fixed) whatever ``train()`` is called with; -1 freezes nothing. With
    ``norm_eval`` every BatchNorm is in eval mode while training (:class:`NormEvalMixin`).

    Contract for the subclass (an ``nn.Module``; list the mixin first among its bases):

    * its constructor sets ``self.frozen_stages`` and ``self.norm_eval``;
    * :meth:`stem_modules` returns the stem, ``[self.conv1]`` unless overridden;
    * :meth:`stage_modules` returns stage ``i``'s modules (1-based), ``[self.layer{i}]`` unless
      overridden (a SlowFast pathway adds the stage's lateral connection);
    * once built, the constructor calls :meth:`freeze_stages` (gradients off, so that an optimizer
      built next sees it) or ``self.train()`` (gradients off and the frozen modules in eval mode
      at once).

    ``train(mode)`` runs ``nn.Module.train`` and ``norm_eval``, then :meth:`freeze_stages` again
    (in case a caller turned gradients back on) and puts the frozen modules in eval mode.
    """

    frozen_stages: int = -1

    def stem_modules(self) -> list[nn.Module]:
        return [self.conv1]

    def stage_modules(self, index: int) -> list[nn.Module]:
        return [getattr(self, f"layer{index}")]

    def frozen_modules(self) -> list[nn.Module]:
        """The stem and stages 1..``frozen_stages``; none with -1."""
        if self.frozen_stages < 0:
            return []
        modules = list(self.stem_modules())
        for index in range(1, self.frozen_stages + 1):
            modules += self.stage_modules(index)
        return modules

    def freeze_stages(self) -> None:
        """Turn off the gradients of every parameter of the frozen modules."""
        for module in self.frozen_modules():
            for param in module.parameters():
                param.requires_grad_(False)

    def train(self, mode: bool = True):
        super().train(mode)
        self.freeze_stages()
        for module in self.frozen_modules():
            module.eval()
        return self
