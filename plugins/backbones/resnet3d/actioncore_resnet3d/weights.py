"""Loading a local backbone state dict (``pretrained``) into a 3D backbone."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from actioncore.errors import CheckpointError


def load_pretrained(model: nn.Module, path: str) -> None:
    """Load a state dict in the model's own (MMAction2's) naming; ``backbone.`` is stripped.

    Read with ``weights_only=True``; every tensor of the model must be found with its shape
    (``num_batches_tracked`` may be absent), else :class:`CheckpointError` names the file.
    """
    try:
        raw: Any = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: pretrained weights file not found") from None
    except Exception as exc:
        raise CheckpointError(f"{path}: cannot read pretrained weights "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from exc
    if isinstance(raw, Mapping) and isinstance(raw.get("state_dict"), Mapping):
        raw = raw["state_dict"]
    if not isinstance(raw, Mapping):
        raise CheckpointError(f"{path}: not a state dict, found {type(raw).__name__}")
    has_prefix = any(k.startswith("backbone.") for k in raw)
    state = {k.removeprefix("backbone."): v for k, v in raw.items()
             if not has_prefix or k.startswith("backbone.")}
    ours = model.state_dict()
    missing = [k for k in ours if k not in state and not k.endswith("num_batches_tracked")]
    shapes = [f"{k} {tuple(state[k].shape)} (model {tuple(ours[k].shape)})"
              for k in ours if k in state and state[k].shape != ours[k].shape]
    if missing or shapes:
        raise CheckpointError(f"{path}: does not fit {type(model).__name__}: "
                              f"{len(missing)} tensors missing (e.g. {missing[:3]}), "
                              f"{len(shapes)} of another shape {shapes[:2]}")
    model.load_state_dict({k: v for k, v in state.items() if k in ours}, strict=False)
