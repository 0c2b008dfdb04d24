"""Pretrained files for the 3D backbones: a state dict in their own naming, or a 2D ResNet to inflate.

These are the backbones' ``filter_pretrained`` (see :mod:`actioncore.sdk.weights`): they turn a
file's tensors into the module's state dict; the kernel reads the file and loads the result.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from actioncore.sdk import CheckpointError
from actioncore.sdk.layers import ConvModule
from actioncore.sdk.weights import backbone_weights, cross_modality_kernel


def own_weights(model: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A state dict in the model's own (MMAction2's) naming; a recognizer's ``backbone.*``
    tensors are taken (:func:`~actioncore.sdk.weights.backbone_weights`). Tensors the model does
    not have are left out; every tensor it has must be there with its shape (checked on loading).
    """
    own = model.state_dict()
    return {k: v for k, v in backbone_weights(state).items() if k in own}


UNUSED_2D_PREFIXES = ("fc.",)
"""Parts of a 2D ImageNet ResNet that have no place in a 3D backbone: the classifier."""


def inflate_2d_weights(model: nn.Module, state: dict[str, torch.Tensor], *,
                       skip: Callable[[str], bool] = lambda name: False,
                       optional: Callable[[str], bool] = lambda name: False) -> dict[str, torch.Tensor]:
    """A 2D ResNet's ImageNet weights (torchvision naming, e.g. ``resnet50-11ad3fa6.pth``)
    inflated into ``model``'s state dict, as MMAction2's ``pretrained2d`` does (I3D, SlowOnly,
    SlowFast pathways).

    Each 2D kernel is repeated along time and divided by the temporal kernel size, so a clip of
    identical frames gives the 2D network's activations; BatchNorm weights and statistics are
    copied. Names map ``layer1.0.conv1.conv`` <- ``layer1.0.conv1``, ``.bn`` <- ``layer1.0.bn1``,
    ``downsample.conv``/``.bn`` <- ``downsample.0``/``.1``. A 3D convolution with more input
    channels than its 2D source (a SlowFast stage fed by a lateral connection) gets zeros for the
    extra ones; an RGB stem ``conv1`` for another input (flow's 2 channels) is first averaged over
    its input channels and repeated, TSN's cross-modality initialisation (MMAction2 leaves a stem
    of another shape at its random initialisation, with a warning). Modules for which ``skip(name)`` is true keep their initialisation (lateral
    connections), as do those for which ``optional(name)`` is true and the file has nothing (a
    shortcut that exists only because lateral channels widen a stage's input). Unlike MMAction2,
    which warns and goes on, any 3D layer without a fitting 2D source, and any 2D tensor left
    unused (other than the classifier ``fc``), is a :class:`CheckpointError` naming the layer: a
    wrong depth never half-loads.
    """
    state = {k.removeprefix("backbone."): v for k, v in state.items()}
    out = model.state_dict()
    used: set[str] = set()
    problems: list[str] = []
    for name, module in model.named_modules():
        if not isinstance(module, ConvModule) or skip(name):
            continue
        if name.rsplit(".", 1)[-1] == "downsample":
            conv_2d, bn_2d = f"{name}.0", f"{name}.1"
        else:
            conv_2d, bn_2d = name, name.replace("conv", "bn")
        weight_3d = module.conv.weight
        weight_2d = state.get(f"{conv_2d}.weight")
        if weight_2d is None and optional(name):
            continue
        if weight_2d is None or weight_2d.dim() != 4:
            problems.append(f"{name}.conv: no 2D kernel '{conv_2d}.weight'")
            continue
        if name == "conv1" and weight_2d.shape[1] == 3 != weight_3d.shape[1]:  # RGB stem for flow
            weight_2d = cross_modality_kernel(weight_2d, weight_3d.shape[1])
        if (weight_2d.shape[0] != weight_3d.shape[0] or weight_2d.shape[2:] != weight_3d.shape[3:]
                or weight_2d.shape[1] > weight_3d.shape[1]):
            problems.append(f"{name}.conv: 2D '{conv_2d}.weight' {tuple(weight_2d.shape)} does not "
                            f"inflate to {tuple(weight_3d.shape)}")
            continue
        if weight_2d.shape[1] < weight_3d.shape[1]:  # lateral input channels start at zero
            extra = weight_2d.new_zeros(weight_2d.shape[0], weight_3d.shape[1] - weight_2d.shape[1],
                                        *weight_2d.shape[2:])
            weight_2d = torch.cat([weight_2d, extra], dim=1)
        out[f"{name}.conv.weight"] = weight_2d.unsqueeze(2).expand_as(weight_3d) / weight_3d.shape[2]
        used.add(f"{conv_2d}.weight")
        if module.conv.bias is not None and f"{conv_2d}.bias" in state:
            out[f"{name}.conv.bias"] = state[f"{conv_2d}.bias"]
            used.add(f"{conv_2d}.bias")
        bn = getattr(module, "bn", None)
        if bn is None:
            continue
        for key, tensor in [*bn.named_parameters(recurse=False), *bn.named_buffers(recurse=False)]:
            source = state.get(f"{bn_2d}.{key}")
            if source is None:
                if key != "num_batches_tracked":
                    problems.append(f"{name}.bn: no 2D '{bn_2d}.{key}'")
                continue
            if source.shape != tensor.shape:
                problems.append(f"{name}.bn: 2D '{bn_2d}.{key}' {tuple(source.shape)} vs {tuple(tensor.shape)}")
                continue
            out[f"{name}.bn.{key}"] = source
            used.add(f"{bn_2d}.{key}")
    unused = sorted(k for k in state if k not in used and not k.startswith(UNUSED_2D_PREFIXES)
                    and not k.endswith("num_batches_tracked"))
    if unused:
        problems.append(f"{len(unused)} 2D tensors have no 3D layer (e.g. {unused[:3]}): another depth?")
    if problems:
        raise CheckpointError(f"cannot inflate into {type(model).__name__}: " + "; ".join(problems[:4])
                              + (f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""))
    return out
