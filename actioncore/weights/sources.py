"""Other toolboxes' checkpoint layouts as ours, chosen by a zoo entry's ``source_format``.

The kernel knows no other toolbox's key names: MMAction2's renaming is a model's (or its parts')
``from_mmaction2``; torchvision's whole-classifier files are split by the part that wraps the
torchvision network (``from_torchvision``, e.g. actioncore-torchvision-video's backbones).
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..errors import CheckpointError
from .mmaction2 import convert_state


def from_whole_model(model: nn.Module, state: Mapping[str, torch.Tensor], *,
                     method: str) -> dict[str, torch.Tensor]:
    """A checkpoint of another toolbox's *whole* model (network and classifier in one file) as
    ``model``'s state dict.

    ``model.<method>(state)`` converts it when the model defines it; otherwise the first direct
    child that defines ``method`` does (typically the backbone wrapping the other toolbox's
    network: only it knows which of the file's keys are the classifier), returning one state dict
    per part of ``model`` by attribute name (``{"backbone": {...}, "head": {...}}``), which are
    prefixed here.

    :raises CheckpointError: when neither the model nor a part can read the layout, or a part
        named in the result is not one of the model's.
    """
    convert = getattr(model, method, None)
    if callable(convert):
        return dict(convert(dict(state)))
    for name, part in model.named_children():
        convert = getattr(part, method, None)
        if not callable(convert):
            continue
        out: dict[str, torch.Tensor] = {}
        for part_name, part_state in convert(dict(state)).items():
            if not isinstance(getattr(model, part_name, None), nn.Module):
                raise CheckpointError(f"{type(part).__name__}.{method} gave weights for '{part_name}', which "
                                      f"{type(model).__name__} does not have")
            out.update({f"{part_name}.{key}": value for key, value in part_state.items()})
        return out
    raise CheckpointError(f"{type(model).__name__} cannot read this checkpoint: neither it nor any of its "
                          f"parts defines {method}()")


def convert_source(model: nn.Module, state: Mapping[str, torch.Tensor], *,
                   source_format: str) -> dict[str, torch.Tensor]:
    """``state`` (the source file's tensors) renamed for ``model``, per ``source_format``
    (one of :data:`~actioncore.weights.zoo.SOURCE_FORMATS`)."""
    if source_format in ("mmaction2-1.x", "mmaction2-0.x"):
        return convert_state(model, state)
    if source_format == "actioncore":
        return dict(state)
    if source_format == "torchvision":
        return from_whole_model(model, state, method="from_torchvision")
    raise CheckpointError(f"no converter for checkpoints in the '{source_format}' layout")


__all__ = ["convert_source", "from_whole_model"]
