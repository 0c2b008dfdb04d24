"""MMAction2 checkpoints as ours (``actioncore convert mmaction2``): key renaming per model.

MMAction2 names a recognizer's parts ``backbone``, ``neck`` and ``cls_head``; ours are
``backbone``, ``neck`` and ``head``. Model plugins that name their modules as MMAction2 does
need nothing more. A model whose names differ defines a static method
``from_mmaction2(state_dict) -> state_dict`` on its model class; the recognizers call the same
method on their backbone, neck and head when those define it.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


def rename_mmaction2(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """MMAction2's recognizer keys to ours: ``cls_head.`` -> ``head.``, no preprocessor buffers."""
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if key.startswith("data_preprocessor."):
            continue
        if key.startswith("cls_head."):
            key = "head." + key.removeprefix("cls_head.")
        out[key] = value
    return out


def convert_parts(model: nn.Module, state: Mapping[str, torch.Tensor],
                  parts: tuple[str, ...] = ("backbone", "neck", "head")) -> dict[str, torch.Tensor]:
    """Renamed keys, then each part's own ``from_mmaction2`` on its slice of the state dict."""
    state = rename_mmaction2(state)
    for name in parts:
        convert = getattr(getattr(model, name, None), "from_mmaction2", None)
        if not callable(convert):
            continue
        prefix = name + "."
        own = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        state = {k: v for k, v in state.items() if not k.startswith(prefix)}
        state.update({prefix + k: v for k, v in convert(own).items()})
    return state


def convert_state(model: nn.Module, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """MMAction2 weights renamed for ``model`` (its own ``from_mmaction2`` if it has one)."""
    convert = getattr(model, "from_mmaction2", None)
    return convert(dict(state)) if callable(convert) else rename_mmaction2(state)
