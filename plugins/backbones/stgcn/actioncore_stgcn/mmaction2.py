"""MMAction2 GCN checkpoints to ours.

Parameter names are the same; the difference is the skeleton graph. MMAction2 saves each
fixed adjacency matrix (``A``) in its checkpoints; ours rebuild it from the config. So the
conversion compares every saved graph with the configured one, which catches a checkpoint of
another layout or graph mode (``spatial`` and ``stgcn_spatial`` have the same shapes), and drops it.
"""
from __future__ import annotations

import torch
from torch import nn

from actioncore.sdk import CheckpointError


def drop_fixed_buffers(module: nn.Module, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` without the entries of ``module``'s non-persistent buffers, each checked first.

    :raises CheckpointError: where a saved buffer differs from the module's (another graph).
    """
    state = dict(state)
    for prefix, sub in module.named_modules():
        for name in sub._non_persistent_buffers_set:
            key = f"{prefix}.{name}" if prefix else name
            if key not in state:
                continue
            saved, own = state.pop(key), sub.get_buffer(name)
            if own.is_meta:
                continue
            if saved.shape != own.shape or not torch.allclose(saved.float().cpu(), own.float().cpu(),
                                                              atol=1e-6, rtol=0):
                raise CheckpointError(
                    f"the saved skeleton graph {type(module).__name__.lower()}.{key} (shape "
                    f"{list(saved.shape)}) differs from this model's (shape {list(own.shape)}): the "
                    "checkpoint was trained with another graph_cfg layout or mode")
    return state
