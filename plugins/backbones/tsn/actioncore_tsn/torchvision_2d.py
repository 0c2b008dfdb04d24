"""Any torchvision image classifier as a TSN backbone, as MMAction2's ``torchvision.<arch>`` type.

MMAction2 (0.24 and 1.2.0) builds ``type = 'torchvision.<arch>'`` with torchvision's own builder,
replaces the model's ``classifier`` and ``fc`` with identities, and extracts features with
``model.features`` where the model has one (MobileNet, EfficientNet, DenseNet, VGG, ...) and with
the whole model otherwise (ResNet, ResNeXt, RegNet, ...: their global average pool comes before
``fc``); the features are then averaged globally to ``[N, C, 1, 1]`` for the TSN head. This module
does exactly that, so parameter counts and checkpoint keys are MMAction2's (under ``net.``).

MMAction2 0.24's ``timm.<arch>`` and ``mmcls.<Name>`` backbones map onto the torchvision
architecture of the same network (``timm.resnet50`` -> ``resnet50``, ``mmcls.ResNeXt`` depth 50 ->
``resnext50_32x4d``) where torchvision has it; the ImageNet weights file must then be
torchvision's (its state-dict layout).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import torch
import torchvision
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore.sdk.weights import PretrainedMixin

FeatureShape = Literal["NCHW", "NHWC", "NLC"]
CLASSIFIERS = ("classifier", "fc")
"""The attributes MMAction2 replaces with identities (absent ones are added as identities too)."""


def classification_models() -> list[str]:
    """torchvision's image classification architectures (``torchvision.models.list_models``)."""
    return torchvision.models.list_models(module=torchvision.models)


def _feature_channels(removed: list[nn.Module]) -> int | None:
    """The input width of the first linear layer of the removed classifier: the features' channels."""
    for module in removed:
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                return layer.in_features
    return None


class Torchvision2D(PretrainedMixin):
    """The ``torchvision_2d`` backbone: torchvision's ``arch`` without its classifier, frames
    ``[N, 3, H, W]`` -> features ``[N, C, 1, 1]`` (use the ``tsn`` head, ``in_channels = C``,
    :attr:`out_channels`).

    :param arch: a torchvision classification model name (``resnet50``, ``resnext50_32x4d``,
        ``mobilenet_v2``, ``mobilenet_v3_large``, ``efficientnet_b0``, ``densenet161``, ...).
    :param feature_shape: the layout of ``features``' output, as MMAction2's ``feature_shape``:
        ``NCHW`` (convolutional), ``NHWC`` (torchvision's Swin), ``NLC`` (tokens); by default
        guessed as MMAction2 does (3 dimensions: ``NLC``, 4: ``NCHW``).
    :param pretrained: a local file of torchvision's ImageNet weights for ``arch`` (its state-dict
        layout, as ``torch.save(model.state_dict())`` or torchvision's download writes it; the
        classifier's tensors are ignored), or a checkpoint of ours; loaded once the model is
        built. Nothing is ever downloaded.
    """

    def __init__(self, *, arch: str = "resnet50", feature_shape: FeatureShape | None = None,
                 pretrained: str | None = None):
        super().__init__()
        known = classification_models()
        if arch not in known:
            raise ValueError(f"torchvision_2d: unknown arch '{arch}'; torchvision's classification models are "
                             f"{', '.join(known)}")
        if feature_shape not in (None, "NCHW", "NHWC", "NLC"):
            raise ValueError(f"torchvision_2d feature_shape must be NCHW, NHWC or NLC, got {feature_shape!r}")
        self.arch = arch
        self.feature_shape = feature_shape
        self.pretrained = pretrained
        self.net = torchvision.models.get_model(arch, weights=None)
        removed = [getattr(self.net, name) for name in CLASSIFIERS if isinstance(getattr(self.net, name, None), nn.Module)]
        self.out_channels = _feature_channels(removed)
        for name in CLASSIFIERS:
            setattr(self.net, name, nn.Identity())

    def from_mmaction2(self, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """An MMAction2 recognizer's ``backbone.*`` tensors (torchvision's names) under ``net.``."""
        return {f"net.{k}": v for k, v in state.items()}

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """torchvision's whole-model state dict (classifier dropped) or ours (``net.*``) as this
        module's; the loader then checks every tensor's name and shape."""
        if any(k.startswith(("backbone.net.", "net.")) for k in state):
            return {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith(("backbone.net.", "net."))}
        classifier = tuple(f"{name}." for name in CLASSIFIERS)
        own = {f"net.{k}": v for k, v in state.items() if not k.startswith(classifier)}
        if not own:
            raise CheckpointError(f"no tensors of a torchvision {self.arch} besides its classifier")
        return own

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = getattr(self.net, "features", None)
        x = features(x) if isinstance(features, nn.Module) else self.net(x)
        layout = self.feature_shape or {3: "NLC", 4: "NCHW"}.get(x.dim())
        if layout == "NHWC":
            x = x.permute(0, 3, 1, 2)
        if layout in ("NHWC", "NCHW"):
            x = x.mean(dim=(2, 3))
        elif layout == "NLC":
            x = x.mean(dim=1)
        return x.reshape(x.shape[0], -1, 1, 1)
