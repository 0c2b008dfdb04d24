"""Check VideoMAE (V1/V2) against MMAction2 1.2.0: parameter counts, checkpoint conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/videomae.py

For each of MMAction2's four Kinetics-400 VideoMAE configs (V1 ViT-B and ViT-L, V2 ViT-S and
ViT-B distilled from ViT-g) it

1. counts the parameters of MMAction2's full-size recognizer and of ours, built from
   ``plugins/backbones/videomae/actioncore_videomae/examples/vit_base_p16_videomae_k400_pre_16x4x1_kinetics400.toml``
   with the width/depth overrides of its header, both on the meta device;
2. builds both at a reduced input (``--img-size``, ``--frames``; the transformer itself stays
   full width and depth), gives every MMAction2 parameter random values (also the q/v biases and
   LayerNorms, zero or one at initialisation), saves the state dict, converts it with our
   converter, loads it strictly and compares the class scores of one random batch in eval mode;
   once more at another frame size than the position table's (its bicubic resize);
3. checks that the comparison can fail: a small change of one block's ``q_bias`` must show.

Prints a JSON summary; exits 1 if a count differs or a difference exceeds ``--atol``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (  # noqa: E402
    build_mmaction2, build_ours, convert_into, count, parity_arguments, randomise_parameters, run_parity)

EXAMPLE = "vit_base_p16_videomae_k400_pre_16x4x1_kinetics400.toml"
SIZES = {  # embed_dims, depth, num_heads, as the configs set them
    "videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py": (768, 12, 12),
    "videomae/vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400.py": (1024, 24, 16),
    "videomaev2/vit-small-p16_videomaev2-vit-g-dist-k710-pre_16x4x1_kinetics-400.py": (384, 12, 6),
    "videomaev2/vit-base-p16_videomaev2-vit-g-dist-k710-pre_16x4x1_kinetics-400.py": (768, 12, 12),
}


def theirs(config: str, img_size: int | None = None, frames: int | None = None, *, initialise: bool = True) -> nn.Module:
    def shrink(c) -> None:
        if img_size is not None:
            c.backbone.img_size = img_size
        if frames is not None:
            c.backbone.num_frames = frames

    return build_mmaction2(f"recognition/{config}", shrink, initialise=initialise)


def ours(config: str, img_size: int | None = None, frames: int | None = None) -> nn.Module:
    dims, depth, heads = SIZES[config]
    overrides = [f"model.backbone.embed_dims={dims}", f"model.backbone.depth={depth}",
                 f"model.backbone.num_heads={heads}", f"model.head.in_channels={dims}"]
    if img_size is not None:
        overrides.append(f"model.backbone.img_size={img_size}")
    if frames is not None:
        overrides.append(f"model.backbone.num_frames={frames}")
    return build_ours(EXAMPLE, overrides)


def scores(model: nn.Module, x: torch.Tensor, *, mmaction2: bool) -> torch.Tensor:
    with torch.no_grad():
        if mmaction2:
            return model.cls_head(model.backbone(x))
        return model.head(model.features(x))


def check(config: str, args) -> dict:
    full_theirs = theirs(config, initialise=False)  # on the CPU: MMAction2's constructor calls .item()
    with torch.device("meta"):
        full_ours = ours(config)
    result = {"mmaction2_parameters": count(full_theirs), "actioncore_parameters": count(full_ours)}
    del full_theirs, full_ours
    mm, ac = theirs(config, args.img_size, args.frames), ours(config, args.img_size, args.frames)
    randomise_parameters(mm, args.seed)
    convert_into(ac, mm)
    mm.eval()
    ac.eval()
    x = torch.randn(args.videos, 3, args.frames, args.img_size, args.img_size)
    their_scores, our_scores = scores(mm, x, mmaction2=True), scores(ac, x, mmaction2=False)
    other = torch.randn(1, 3, args.frames, args.img_size + 32, args.img_size + 32)  # resized position table
    resized = (scores(mm, other, mmaction2=True) - scores(ac, other, mmaction2=False)).abs().max().item()
    with torch.no_grad():
        ac.backbone.blocks[0].attn.q_bias.add_(0.05 * torch.randn_like(ac.backbone.blocks[0].attn.q_bias))
    perturbed = (their_scores - scores(ac, x, mmaction2=False)).abs().max().item()
    return result | {
        "shrunk": {"img_size": args.img_size, "frames": args.frames},
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "resized_input_logits_max_abs_diff": resized,
        "logit_scale": their_scores.abs().max().item(),
        "perturbed_logits_max_abs_diff": perturbed,
    }


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], SIZES)
    parser.add_argument("--img-size", type=int, default=64)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--videos", type=int, default=2)
    args = parser.parse_args()

    def passed(r: dict) -> bool:
        return (r["mmaction2_parameters"] == r["actioncore_parameters"] and r["logits_max_abs_diff"] < args.atol
                and r["resized_input_logits_max_abs_diff"] < args.atol and r["perturbed_logits_max_abs_diff"] > args.atol)

    return run_parity(SIZES, args, lambda config: check(config, args), passed)


if __name__ == "__main__":
    sys.exit(main())
