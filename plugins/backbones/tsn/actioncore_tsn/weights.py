"""Weights of the ResNet: MMAction2's initialisation, and the tensors of a pretrained file.

ImageNet weights come from torchvision's ResNets, whose key names differ from ours (``bn1``
beside ``conv1`` there, ``conv1.bn`` here). The kernel reads the file (``weights_only``, never
downloaded) once the model is built and loads what :func:`resnet_weights` makes of it; anything
that keeps it from fitting raises :class:`CheckpointError`, which the kernel prefixes with the file.
"""
from __future__ import annotations

import logging
import re

import torch
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore.sdk.layers import constant_init, kaiming_init
from actioncore.sdk.weights import cross_modality_kernel

logger = logging.getLogger("actioncore.tsn")

_TORCHVISION_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^conv1\.(weight)$"), r"conv1.conv.\1"),
    (re.compile(r"^bn1\.(.+)$"), r"conv1.bn.\1"),
    (re.compile(r"^(layer\d+\.\d+)\.conv(\d)\.(weight)$"), r"\1.conv\2.conv.\3"),
    (re.compile(r"^(layer\d+\.\d+)\.bn(\d)\.(.+)$"), r"\1.conv\2.bn.\3"),
    (re.compile(r"^(layer\d+\.\d+)\.downsample\.0\.(.+)$"), r"\1.downsample.conv.\2"),
    (re.compile(r"^(layer\d+\.\d+)\.downsample\.1\.(.+)$"), r"\1.downsample.bn.\2"),
]


def init_resnet(model: nn.Module) -> None:
    """MMAction2's initialisation: Kaiming-normal (fan-out, ReLU) convolutions, BatchNorm 1 and 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            kaiming_init(m)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            constant_init(m, 1)


def torchvision_key(key: str) -> str | None:
    """Our name for a torchvision ResNet state-dict key, or None if it has no counterpart.

    ``layer1.0.bn2.weight`` -> ``layer1.0.conv2.bn.weight``; ``downsample.0``/``.1`` become
    ``downsample.conv``/``.bn``. The ImageNet classifier ``fc.*`` has none.
    """
    for pattern, replacement in _TORCHVISION_RULES:
        if pattern.match(key):
            return pattern.sub(replacement, key)
    return None


def stem_kernel(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """The file's first kernel for a stem of ``in_channels`` inputs: as it is for RGB, else (an
    RGB kernel for flow's ``2 * clip_len`` channels) TSN's cross-modality initialisation, the mean
    over the RGB channels repeated per input channel.

    MMAction2 (0.24 and 1.2.0) instead leaves a stem whose shape differs from the file's at its
    random initialisation, with a warning; the TSN paper (section 3.2) and its code average.
    """
    if weight.shape[1] == in_channels or weight.shape[1] != 3:
        return weight
    logger.info("conv1: RGB kernel averaged over its input channels for %d input channels", in_channels)
    return cross_modality_kernel(weight, in_channels)


def _listing(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def resnet_weights(model: nn.Module, state: dict[str, torch.Tensor],
                   keys: dict[str, str]) -> dict[str, torch.Tensor]:
    """A torchvision ImageNet ResNet (or a state dict in our naming) as ``model``'s state dict.

    ``keys`` maps the plain ResNet's names to ``model``'s keys (:meth:`ResNet.resnet_keys`); the
    model's other tensors keep their initialisation. Keys in our naming, with or without
    MMAction2's ``backbone.`` prefix, are taken as they are; torchvision keys are renamed. Every
    parameter and running statistic of the ResNet must be found with its shape
    (``num_batches_tracked`` may be absent, as in old torchvision files), and the file may hold no
    extra blocks in the stages the model has (a ResNet-34 file for a ResNet-18), else
    :class:`CheckpointError` lists what is wrong. The classifier ``fc`` and stages the model does
    not build (``num_stages < 4``) are logged as unused, not loaded. An RGB first kernel for a
    model of other ``in_channels`` (flow) is averaged over its channels (:func:`stem_kernel`).
    """
    ours = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unused: list[str] = []
    for key, value in state.items():
        key = key.removeprefix("backbone.")
        name = key if key in keys else torchvision_key(key)
        if name is None or name not in keys:
            unused.append(key)
        else:
            mapped[name] = value
    stem = mapped.get("conv1.conv.weight")
    if stem is not None and "conv1.conv.weight" in keys:
        mapped["conv1.conv.weight"] = stem_kernel(stem, ours[keys["conv1.conv.weight"]].shape[1])
    mismatched = [f"{name} {tuple(value.shape)} (model {tuple(ours[keys[name]].shape)})"
                  for name, value in mapped.items() if value.shape != ours[keys[name]].shape]
    missing = [name for name in keys
               if name not in mapped and not name.endswith("num_batches_tracked")]
    stages = {name.split(".")[0] for name in keys}
    foreign = [key for key in unused
               if not key.startswith("fc.") and key.split(".")[0] in stages | {"conv1", "bn1"}]
    if mismatched or missing or foreign:
        problems = []
        if foreign:
            problems.append(f"blocks the model does not have: {_listing(foreign)}")
        if mismatched:
            problems.append(f"shape mismatch for {_listing(mismatched)}")
        if missing:
            problems.append(f"{len(missing)} of the model's {len(keys)} tensors are missing: "
                            f"{_listing(missing)}")
        raise CheckpointError(
            f"does not fit {type(model).__name__}"
            f"{f' depth {model.depth}' if hasattr(model, 'depth') else ''}: "
            + "; ".join(problems)
            + ". Expected a torchvision ImageNet ResNet state dict of the same depth"
        )
    if unused:
        classifier = all(k.startswith("fc.") for k in unused)
        logger.log(logging.INFO if classifier else logging.WARNING,
                   "%s: %d tensors not used by the backbone: %s", getattr(model, "pretrained", None),
                   len(unused), _listing(unused))
    return {**ours, **{keys[name]: value for name, value in mapped.items()}}
