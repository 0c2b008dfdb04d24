"""Check UniFormerV2 against MMAction2 1.2.0: parameter counts, checkpoint conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency):

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/uniformerv2.py

For MMAction2's Kinetics-400 UniFormerV2 configs (ViT-B/16 224 px 8 frames; ViT-L/14 224 px 8
frames; ViT-L/14 336 px 32 frames) and the ViT-B one with local MHRA switched on (both sides;
MMAction2's released configs switch it off) it

1. counts the parameters of MMAction2's full-size recognizer and of ours (the example
   ``uniformerv2_base_p16_res224_clip_kinetics710_pre_u8_kinetics400.toml`` with the config's
   backbone keys as overrides);
2. builds both with a 4x4 patch grid and 4 frames (full width and depth), gives every MMAction2
   parameter and BatchNorm statistic random values (the zero-initialised projections too), converts
   its state dict with our converter, loads it strictly and compares the class scores of one
   random batch in eval mode;
3. checks that the comparison can fail: a small change of ``transformer.balance`` must show.

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

EXAMPLE = "uniformerv2_base_p16_res224_clip_kinetics710_pre_u8_kinetics400.toml"
FOLDER = "recognition/uniformerv2/"
CONFIGS = {
    "base-p16-res224-u8": "uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py",
    "large-p14-res224-u8": "uniformerv2-large-p14-res224_clip-kinetics710-pre_u8_kinetics400-rgb.py",
    "large-p14-res336-u32": "uniformerv2-large-p14-res336_clip-kinetics710-pre_u32_kinetics400-rgb.py",
    "base-p16-res224-u8-lmhra": "uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py",
}
KEYS = ("input_resolution", "patch_size", "width", "layers", "heads", "t_size", "dw_reduction",
        "temporal_downsample", "no_lmhra", "double_lmhra", "return_list", "n_layers", "n_dim", "n_head",
        "mlp_factor", "mlp_dropout")


def toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return repr(value)


def backbone_config(name: str, shrink: bool):
    from mmaction2_peer import mmaction2_config

    config = mmaction2_config(FOLDER + CONFIGS[name])
    backbone = dict(config.backbone)
    if name.endswith("lmhra"):
        backbone["no_lmhra"] = False
    if shrink:
        backbone["input_resolution"] = 4 * backbone["patch_size"]
        backbone["t_size"] = 4
    return backbone, config.cls_head


def theirs(name: str, *, shrink: bool) -> nn.Module:
    backbone, _ = backbone_config(name, shrink)

    def edit(config) -> None:
        config.backbone.update({k: backbone[k] for k in ("input_resolution", "t_size", "no_lmhra")})
        config.backbone.init_cfg = None
        config.backbone.clip_pretrained = False  # no CLIP download: the weights are random anyway
        config.cls_head.pop("init_cfg", None)
        config.cls_head.pop("channel_map", None)

    return build_mmaction2(FOLDER + CONFIGS[name], edit, initialise=False)  # randomised anyway


def ours(name: str, *, shrink: bool) -> nn.Module:
    backbone, head = backbone_config(name, shrink)
    overrides = [f"model.backbone.{k}={toml(backbone[k])}" for k in KEYS if k in backbone]
    overrides += [f"model.head.in_channels={head['in_channels']}", f"model.head.num_classes={head['num_classes']}"]
    return build_ours(EXAMPLE, overrides)


def check(name: str, args) -> dict:
    full_theirs = theirs(name, shrink=False)  # on the CPU: MMAction2's constructor calls .item()
    with torch.device("meta"):
        full_ours = ours(name, shrink=False)
    result = {"mmaction2_parameters": count(full_theirs), "actioncore_parameters": count(full_ours)}
    del full_theirs, full_ours
    mm, ac = theirs(name, shrink=True), ours(name, shrink=True)
    randomise_parameters(mm, args.seed)
    convert_into(ac, mm)
    mm.eval()
    ac.eval()
    size = ac.backbone.input_resolution
    x = torch.randn(args.videos, 3, 4, size, size)
    with torch.no_grad():
        their_scores = mm.cls_head(mm.backbone(x))
        our_scores = ac.head(ac.features(x))
        ac.backbone.transformer.balance.add_(0.05 * torch.randn_like(ac.backbone.transformer.balance))
        perturbed = (their_scores - ac.head(ac.features(x))).abs().max().item()
    return result | {
        "shrunk": {"input_resolution": size, "frames": 4},
        "logits_max_abs_diff": (their_scores - our_scores).abs().max().item(),
        "logit_scale": their_scores.abs().max().item(),
        "perturbed_logits_max_abs_diff": perturbed,
    }


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], CONFIGS)
    parser.add_argument("--videos", type=int, default=2)
    args = parser.parse_args()

    def passed(r: dict) -> bool:
        return (r["mmaction2_parameters"] == r["actioncore_parameters"] and r["logits_max_abs_diff"] < args.atol
                and r["perturbed_logits_max_abs_diff"] > args.atol)

    return run_parity(CONFIGS, args, lambda name: check(name, args), passed)


if __name__ == "__main__":
    sys.exit(main())
