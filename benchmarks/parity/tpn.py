"""Parity of actioncore-tpn with MMAction2 1.2.0: TPN on TSM-R50 and on SlowOnly-R50 (run by hand).

For each model: build MMAction2's recognizer from its own config (no ImageNet download),
randomise its weights (fan-in scaled convolutions and linears, BatchNorms with non-trivial
statistics), convert its state dict with our code path (``actioncore convert mmaction2``) into
the model of our example experiment, load it strictly, and compare in eval mode on one random
batch: the neck's output, the class logits (MMAction2's ``extract_feat(stage="head")``: the
neck, then ``TPNHead`` with ``num_segs = 1``), the view-averaged probabilities, and the
auxiliary head's logits on the second-highest backbone level (what ``loss_aux`` is computed from).

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/tpn.py [--size 224] [--only tpn_tsm]

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

MODELS = {  # name: (MMAction2 config under configs/recognition/tpn, our example, 2D)
    "tpn_tsm": ("tpn-tsm_imagenet-pretrained-r50_8xb8-1x1x8-150e_sthv1-rgb.py",
                "tpn_tsm_r50_1x1x8_150e_sthv1_rgb.toml", True),
    "tpn_slowonly": ("tpn-slowonly_imagenet-pretrained-r50_8xb8-8x8x1-150e_kinetics400-rgb.py",
                     "tpn_slowonly_r50_8x8x1_150e_kinetics400_rgb.toml", False),
}


def check(name: str, args: argparse.Namespace) -> dict:
    config, example, is_2d = MODELS[name]
    theirs = build_mmaction2(f"recognition/tpn/{config}")
    ours = build_ours(f"tpn/{example}")
    result: dict = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
    randomise(theirs, args.seed)
    result["converted_tensors"] = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    if is_2d:  # [videos, views x 8 frames, C, H, W]
        x = torch.randn(args.videos, args.views * 8, 3, args.size, args.size)
        frames = x.flatten(0, 1)
    else:      # [videos, views, C, 8, H, W]
        x = torch.randn(args.videos, args.views, 3, 8, args.size, args.size)
        frames = x.flatten(0, 1)
    with torch.no_grad():
        if is_2d:
            their_neck, _ = theirs.extract_feat(x.view(-1, 8, *x.shape[2:]), stage="neck")
            their_scores, _ = theirs.extract_feat(x.view(-1, 8, *x.shape[2:]), stage="head")
            their_levels = [lvl.reshape(-1, 8, *lvl.shape[1:]).transpose(1, 2) for lvl in theirs.backbone(frames)]
            our_neck = ours.features(frames, segments=8)
        else:
            their_neck, _ = theirs.extract_feat(x, stage="neck")
            their_scores, _ = theirs.extract_feat(x, stage="head")
            their_levels = theirs.backbone(frames)
            our_neck = ours.features(frames)
        our_scores = ours.head(our_neck)
        their_aux = theirs.neck.aux_head(their_levels[-2])
        our_aux = ours.neck.aux_head(their_levels[-2])
        their_probs = their_scores.view(args.videos, args.views, -1).softmax(-1).mean(1)
        our_probs = ours(x)
    their_neck = their_neck.reshape(our_neck.shape)  # MMAction2's 2D path squeezes the neck's t = 1
    return result | {
        "input": list(x.shape),
        "neck_max_abs_diff": (their_neck - our_neck).abs().max().item(),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
        "aux_logits_max_abs_diff": (their_aux - our_aux).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], MODELS)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--views", type=int, default=2)
    args = parser.parse_args()
    return run_parity(MODELS, args, lambda name: check(name, args))


if __name__ == "__main__":
    sys.exit(main())
