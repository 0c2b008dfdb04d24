"""Check SlowFast R50 and X3D-M against MMAction2 1.2.0: parameter counts, conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/slowfast_x3d.py

For MMAction2's ``slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb`` and
``x3d_m_16x5x1_facebook-kinetics400-rgb`` it

1. counts the parameters of MMAction2's full-size recognizer and of ours built from
   ``examples/recognition/{slowfast_r50_4x16x1_256e,x3d_m_16x5x1_facebook}_kinetics400_rgb.toml``;
2. gives every MMAction2 parameter and BatchNorm statistic random values (so that zero-initialised
   residual BatchNorms matter), saves the recognizer's state dict as a checkpoint, converts it
   with :func:`actioncore.convert.convert_state`, loads it strictly into ours (the full-size
   model: every key and shape must match) and compares, in eval mode on a small spatial input
   (``--size``), the backbone features, the per-view logits and the view-averaged
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
MODELS = {
    "slowfast_r50_4x16x1": ("slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py",
                            "slowfast_r50_4x16x1_256e_kinetics400_rgb.toml", 32),
    "x3d_m_16x5x1": ("x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py",
                     "x3d_m_16x5x1_facebook_kinetics400_rgb.toml", 16),
}


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_theirs(config_name: str) -> nn.Module:
    import mmaction
    from mmengine import Config
    from mmaction.registry import MODELS as REGISTRY

    path = Path(mmaction.__file__).parent / ".mim" / "configs" / "recognition" / config_name
    model = REGISTRY.build(Config.fromfile(str(path)).model)
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
        elif isinstance(module, nn.BatchNorm3d):
            module.weight.copy_(0.5 + 0.5 * torch.rand(module.weight.shape, generator=g))
            module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=g))
            module.running_mean.copy_(0.1 * torch.randn(module.running_mean.shape, generator=g))
            module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g))


def check(name: str, args: argparse.Namespace) -> dict:
    config_name, example, frames = MODELS[name]
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
    x = torch.randn(args.videos, args.views, 3, frames, args.size, args.size)
    with torch.no_grad():
        their_features = theirs.backbone(x.flatten(0, 1))
        their_scores = theirs.cls_head(their_features)
        our_features = ours.features(x.flatten(0, 1))
        our_scores = ours.head(our_features)
        their_probs = their_scores.view(args.videos, args.views, -1).softmax(-1).mean(1)
        our_probs = ours(x)
    if isinstance(their_features, torch.Tensor):
        their_features, our_features = (their_features,), (our_features,)
    result |= {
        "input": list(x.shape),
        "converted_tensors": len(state),
        "feature_max_abs_diff": max((a - b).abs().max().item()
                                    for a, b in zip(their_features, our_features)),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--videos", type=int, default=2)
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
