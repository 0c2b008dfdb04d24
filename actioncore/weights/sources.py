"""Other toolboxes' checkpoint layouts as ours, chosen by a zoo entry's ``source_format``."""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..errors import CheckpointError
from .mmaction2 import convert_state


def convert_source(model: nn.Module, state: Mapping[str, torch.Tensor], *,
                   source_format: str) -> dict[str, torch.Tensor]:
    """``state`` (the source file's tensors) renamed for ``model``, per ``source_format``
    (one of :data:`~actioncore.weights.zoo.SOURCE_FORMATS`)."""
    if source_format in ("mmaction2-1.x", "mmaction2-0.x"):
        return convert_state(model, state)
    if source_format == "actioncore":
        return dict(state)
    raise CheckpointError(f"no converter for checkpoints in the '{source_format}' layout")


__all__ = ["convert_source"]
