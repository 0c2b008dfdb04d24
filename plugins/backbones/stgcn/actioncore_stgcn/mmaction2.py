"""MMAction2 GCN checkpoints to ours.

1.x: parameter names are the same; the difference is the skeleton graph. MMAction2 saves each
fixed adjacency matrix (``A``) in its checkpoints; ours rebuild it from the config. So the
conversion compares every saved graph with the configured one, which catches a checkpoint of
another layout or graph mode (``spatial`` and ``stgcn_spatial`` have the same shapes), and drops it.

0.x (the seed's 0.24): ST-GCN was the original implementation (``st_gcn_networks``, a
``tcn`` Sequential that starts with the graph convolution's BatchNorm and ReLU, a separate
``edge_importance`` list). It computes exactly what 1.x's ``STGCN`` with ``gcn_adaptive =
"importance"`` computes, so its keys are renamed (:func:`stgcn_0x_keys`). 0.24's 2s-AGCN
(``agcn_networks``) is another network than 1.x's AAGCN (softmax, not tanh, joint similarity,
with a fixed weight of 1): it is refused with that reason.
"""
from __future__ import annotations

import re

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


# 0.x ST-GCN block part -> ours, by the index in its Sequential
_STGCN_0X_PARTS = {
    "gcn.conv": "gcn.conv",
    "tcn.0": "gcn.bn",          # the graph convolution's norm (0.x put it first in tcn)
    "tcn.2": "tcn.conv",
    "tcn.3": "tcn.bn",
    "residual.0": "residual.conv",
    "residual.1": "residual.bn",
}
_STGCN_0X_KEY = re.compile(r"st_gcn_networks\.(\d+)\.(gcn\.conv|tcn\.[0-3]|residual\.[01])\.(.+)")


def is_0x_layout(state: dict[str, torch.Tensor]) -> bool:
    return any(k.startswith(("st_gcn_networks.", "agcn_networks.", "edge_importance.")) for k in state)


def stgcn_0x_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An MMAction2 0.x ``STGCN`` backbone state dict in 1.x's (and our) names.

    :raises CheckpointError: a 0.x 2s-AGCN checkpoint, or a key this layout does not have.
    """
    if any(k.startswith("agcn_networks.") for k in state):
        raise CheckpointError(
            "this is an MMAction2 0.x 2s-AGCN checkpoint (agcn_networks.*): 0.x's AGCN scores joint "
            "similarity with a softmax and adds it at weight 1, 1.x's AAGCN (ours) with tanh times a "
            "learnt alpha, so its weights cannot give the same outputs here; use MMAction2 1.x's "
            "2s-AGCN checkpoints")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.startswith("edge_importance."):
            out[f"gcn.{key.removeprefix('edge_importance.')}.gcn.PA"] = value
            continue
        if not key.startswith("st_gcn_networks."):
            out[key] = value  # data_bn, A
            continue
        match = _STGCN_0X_KEY.fullmatch(key)
        if match is None or match.group(2) not in _STGCN_0X_PARTS:
            raise CheckpointError(f"unexpected key '{key}' in an MMAction2 0.x ST-GCN checkpoint")
        block, part, rest = match.groups()
        out[f"gcn.{block}.{_STGCN_0X_PARTS[part]}.{rest}"] = value
    return out
