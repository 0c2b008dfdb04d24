"""Parity of actioncore-tsm with MMAction2 1.2.0: TSM, TIN, TANet, TRN (run by hand, not in CI).

For each model: build MMAction2's recognizer from its own config, randomise it (BatchNorm
statistics and affine parameters, classifier weights, so that outputs are far from trivial),
save its state dict, convert it with our code path (``actioncore.sdk.weights.convert_state`` on the
model built from our example experiment), load strictly, and compare the class scores of both on
the same normalised input in eval mode. Prints counts and the largest absolute differences.

    PYTHONPATH=/tmp/peers /work/venvs/ac/bin/python benchmarks/parity/tsm_family.py [--size 224]

MMAction2's TIN calls ``mmcv.ops.tin_shift``, a CUDA kernel that mmcv-lite does not ship; this
script installs in its place a loop-by-loop port of that kernel (``out[t + s] = in[t]``), written
independently of actioncore-tsm's interpolation matrix, so that MMAction2's own TIN code runs.
TRN samples relation tuples with ``numpy.random`` at every call; NumPy is seeded identically before
each model's forward. ``--float64`` compares in double precision, to tell rounding from real
differences (not for TIN: MMAction2's TemporalInterlace allocates a float32 output).
"""
from __future__ import annotations

import argparse
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mmaction2_peer import build_mmaction2, build_ours, convert_into, count  # noqa: E402

MODELS = {  # name: (MMAction2 config, our example)
    "tsm": ("recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py",
            "tsm_r50_1x1x8_50e_kinetics400_rgb.toml"),
    "tin": ("recognition/tin/tin_imagenet-pretrained-r50_8xb6-1x1x8-40e_sthv2-rgb.py",
            "tin_r50_1x1x8_40e_sthv2_rgb.toml"),
    "tanet": ("recognition/tanet/tanet_imagenet-pretrained-r50_8xb8-dense-1x1x8-100e_kinetics400-rgb.py",
              "tanet_r50_dense_1x1x8_100e_kinetics400_rgb.toml"),
    "trn": ("recognition/trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py",
            "trn_r50_1x1x8_50e_sthv2_rgb.toml"),
}
NL_FLAGS = "model.backbone.non_local=[[0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0, 1, 0], [0, 0, 0]]"
NL_CFG = ("model.backbone.non_local_cfg={{sub_sample = true, use_scale = false, "
          "norm_cfg = {{type = \"BN3d\", requires_grad = true}}, mode = \"{}\"}}")
for _mode, _file in [("embedded_gaussian", "embedded-gaussian"), ("dot_product", "dot-product"),
                     ("gaussian", "gaussian")]:
    MODELS[f"tsm_nl_{_mode}"] = (
        f"recognition/tsm/tsm_imagenet-pretrained-r50-nl-{_file}_8xb16-1x1x8-50e_kinetics400-rgb.py",
        "tsm_r50_1x1x8_50e_kinetics400_rgb.toml", [NL_FLAGS, NL_CFG.format(_mode)])


def reference_tin_shift(data: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """mmcv's tin_shift kernel, loop for loop: ``data`` [N, T, C, HW], ``shift`` [N, G] int."""
    n, t, c, _ = data.shape
    group_channel = c // shift.shape[1]
    out = torch.zeros_like(data)
    for i in range(n):
        for g in range(shift.shape[1]):
            s = int(shift[i, g])
            channels = slice(g * group_channel, (g + 1) * group_channel)
            for src in range(t):
                dst = src + s
                if 0 <= dst < t:
                    out[i, dst, channels] = data[i, src, channels]
    return out


def install_tin_shift() -> None:
    ops = types.ModuleType("mmcv.ops")
    ops.tin_shift = reference_tin_shift
    sys.modules["mmcv.ops"] = ops


def randomise(model: nn.Module, calibration: torch.Tensor, seed: int = 0) -> None:
    """Random BatchNorm affine parameters, then statistics measured on ``calibration`` clips.

    Measured statistics keep eval-mode activations at a sane scale through 50 layers, so that
    an absolute tolerance on the scores means something.
    """
    gen = torch.Generator().manual_seed(seed)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in norms:
            m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
            m.reset_running_stats()
            m.momentum = None                        # cumulative average over the calibration
        for m in model.modules():                    # train mode everywhere, partial BN included
            m.training = True
        model.extract_feat(calibration, stage="head")
        model.eval()
        for m in norms:
            m.momentum = 0.1
        head = model.cls_head
        head.fc_cls.weight.copy_(torch.randn(head.fc_cls.weight.shape, generator=gen) * 0.02)
        head.fc_cls.bias.copy_(torch.randn(head.fc_cls.bias.shape, generator=gen) * 0.1)


def compare(name: str, size: int, batch: int, dtype: torch.dtype = torch.float32) -> dict:
    config, example, *overrides = MODELS[name]
    torch.manual_seed(0)
    theirs = build_mmaction2(config)
    segments = theirs.cls_head.num_segments
    x = torch.randn(batch, segments, 3, size, size, generator=torch.Generator().manual_seed(1))
    np.random.seed(0)
    randomise(theirs, torch.randn(batch, segments, 3, size, size, generator=torch.Generator().manual_seed(2)))
    with torch.no_grad():  # random non-local blocks make near-one-hot softmaxes that amplify rounding
        for module_name, module in theirs.named_modules():
            if module_name.endswith("non_local_block.conv_out"):
                module.bn.weight.mul_(0.05)
    model = build_ours(f"recognition/{example}", overrides[0] if overrides else [])
    converted = convert_into(model, theirs)
    theirs.eval().to(dtype)
    model.eval().to(dtype)
    x = x.to(dtype)
    with torch.no_grad():
        np.random.seed(0)
        mm_scores = theirs.extract_feat(x, stage="head")[0]
        np.random.seed(0)
        our_scores = model.head(model.features(x.flatten(0, 1)), num_segs=segments)
        np.random.seed(0)
        our_probs = model(x)                         # eval: softmax over classes ("prob" averaging)
        np.random.seed(0)
        mm_probs = theirs.extract_feat(x, stage="head")[0].softmax(-1)
    return {
        "model": name,
        "mmaction2_parameters": count(theirs),
        "our_parameters": count(model),
        "keys": converted,
        "score_scale": mm_scores.abs().max().item(),
        "max_abs_diff_scores": (mm_scores - our_scores).abs().max().item(),
        "max_abs_diff_probs": (mm_probs - our_probs).abs().max().item(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--float64", action="store_true",
                        help="compare in double precision (tells rounding from real differences)")
    parser.add_argument("models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    install_tin_shift()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    ok = True
    for name in args.models:
        row = compare(name, args.size, args.batch, torch.float64 if args.float64 else torch.float32)
        passed = row["max_abs_diff_scores"] < 1e-4 and row["mmaction2_parameters"] == row["our_parameters"]
        ok &= passed
        print(("PASS " if passed else "FAIL ") + "  ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
