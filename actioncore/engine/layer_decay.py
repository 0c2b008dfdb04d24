"""Layer-wise learning-rate decay: MMAction2 1.2.0's ``LearningRateDecayOptimizerConstructor``
(``decay_type = 'layer_wise'``, the BEiT / MViT / VideoMAE fine-tuning rule).

Deeper blocks learn faster: a parameter of layer ``i`` gets ``rate ** (num_layers - i + 1)``
times the base rate, where the embeddings (``backbone.cls_token``, ``backbone.mask_token``,
``backbone.pos_embed``, ``backbone.patch_embed.*``) are layer 0, ``backbone.blocks.N.*`` is layer
``N + 1`` and everything else (the final norm, the head) is layer ``num_layers + 1`` (factor 1).
Weight decay is off for one-dimensional tensors and biases, as there.
"""
from __future__ import annotations

from torch import nn

EMBEDDINGS = ("backbone.cls_token", "backbone.mask_token", "backbone.pos_embed")


def layer_id(name: str, num_layers: int) -> int:
    """The layer of parameter ``name`` (MMAction2's ``get_layer_id_for_mvit`` / ``_for_vit``)."""
    if name in EMBEDDINGS or name.startswith("backbone.patch_embed"):
        return 0
    if name.startswith("backbone.blocks."):
        return int(name.split(".")[2]) + 1
    return num_layers + 1


def layer_decay_groups(model: nn.Module, *, lr: float, weight_decay: float, rate: float,
                       num_layers: int) -> list[dict]:
    """Parameter groups ``{params, lr, initial_lr, lr_mult, weight_decay}``, one per (layer,
    decayed or not), for :func:`actioncore.engine.optim.param_groups`."""
    if any(isinstance(m, nn.modules.batchnorm._NormBase) for m in model.modules()):
        raise ValueError("optim.layer_decay_rate: batch norm is not supported with layer-wise decay "
                         "(as in MMAction2)")
    groups: dict[tuple[int, bool], dict] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        name = name.removeprefix("module.")
        decayed = not (param.dim() == 1 or name.endswith(".bias"))
        layer = layer_id(name, num_layers)
        group = groups.get((layer, decayed))
        if group is None:
            scale = rate ** (num_layers - layer + 1)
            group = groups[(layer, decayed)] = {
                "params": [], "lr": lr * scale, "initial_lr": lr * scale, "lr_mult": scale,
                "weight_decay": weight_decay if decayed else 0.0, "layer_id": layer}
        group["params"].append(param)
    return list(groups.values())
