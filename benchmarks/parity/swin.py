"""Check Video Swin against MMAction2 1.2.0: parameter counts, checkpoint conversion, logits.

A measuring stick run by hand, never by CI (MMAction2 is not a dependency)::

    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/parity/swin.py

For each of MMAction2's four Kinetics-400 Swin configs (tiny, small, base, large; patch 2x4x4,
window 8x7x7) it counts the parameters of MMAction2's full-size recognizer and of ours built from
the matching example (``plugins/backbones/swin/actioncore_swin/examples/``), then gives every
MMAction2 parameter random values (:func:`randomise_transformer`: no zero relative-position
table or unit LayerNorm hides a mistake), saves the state dict, converts it with
``actioncore.sdk.weights.convert_state``, loads it strictly into ours and compares the class
scores of random clips in eval mode. The clips (``--frames`` x ``--size``, default 8 x 64 px)
are smaller than the window in time and not a multiple of it in space, so the padding, the
shrunken windows and the shifted-window mask all take part. Prints a JSON summary; exits 1 if a
count differs or a difference exceeds ``--atol``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import (build_mmaction2, build_ours, compare_recognizers, convert_into, count,  # noqa: E402
                            parity_arguments, randomise_transformer, run_parity)

CONFIGS = {arch: f"recognition/swin/swin-{arch}-p244-w877_{pre}-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py"
           for arch, pre in (("tiny", "in1k"), ("small", "in1k"), ("base", "in1k"), ("large", "in22k"))}


def example(arch: str) -> Path:
    pre = "in22k" if arch == "large" else "in1k"
    return Path(f"swin_{arch}_p244_w877_{pre}_pre_32x2x1_30e_kinetics400_rgb.toml")


def main() -> int:
    parser = parity_arguments(__doc__.splitlines()[0], CONFIGS)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--videos", type=int, default=2)
    args = parser.parse_args()

    def check(arch: str) -> dict:
        theirs = build_mmaction2(CONFIGS[arch])  # its constructor reads tensor values: not on meta
        ours = build_ours(example(arch))
        result = {"mmaction2_parameters": count(theirs), "actioncore_parameters": count(ours)}
        randomise_transformer(theirs, args.seed)
        result["tensors_converted"] = convert_into(ours, theirs)
        clips = torch.randn(args.videos, 3, args.frames, args.size, args.size)
        return result | compare_recognizers(theirs, ours, clips)

    return run_parity(CONFIGS, args, check)


if __name__ == "__main__":
    sys.exit(main())
