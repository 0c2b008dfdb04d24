"""Check TimeSformer against MMAction2 1.2.0: parameter counts, checkpoint conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/timesformer.py

For each of MMAction2's three Kinetics-400 TimeSformer configs (``divST``, ``jointST``,
``spaceOnly``, 8x32x1, ViT-B/16) it

1. counts the parameters of MMAction2's full-size recognizer and of ours built from
   ``plugins/backbones/timesformer/actioncore_timesformer/examples/timesformer_divST_8x32x1_15e_kinetics400_rgb.toml`` (with
   ``attention_type`` overridden), both on the meta device;
2. builds both at a reduced input size (``--img-size``, ``--frames``, same in both; the
   transformer itself stays ViT-B/16), gives every MMAction2 parameter random values (so that
   the zero-initialised ``temporal_fc`` and ``time_embed`` matter), saves the state dict,
   converts it with :func:`actioncore.sdk.weights.convert_state`, loads it strictly into ours and
   compares the class scores of one random batch in eval mode.

Prints a JSON summary; exits 1 if a count differs or a difference exceeds ``--atol``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import build_mmaction2, convert_into, count, example_path  # noqa: E402
from mmaction2_peer import build_ours as peer_build_ours  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = example_path("timesformer_divST_8x32x1_15e_kinetics400_rgb.toml")
CONFIGS = {
    "divided_space_time": "timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py",
    "joint_space_time": "timesformer_jointST_8xb8-8x32x1-15e_kinetics400-rgb.py",
    "space_only": "timesformer_spaceOnly_8xb8-8x32x1-15e_kinetics400-rgb.py",
}


def build_theirs(attention_type: str, img_size: int | None = None, frames: int | None = None, *,
                 initialise: bool = True) -> nn.Module:
    def shrink(config) -> None:
        if img_size is not None:
            config.backbone.img_size = img_size
        if frames is not None:
            config.backbone.num_frames = frames

    return build_mmaction2(f"recognition/timesformer/{CONFIGS[attention_type]}", shrink, initialise=initialise)


def build_ours(attention_type: str, img_size: int | None = None, frames: int | None = None) -> nn.Module:
    overrides = [f'model.backbone.attention_type="{attention_type}"']
    if img_size is not None:
        overrides.append(f"model.backbone.img_size={img_size}")
    if frames is not None:
        overrides.append(f"model.backbone.num_frames={frames}")
    return peer_build_ours(EXAMPLE, overrides)


@torch.no_grad()
def randomise(model: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        noise = torch.randn(p.shape, generator=g)
        if name.endswith("norm.weight") or (".norms." in name and name.endswith("weight")):
            p.copy_(1 + 0.1 * noise)
        else:
            p.copy_(0.02 * noise)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--img-size", type=int, default=64)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    summary: dict[str, dict] = {}
    ok = True
    for attention_type in CONFIGS:
        with torch.device("meta"):
            theirs_full = build_theirs(attention_type, initialise=False)
            ours_full = build_ours(attention_type)
        result = {"mmaction2_parameters": count(theirs_full),
                  "actioncore_parameters": count(ours_full)}
        del theirs_full, ours_full
        shrink = {"img_size": args.img_size, "frames": args.frames}
        theirs, ours = build_theirs(attention_type, **shrink), build_ours(attention_type, **shrink)
        randomise(theirs, args.seed)
        convert_into(ours, theirs)
        theirs.eval()
        ours.eval()
        x = torch.randn(args.videos, 1, 3, args.frames, args.img_size, args.img_size)
        with torch.no_grad():
            their_features = theirs.backbone(x.flatten(0, 1))
            their_scores = theirs.cls_head(their_features)
            our_features = ours.features(x.flatten(0, 1))
            our_scores = ours.head(our_features)
            their_probs = their_scores.softmax(-1)
            our_probs = ours(x)
            # sensitivity: a random change of the embeddings (a constant one LayerNorm would remove)
            # must show, or the comparison proves nothing
            extra = "time_embed" if attention_type != "space_only" else "pos_embed"
            embed = getattr(ours.backbone, extra)
            embed[..., 1:, :] += 0.05 * torch.randn_like(embed[..., 1:, :])
            perturbed = ours.head(ours.features(x.flatten(0, 1)))
        result |= {
            "shrunk": shrink,
            "feature_max_abs_diff": (their_features - our_features).abs().max().item(),
            "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
            "averaged_prob_max_abs_diff": (their_probs - our_probs).abs().max().item(),
            "logit_scale": their_scores.abs().max().item(),
            "perturbed_logits_max_abs_diff": (their_scores - perturbed).abs().max().item(),
        }
        ok &= result["mmaction2_parameters"] == result["actioncore_parameters"]
        ok &= result["logits_max_abs_diff"] < args.atol
        ok &= result["perturbed_logits_max_abs_diff"] > args.atol
        summary[attention_type] = result
        print(attention_type, json.dumps(result), file=sys.stderr, flush=True)
    print(json.dumps({"ok": ok, **summary}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
