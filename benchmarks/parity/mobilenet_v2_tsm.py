"""Parity of actioncore-tsm's MobileNetV2-TSM (and TSN on torchvision backbones) with MMAction2 1.2.0.

Run by hand, never by CI (MMAction2 is not a dependency)::

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/mobilenet_v2_tsm.py [--size 224] [--only NAME]

- ``tsm_mobilenetv2``: MMAction2's ``tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb``
  recognizer, randomised, converted with our code path into the model of our example and loaded
  strictly; the class logits (``extract_feat(stage="head")``) and view-averaged probabilities of one
  random batch compared in eval mode. Also: a plain ImageNet MobileNetV2 file loaded as ``pretrained``
  by both (MMAction2's ``load_original_weights`` maps the plain names into the shifted ones; ours
  also takes mmcls's own layout, ``backbone.*`` keys and a head) gives equal backbone state dicts.
- ``tsn_densenet161``: the same for MMAction2's ``torchvision.densenet161`` TSN config
  (``custom_backbones/tsn_imagenet-pretrained-dense161_...``) and our ``torchvision_2d`` example.

Prints a JSON summary; exits 1 if a count differs or a logit difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, convert_into, count, parity_arguments,  # noqa: E402
                            randomise, run_parity)

MODELS = {  # name: (MMAction2 config under configs/recognition, our example, frames per view)
    "tsm_mobilenetv2": ("tsm/tsm_imagenet-pretrained-mobilenetv2_8xb16-1x1x8-100e_kinetics400-rgb.py",
                        "tsm_mobilenetv2_1x1x8_100e_kinetics400_rgb.toml", 8),
    "tsn_densenet161": ("tsn/custom_backbones/tsn_imagenet-pretrained-dense161_8xb32-1x1x3-100e_kinetics400-rgb.py",
                        "tsn_torchvision_densenet161_1x1x3_100e_kinetics400_rgb.toml", 3),
}


def no_download(config) -> None:
    config.backbone.pop("pretrained", None)
    if config.backbone.type == "MobileNetV2TSM":
        config.backbone.pretrained2d = False


def pretrained_difference(seed: int) -> float:
    """Load one random plain MobileNetV2 through both ``pretrained`` paths; the largest difference
    between the backbones' state dicts. MMAction2 reads ``mmcls://mobilenet_v2`` through mmengine's
    mmcls loader, which strips ``backbone.`` and drops the head; it gets that bare file here, ours
    gets both the bare file and the mmcls layout."""
    from actioncore.sdk.weights import load_pretrained_files
    from actioncore_tsm import MobileNetV2, MobileNetV2TSM
    from mmaction.models import MobileNetV2TSM as TheirTSM

    plain = MobileNetV2()
    randomise(plain, seed + 1)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        bare, mmcls = Path(tmp) / "mobilenet_v2.pth", Path(tmp) / "mobilenet_v2_mmcls.pth"
        torch.save(plain.state_dict(), bare)
        torch.save({"state_dict": {f"backbone.{k}": v for k, v in plain.state_dict().items()}
                    | {"head.fc.weight": torch.zeros(1000, 1280), "head.fc.bias": torch.zeros(1000)}}, mmcls)
        theirs = TheirTSM(pretrained=str(bare), pretrained2d=True)
        theirs.init_weights()
        other = theirs.state_dict()
        for path in (bare, mmcls):
            mine = load_pretrained_files(MobileNetV2TSM(pretrained=str(path))).state_dict()
            if set(mine) != set(other):
                return float("inf")
            worst = max([worst] + [(mine[k].double() - other[k].double()).abs().max().item() for k in mine])
    return worst


def check(name: str, args: argparse.Namespace) -> dict:
    config, example, frames = MODELS[name]
    theirs = build_mmaction2(f"recognition/{config}", no_download)
    ours = build_ours(example)
    result: dict = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
    randomise(theirs, args.seed)
    result["converted_tensors"] = convert_into(ours, theirs)
    theirs.eval()
    ours.eval()
    x = torch.randn(args.videos, args.views * frames, 3, args.size, args.size)
    with torch.no_grad():
        their_scores, _ = theirs.extract_feat(x.view(-1, frames, *x.shape[2:]), stage="head")
        flat = x.view(-1, frames, *x.shape[2:]).flatten(0, 1)
        our_scores = ours.head(ours.features(flat), num_segs=frames)
        their_probs = their_scores.view(args.videos, args.views, -1).softmax(-1).mean(1)
        our_probs = ours(x.view(args.videos * args.views, frames, *x.shape[2:])).view(args.videos, args.views, -1).mean(1)
    result |= {
        "input": list(x.shape),
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
    }
    if name == "tsm_mobilenetv2":
        result["pretrained_state_max_abs_diff"] = pretrained_difference(args.seed)
    return result


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], MODELS)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--views", type=int, default=2)
    args = parser.parse_args()
    return run_parity(MODELS, args, lambda name: check(name, args),
                      lambda r: (r["mmaction2_parameters"] == r["actioncore_parameters"]
                                 and r["logits_max_abs_diff"] < args.atol
                                 and r.get("pretrained_state_max_abs_diff", 0.0) == 0.0))


if __name__ == "__main__":
    sys.exit(main())
