"""Check the 3D recognizers against MMAction2 1.2.0: parameter counts, conversion, logits.

I3D, SlowOnly, R(2+1)D, ir-CSN, C3D (actioncore-resnet3d), SlowFast (actioncore-slowfast) and
X3D (actioncore-x3d). A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/recognizers3d.py [--only NAME]

For each MMAction2 config below it

1. counts the parameters of MMAction2's full-size recognizer (random init; pretrained weights
   off, R(2+1)D's SyncBN as BN3d with the same eps, see ``benchmarks/mmaction2_peer.py``) and of
   ours built from the matching example in ``examples/recognition/``;
2. gives every MMAction2 parameter and BatchNorm statistic random values (so that zero-initialised
   residual BatchNorms matter), saves the recognizer's state dict as a checkpoint, converts it
   with our ``actioncore convert mmaction2`` code path, loads it strictly into ours (every key and
   shape must match) and compares, in eval mode on a small spatial input (``--size``; C3D needs
   its 16 x 112 x 112 clip), the backbone features, the per-view logits and the view-averaged
   probabilities of one random batch.

Prints a JSON summary; exits 1 if a count differs or a logit difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, convert_into, count, parity_arguments,  # noqa: E402
                            randomise, run_parity)

MODELS = {  # name: (MMAction2 config under configs/recognition, our example, frames, fixed side)
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
    "slowfast_r50_4x16x1": ("slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py",
                            "slowfast_r50_4x16x1_256e_kinetics400_rgb.toml", 32, None),
    "x3d_m_16x5x1": ("x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py",
                     "x3d_m_16x5x1_facebook_kinetics400_rgb.toml", 16, None),
}


def check(name: str, args: argparse.Namespace) -> dict:
    config, example, frames, side = MODELS[name]
    theirs = build_mmaction2(f"recognition/{config}")
    ours = build_ours(f"recognition/{example}")
    result: dict = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
    randomise(theirs, args.seed)
    result["converted_tensors"] = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    side = side or args.size
    x = torch.randn(args.videos, args.views, 3, frames, side, side)
    with torch.no_grad():
        their_features = theirs.backbone(x.flatten(0, 1))
        their_scores = theirs.cls_head(their_features)
        our_features = ours.features(x.flatten(0, 1))
        our_scores = ours.head(our_features)
        their_probs = their_scores.view(args.videos, args.views, -1).softmax(-1).mean(1)
        our_probs = ours(x)
    if isinstance(their_features, torch.Tensor):  # SlowFast gives one map per pathway
        their_features, our_features = (their_features,), (our_features,)
    return result | {
        "input": list(x.shape),
        "feature_max_abs_diff": max((a - b).abs().max().item() for a, b in zip(their_features, our_features)),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], MODELS)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--views", type=int, default=2)
    args = parser.parse_args()
    return run_parity(MODELS, args, lambda name: check(name, args))

if __name__ == "__main__":
    sys.exit(main())
