"""torchvision's video ResNets (``torchvision.models.video``) to our naming.

``r3d_18`` and ``mc3_18`` load into ``resnet3d`` and ``r2plus1d_18`` into ``resnet2plus1d``
(``layout = "torchvision"``), each with an ``i3d`` head; see the plugin README for the settings.
MMAction2 checkpoints need no code: our names are MMAction2's.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from actioncore.sdk import CheckpointError

_RULES: list[tuple[re.Pattern[str], str]] = [
    # R(2+1)D stem: conv_s, bn_s, relu, conv_t, bn, relu
    (re.compile(r"^stem\.0\.(.+)$"), r"backbone.conv1.conv.{s}\1"),
    (re.compile(r"^stem\.1\.(.+)$"), r"backbone.conv1.{bn}\1"),
    (re.compile(r"^stem\.3\.(.+)$"), r"backbone.conv1.conv.conv_t.\1"),
    (re.compile(r"^stem\.4\.(.+)$"), r"backbone.conv1.bn.\1"),
    # block convolutions: convN.0 is the convolution (a Conv2Plus1D sequential in R(2+1)D)
    (re.compile(r"^(layer\d\.\d+)\.(conv\d)\.0\.0\.(.+)$"), r"backbone.\1.\2.conv.conv_s.\3"),
    (re.compile(r"^(layer\d\.\d+)\.(conv\d)\.0\.1\.(.+)$"), r"backbone.\1.\2.conv.bn_s.\3"),
    (re.compile(r"^(layer\d\.\d+)\.(conv\d)\.0\.3\.(.+)$"), r"backbone.\1.\2.conv.conv_t.\3"),
    (re.compile(r"^(layer\d\.\d+)\.(conv\d)\.0\.(weight|bias)$"), r"backbone.\1.\2.conv.\3"),
    (re.compile(r"^(layer\d\.\d+)\.(conv\d)\.1\.(.+)$"), r"backbone.\1.\2.bn.\3"),
    (re.compile(r"^(layer\d\.\d+)\.downsample\.0\.(.+)$"), r"backbone.\1.downsample.conv.\2"),
    (re.compile(r"^(layer\d\.\d+)\.downsample\.1\.(.+)$"), r"backbone.\1.downsample.bn.\2"),
    (re.compile(r"^fc\.(.+)$"), r"head.fc_cls.\1"),
]


def from_torchvision(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A torchvision ``r3d_18``/``mc3_18``/``r2plus1d_18`` state dict as our recognizer's.

    Keys come out as ``backbone.*`` and ``head.fc_cls.*`` for a ``recognizer3d`` with a
    ``resnet3d`` (or ``resnet2plus1d``, layout ``torchvision``) backbone and an ``i3d`` head.
    The stem of r3d/mc3 is one Conv3d (``stem.0``) and BatchNorm (``stem.1``); that of
    r2plus1d is a (2+1)D convolution (``stem.0``, ``stem.1``, ``stem.3``) and its BatchNorm
    (``stem.4``). Tensors are shared, not copied.

    :raises CheckpointError: for a key of no known layout.
    """
    r2plus1d = "stem.3.weight" in state_dict
    converted: dict[str, torch.Tensor] = {}
    unknown = []
    for key, value in state_dict.items():
        for pattern, replacement in _RULES:
            if pattern.match(key):
                replacement = replacement.format(s="conv_s." if r2plus1d else "",
                                                 bn="conv.bn_s." if r2plus1d else "bn.")
                converted[pattern.sub(replacement, key)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise CheckpointError(f"not a torchvision video ResNet state dict: {len(unknown)} unknown "
                              f"keys, e.g. {unknown[:5]}")
    return converted
