"""Weight files: reading them without running pickled code, and loading them strictly.

Our checkpoints, MMAction2's (``meta`` with NumPy scalars) and bare state dicts are read with
``torch.load(weights_only=True)``; a mismatch names the file and the first differing keys.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..engine.checkpoint import model_weights
from ..errors import CheckpointError
from .safe_load import safe_load


def fit_problems(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor], *,
                 optional: tuple[str, ...] = ()) -> str | None:
    """What keeps ``state`` from loading strictly where ``own`` is: keys missing (but those ending
    in one of ``optional``), unexpected, of another shape; None if it fits."""
    missing = [k for k in own if k not in state and not k.endswith(optional)]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: checkpoint {list(state[k].shape)}, model {list(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if not (missing or unexpected or shapes):
        return None
    return (f"{len(missing)} missing (e.g. {missing[:3]}), {len(unexpected)} unexpected "
            f"(e.g. {unexpected[:3]}), {len(shapes)} of another shape {shapes[:2]}")


def load_into(model: nn.Module, state: Mapping[str, torch.Tensor], source: str | os.PathLike) -> None:
    """Load strictly; a mismatch names the file and the first differing keys and shapes."""
    problems = fit_problems(model.state_dict(), state)
    if problems:
        raise CheckpointError(f"{source}: does not fit the experiment's model: {problems}")
    model.load_state_dict(state)


def backbone_weights(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A recognizer's ``backbone.*`` tensors without the prefix (also under DDP's ``module.``),
    for a backbone's ``pretrained``; a state dict without such keys (a bare backbone's) as it is."""
    if not any(k.startswith(("backbone.", "module.backbone.")) for k in state):
        return dict(state)
    return {k.removeprefix("module.").removeprefix("backbone."): v for k, v in state.items()
            if k.removeprefix("module.").startswith("backbone.")}


def mmaction2_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of an MMAction2 checkpoint, read without running any pickled code
    (:func:`load_weights_file`)."""
    state = load_weights_file(path)
    weights = state.get("state_dict", state) if isinstance(state, dict) else None
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{path}: no state_dict of tensors found")
    return weights


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, read without running any pickled code: one of our
    checkpoints' model, an MMAction2 (mmengine) checkpoint's ``state_dict``, or a bare state dict
    (torchvision's ImageNet files)."""
    return weights_in(load_weights_file(path), path)


def weights_in(state: Any, path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of what :func:`load_weights_file` read from ``path`` (see :func:`read_weights`),
    for callers that also want the file's other entries (a classifier's class names)."""
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{path}: not a state dict (a mapping of names to tensors), found "
                              f"{type(state).__name__}")
    weights = model_weights(state, path)
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()):
        raise CheckpointError(f"{path}: not a state dict (a mapping of names to tensors)")
    return weights


def load_weights_file(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a missing or unreadable file is a
    :class:`CheckpointError` naming it.

    MMAction2 checkpoints keep NumPy scalars and arrays in their ``meta``; those few NumPy
    reconstruction functions are allowed, nothing else.
    """
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    allowed: list[Any] = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype]
    allowed += [type(np.dtype(t)) for t in ("float64", "float32", "int64", "int32", "uint8", "bool")]
    return safe_load(path, allowed=allowed)
