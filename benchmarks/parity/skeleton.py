"""Check ST-GCN, ST-GCN++, 2s-AGCN/AAGCN and PoseC3D against MMAction2 1.2.0: counts, conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/skeleton.py [--only NAME]

For each MMAction2 skeleton config below it

1. counts the parameters of MMAction2's full-size recognizer (random init) and of ours, built
   from the matching experiment in ``examples/skeleton/`` (with ``--set``-style overrides for
   the variants that have no example of their own);
2. gives every MMAction2 weight and BatchNorm statistic random values (``mmaction2_peer``), and
   moves the graph parameters (edge importance ``PA``, learnable adjacency ``A``, gate ``alpha``)
   off their constant initial values; saves the recognizer's state dict as a checkpoint,
   converts it through the code path of ``actioncore convert mmaction2`` (the backbones'
   ``from_mmaction2`` checks the saved skeleton graphs against ours and drops them), loads it
   strictly into ours and compares, in eval mode on one random batch, the backbone features
   and the logits.

Prints a JSON summary; exits 1 if a count differs or a logit difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from actioncore_stgcn import AdaptiveGraphConv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, convert_into, count, parity_arguments,  # noqa: E402
                            randomise, run_parity)

GCN_INPUT = (2, 2, 24)  # N, M, T


def backbone_edit(**settings: Any):
    def edit(config: Any) -> None:
        config.backbone.update(settings)
    return edit


# name: (MMAction2 config under configs/skeleton/, edit of its backbone, our example under
# examples/skeleton/, overrides of it, input shape)
MODELS: dict[str, tuple[str, Any, str, list[str], tuple[int, ...]]] = {
    "stgcn_coco": ("stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py", None,
                   "stgcn_80e_ntu60_xsub_keypoint.toml", [], (*GCN_INPUT, 17, 3)),
    "stgcn_nturgbd": ("stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py", None,
                      "stgcn_80e_ntu60_xsub_keypoint_3d.toml", [], (*GCN_INPUT, 25, 3)),
    # the other code paths of MMAction2's STGCN: learnable offset, convolution after the
    # aggregation, two-hop partition, per-person input norm
    "stgcn_variants_nturgbd": (
        "stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py",
        backbone_edit(gcn_adaptive="offset", gcn_conv_pos="post", data_bn_type="MVC",
                      graph_cfg=dict(layout="nturgb+d", mode="stgcn_spatial", max_hop=2)),
        "stgcn_80e_ntu60_xsub_keypoint_3d.toml",
        ['model.backbone.gcn_adaptive="offset"', 'model.backbone.gcn_conv_pos="post"',
         'model.backbone.data_bn_type="MVC"', "model.backbone.graph_cfg.max_hop=2"],
        (*GCN_INPUT, 25, 3)),
    "stgcnpp_coco": ("stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py", None,
                     "stgcn_80e_ntu60_xsub_keypoint.toml",
                     ['model.backbone.graph_cfg.mode="spatial"', 'model.backbone.gcn_adaptive="init"',
                      "model.backbone.gcn_with_res=true", 'model.backbone.tcn_type="mstcn"'],
                     (*GCN_INPUT, 17, 3)),
    # MMAction2's AAGCN class with its defaults (attention on)
    "aagcn_coco": ("2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py",
                   backbone_edit(gcn_attention=True), "aagcn_80e_ntu60_xsub_keypoint.toml", [],
                   (*GCN_INPUT, 17, 3)),
    # the 2s-AGCN config as shipped (attention off)
    "2s-agcn_coco": ("2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py", None,
                     "2s-agcn_80e_ntu60_xsub_keypoint_joint.toml", [], (*GCN_INPUT, 17, 3)),
    "2s-agcn_nturgbd": ("2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py", None,
                        "2s-agcn_80e_ntu60_xsub_keypoint_joint.toml",
                        ['model.backbone.graph_cfg.layout="nturgb+d"'], (*GCN_INPUT, 25, 3)),
    "posec3d_gym": ("posec3d/slowonly_r50_8xb16-u48-240e_gym-keypoint.py", None,
                    "posec3d_slowonly_r50_u48_240e_gym_keypoint.toml", [], (2, 17, 16, 48, 48)),
}


@torch.no_grad()
def randomise_graph_parameters(model: nn.Module, seed: int) -> None:
    """Move the parameters no convolution, linear or norm holds (``PA``, learnable ``A``,
    ``alpha``) off their constant initial values (ones, the graph, zero)."""
    g = torch.Generator().manual_seed(seed)
    layers = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear, nn.modules.batchnorm._BatchNorm)
    held = {id(p) for m in model.modules() if isinstance(m, layers) for p in m.parameters(recurse=False)}
    for param in model.parameters():
        if id(param) not in held:
            param.add_(0.1 * torch.randn(param.shape, generator=g))


@torch.no_grad()
def shrink_norms(model: nn.Module, factor: float) -> None:
    """AAGCN's three attention masks multiply each unit's output by up to 8: with unit-sized
    norms ten blocks give logits near 1e6, where float32 rounding alone exceeds any useful
    tolerance. Smaller norm weights keep the logits near 1."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.weight.mul_(factor)


def check(name: str, args: argparse.Namespace) -> dict:
    config, edit, example, overrides, shape = MODELS[name]
    theirs = build_mmaction2(f"skeleton/{config}", edit)
    ours = build_ours(f"skeleton/{example}", overrides)
    result: dict = {"mmaction2_config": config, "example": example, "overrides": overrides,
                    "mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
    randomise(theirs, args.seed)
    randomise_graph_parameters(theirs, args.seed)
    if any(isinstance(m, AdaptiveGraphConv) and m.attention for m in ours.modules()):
        shrink_norms(theirs, 0.25)
    result["checkpoint_tensors"] = len(theirs.state_dict())
    result["converted_tensors"] = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    x = torch.randn(shape)
    with torch.no_grad():
        their_features = theirs.backbone(x)
        their_scores = theirs.cls_head(their_features)
        our_features = ours.backbone(x)
        our_scores = ours.head(our_features)
    return result | {
        "input": list(x.shape),
        "feature_max_abs_diff": (their_features - our_features).abs().max().item(),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }


def main() -> int:
    args = parity_arguments(__doc__.splitlines()[0], MODELS).parse_args()
    return run_parity(MODELS, args, lambda name: check(name, args))

if __name__ == "__main__":
    sys.exit(main())
