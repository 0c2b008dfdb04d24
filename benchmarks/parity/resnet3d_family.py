"""Check I3D, SlowOnly, R(2+1)D, ir-CSN and C3D against MMAction2 1.2.0: counts, conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/resnet3d_family.py

For each MMAction2 config below it

1. counts the parameters of MMAction2's full-size recognizer (random init; the configs'
   pretrained weights are switched off, and R(2+1)D's SyncBN becomes BN3d with the same eps so
   that it runs on one CPU process) and of ours built from the matching example in
   ``examples/recognition/``;
2. gives every MMAction2 parameter and BatchNorm statistic random values (so that zero-initialised
   residual BatchNorms matter), saves the recognizer's state dict as a checkpoint, converts it
   with :func:`actioncore.convert.convert_state`, loads it strictly into ours (every key and
   shape must match) and compares, in eval mode on a small spatial input (``--size``; C3D needs
   its 16 x 112 x 112 clip), the backbone features, the per-view logits and the view-averaged
   probabilities of one random batch.

Prints a JSON summary; exits 1 if a count differs or a logit difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

import actioncore
from actioncore.convert import convert_state, load_into, mmaction2_weights

ROOT = Path(__file__).resolve().parents[2]
# name: (MMAction2 config, our example, frames, spatial size or None for --size)
MODELS = {
    "i3d_r50_32x2x1": ("i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py",
                       "i3d_r50_32x2x1_100e_kinetics400_rgb.toml", 8, None),
    "slowonly_r50_4x16x1": ("slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py",
                            "slowonly_r50_4x16x1_256e_kinetics400_rgb.toml", 4, None),
    "r2plus1d_r34_8x8x1": ("r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py",
                           "r2plus1d_r34_8x8x1_180e_kinetics400_rgb.toml", 8, None),
    "ircsn_r152_32x2x1": ("csn/ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb.py",
                          "ircsn_r152_32x2x1_58e_kinetics400_rgb.toml", 8, None),
    "c3d_16x1x1": ("c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py",
                   "c3d_sports1m_16x1x1_45e_ucf101_rgb.toml", 16, 112),
}


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_theirs(config_name: str) -> nn.Module:
    import mmaction
    from mmengine import Config
    from mmaction.registry import MODELS as REGISTRY

    path = Path(mmaction.__file__).parent / ".mim" / "configs" / "recognition" / config_name
    config = Config.fromfile(str(path)).model
    config.backbone.pretrained = None
    if "pretrained2d" in config.backbone:
        config.backbone.pretrained2d = False
    if (config.backbone.get("norm_cfg") or {}).get("type") == "SyncBN":
        config.backbone.norm_cfg.type = "BN3d"
    model = REGISTRY.build(config)
    model.init_weights()
    return model


def build_ours(example: str) -> nn.Module:
    return actioncore.build_model(actioncore.load_config(ROOT / "examples" / "recognition" / example).model)


@torch.no_grad()
def randomise(model: nn.Module, seed: int) -> None:
    """Fan-in scaled convolutions and linears, BatchNorms with non-trivial statistics."""
    g = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, (nn.Conv3d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.copy_(torch.randn(module.weight.shape, generator=g) * math.sqrt(1.0 / fan_in))
            if module.bias is not None:
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.weight.copy_(0.5 + 0.5 * torch.rand(module.weight.shape, generator=g))
            module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))
            module.running_mean.copy_(0.1 * torch.randn(module.running_mean.shape, generator=g))
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))


def check(name: str, args: argparse.Namespace) -> dict:
    config_name, example, frames, size = MODELS[name]
    size = size or args.size
    theirs, ours = build_theirs(config_name), build_ours(example)
    result: dict = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
    randomise(theirs, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mmaction2.pth"
        torch.save({"state_dict": theirs.state_dict(), "meta": {}}, path)
        state = convert_state(ours, mmaction2_weights(path))
    load_into(ours, state, path)  # strict: every key and shape
    theirs.eval()
    ours.eval()
    x = torch.randn(args.videos, args.views, 3, frames, size, size)
    with torch.no_grad():
        their_features = theirs.backbone(x.flatten(0, 1))
        their_scores = theirs.cls_head(their_features)
        our_features = ours.features(x.flatten(0, 1))
        our_scores = ours.head(our_features)
        their_probs = their_scores.view(args.videos, args.views, -1).softmax(-1).mean(1)
        our_probs = ours(x)
    result |= {
        "input": list(x.shape),
        "converted_tensors": len(state),
        "feature_max_abs_diff": (their_features - our_features).abs().max().item(),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--videos", type=int, default=1)
    parser.add_argument("--views", type=int, default=2)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(MODELS))
    args = parser.parse_args()

    from mmaction.utils import register_all_modules

    register_all_modules()
    torch.manual_seed(args.seed)
    summary: dict[str, dict] = {}
    ok = True
    for name in [args.only] if args.only else MODELS:
        result = check(name, args)
        ok &= result["mmaction2_parameters"] == result["actioncore_parameters"]
        ok &= result["logits_max_abs_diff"] < args.atol
        summary[name] = result
        print(name, json.dumps(result), file=sys.stderr, flush=True)
    print(json.dumps({"ok": ok, **summary}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
