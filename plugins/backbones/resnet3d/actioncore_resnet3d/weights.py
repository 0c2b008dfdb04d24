"""Loading a local backbone state dict (``pretrained``) into a 3D backbone, or inflating a 2D one."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from actioncore.sdk.weights import backbone_weights, mmaction2_weights
from actioncore.sdk import CheckpointError


def load_pretrained(model: nn.Module, path: str) -> None:
    """Load a state dict in the model's own (MMAction2's) naming; a recognizer's ``backbone.*``
    tensors are taken (:func:`~actioncore.convert.backbone_weights`).

    Read with ``weights_only=True``; every tensor of the model must be found with its shape
    (``num_batches_tracked`` may be absent), else :class:`CheckpointError` names the file.
    """
    state = backbone_weights(mmaction2_weights(path))
    ours = model.state_dict()
    missing = [k for k in ours if k not in state and not k.endswith("num_batches_tracked")]
    shapes = [f"{k} {tuple(state[k].shape)} (model {tuple(ours[k].shape)})"
              for k in ours if k in state and state[k].shape != ours[k].shape]
    if missing or shapes:
        raise CheckpointError(f"{path}: does not fit {type(model).__name__}: "
                              f"{len(missing)} tensors missing (e.g. {missing[:3]}), "
                              f"{len(shapes)} of another shape {shapes[:2]}")
    model.load_state_dict({k: v for k, v in state.items() if k in ours}, strict=False)


UNUSED_2D_PREFIXES = ("fc.",)
"""Parts of a 2D ImageNet ResNet that have no place in a 3D backbone: the classifier."""


def inflate_pretrained_2d(model: nn.Module, path: str, *, skip: Callable[[str], bool] = lambda name: False,
                          optional: Callable[[str], bool] = lambda name: False) -> None:
    """Inflate a 2D ResNet's ImageNet weights (torchvision naming, e.g. ``resnet50-11ad3fa6.pth``)
    into a 3D ResNet, as MMAction2's ``pretrained2d`` does (I3D, SlowOnly, SlowFast pathways).

    Each 2D kernel is repeated along time and divided by the temporal kernel size, so a clip of
    identical frames gives the 2D network's activations; BatchNorm weights and statistics are
    copied. Names map ``layer1.0.conv1.conv`` <- ``layer1.0.conv1``, ``.bn`` <- ``layer1.0.bn1``,
    ``downsample.conv``/``.bn`` <- ``downsample.0``/``.1``. A 3D convolution with more input
    channels than its 2D source (a SlowFast stage fed by a lateral connection) gets zeros for the
    extra ones. Modules for which ``skip(name)`` is true keep their initialisation (lateral
    connections), as do those for which ``optional(name)`` is true and the file has nothing (a
    shortcut that exists only because lateral channels widen a stage's input). Unlike MMAction2, which warns and goes on, any 3D layer without a fitting 2D
    source, and any 2D tensor left unused (other than the classifier ``fc``), is a
    :class:`CheckpointError` naming the file and the layer: a wrong depth never half-loads.
    """
    from actioncore.sdk.layers import ConvModule

    state = {k.removeprefix("backbone."): v for k, v in mmaction2_weights(path).items()}
    used: set[str] = set()
    problems: list[str] = []
    with torch.no_grad():
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
            if (weight_2d.shape[0] != weight_3d.shape[0] or weight_2d.shape[2:] != weight_3d.shape[3:]
                    or weight_2d.shape[1] > weight_3d.shape[1]):
                problems.append(f"{name}.conv: 2D '{conv_2d}.weight' {tuple(weight_2d.shape)} does not "
                                f"inflate to {tuple(weight_3d.shape)}")
                continue
            if weight_2d.shape[1] < weight_3d.shape[1]:  # lateral input channels start at zero
                extra = weight_2d.new_zeros(weight_2d.shape[0], weight_3d.shape[1] - weight_2d.shape[1],
                                            *weight_2d.shape[2:])
                weight_2d = torch.cat([weight_2d, extra], dim=1)
            weight_3d.copy_(weight_2d.unsqueeze(2).expand_as(weight_3d) / weight_3d.shape[2])
            used.add(f"{conv_2d}.weight")
            if module.conv.bias is not None and f"{conv_2d}.bias" in state:
                module.conv.bias.copy_(state[f"{conv_2d}.bias"])
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
                tensor.copy_(source)
                used.add(f"{bn_2d}.{key}")
    unused = sorted(k for k in state if k not in used and not k.startswith(UNUSED_2D_PREFIXES)
                    and not k.endswith("num_batches_tracked"))
    if unused:
        problems.append(f"{len(unused)} 2D tensors have no 3D layer (e.g. {unused[:3]}): another depth?")
    if problems:
        raise CheckpointError(f"{path}: cannot inflate into {type(model).__name__}: "
                              + "; ".join(problems[:4]) + (f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""))
