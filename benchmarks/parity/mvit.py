"""Check MViT v2 against MMAction2 1.2.0: parameter counts, checkpoint conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency)::

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/mvit.py

For MMAction2's Kinetics-400 MViT configs (small 16x4x1, base 32x3x1, large 40x3x1 at 312 px,
and the MaskFeat-pretrained small, whose MLPs widen instead of its attention) it counts the
parameters of MMAction2's full-size recognizer and of ours built from the matching example, both
on the meta device. Then both are built for smaller clips (``--frames`` x ``--size``, default
8 x 64 px; the relative-position tables are sized for them), every MMAction2 parameter gets
random values (:func:`randomise_transformer`), the state dict is converted with
``actioncore.sdk.weights.convert_state`` and loaded strictly into ours, and the class scores of
random clips are compared in eval mode. Prints a JSON summary; exits 1 if a count differs or a
difference exceeds ``--atol``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, compare_recognizers, convert_into, count,  # noqa: E402
                            parity_arguments, randomise_transformer, run_parity)

CONFIGS = {
    "small": ("mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py", "mvit_small_p244_16x4x1_200e_kinetics400_rgb.toml"),
    "base": ("mvit-base-p244_32x3x1_kinetics400-rgb.py", "mvit_base_p244_32x3x1_kinetics400_rgb.toml"),
    "large": ("mvit-large-p244_40x3x1_kinetics400-rgb.py", "mvit_large_p244_40x3x1_kinetics400_rgb.toml"),
    "small-maskfeat": ("mvit-small-p244_k400-maskfeat-pre_8xb32-16x4x1-100e_kinetics400-rgb.py",
                       "mvit_small_p244_k400_maskfeat_pre_16x4x1_100e_kinetics400_rgb.toml"),
}


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], CONFIGS)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--videos", type=int, default=2)
    args = parser.parse_args()

    def check(name: str) -> dict:
        config, example = CONFIGS[name]
        config = f"recognition/mvit/{config}"

        def drop_pretrained(cfg) -> None:  # the MaskFeat file is a download; the weights are random anyway
            cfg.backbone.pop("pretrained_type", None)

        def shrink(cfg) -> None:
            drop_pretrained(cfg)
            cfg.backbone.spatial_size, cfg.backbone.temporal_size = args.size, args.frames

        with torch.device("meta"):
            result = {"actioncore_parameters": count(build_ours(Path(example)))}
        # not on meta: MMAction2's mixup builds a Beta distribution that checks its values
        result["mmaction2_parameters"] = count(build_mmaction2(config, drop_pretrained, initialise=False))
        theirs = build_mmaction2(config, shrink)
        ours = build_ours(Path(example), [f"model.backbone.spatial_size={args.size}",
                                          f"model.backbone.temporal_size={args.frames}"])
        randomise_transformer(theirs, args.seed)
        result["tensors_converted"] = convert_into(ours, theirs)
        clips = torch.randn(args.videos, 3, args.frames, args.size, args.size)
        return result | compare_recognizers(theirs, ours, clips)

    return run_parity(CONFIGS, args, check)


if __name__ == "__main__":
    sys.exit(main())
