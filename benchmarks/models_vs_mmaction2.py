"""Model speed, actioncore vs MMAction2 1.2.0, same architecture, same input, one run.

    ../shared/peers/setup.sh /tmp/peers
    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/models_vs_mmaction2.py [--models tsn_r50 ...]
        [--batch 1] [--rounds 4] [--size N] [--threads N] [--clock wall|cpu] [--compile [infer]] [--amp] [--json]

For each model both toolboxes build the default config's network (random weights, no
pretrained files) and get the same input: the shape our train pipeline makes (batch
``--batch``; ``--size`` sets another spatial side, to time the big 3D models in less time). A training step (forward,
cross-entropy, backward) and an inference forward are timed for our default model, for ours
with convolution weights in channels-last layout (``runtime.channels_last``), and for
MMAction2's (with ``--compile`` also ours through ``torch.compile``, as ``runtime.compile`` runs it,
inference with frozen weights as in ``actioncore test``;
with ``--amp`` ours under bfloat16 autocast, as ``runtime.amp`` runs it on the CPU),
interleaved step by step so that a busy machine slows all of them alike; each
figure is the median over ``--rounds``. The ratio is our time over theirs: at most 1.0 means
we are no slower. MMAction2 is imported here only; never from the package or CI tests.
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mmaction2_peer import build_mmaction2, example_path  # noqa: E402

MODELS = {
    # name: (our example under examples/recognition, MMAction2 config under configs/recognition)
    "tsn_r50": ("tsn_r50_1x1x3_100e_kinetics400_rgb.toml",
                "tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py"),
    "tsm_r50": ("tsm_r50_1x1x8_50e_kinetics400_rgb.toml",
                "tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py"),
    "tanet_r50": ("tanet_r50_dense_1x1x8_100e_kinetics400_rgb.toml",
                  "tanet/tanet_imagenet-pretrained-r50_8xb8-dense-1x1x8-100e_kinetics400-rgb.py"),
    "trn_r50": ("trn_r50_1x1x8_50e_sthv2_rgb.toml",
                "trn/trn_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py"),
    "i3d_r50": ("i3d_r50_32x2x1_100e_kinetics400_rgb.toml",
                "i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py"),
    "slowonly_r50": ("slowonly_r50_4x16x1_256e_kinetics400_rgb.toml",
                     "slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py"),
    "r2plus1d_r34": ("r2plus1d_r34_8x8x1_180e_kinetics400_rgb.toml",
                     "r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py"),
    "ircsn_r152": ("ircsn_r152_32x2x1_58e_kinetics400_rgb.toml",
                   "csn/ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb.py"),
    "c3d": ("c3d_sports1m_16x1x1_45e_ucf101_rgb.toml",
            "c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py"),
    "slowfast_r50": ("slowfast_r50_4x16x1_256e_kinetics400_rgb.toml",
                     "slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py"),
    "x3d_m": ("x3d_m_16x5x1_facebook_kinetics400_rgb.toml",
              "x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py"),
    "timesformer_divst": ("timesformer_divST_8x32x1_15e_kinetics400_rgb.toml",
                          "timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py"),
    "swin_t": ("swin_tiny_p244_w877_in1k_pre_32x2x1_30e_kinetics400_rgb.toml",
               "swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py"),
    "mvit_s": ("mvit_small_p244_16x4x1_200e_kinetics400_rgb.toml",
               "mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py"),
    "videomae_b": ("vit_base_p16_videomae_k400_pre_16x4x1_kinetics400.toml",
                   "videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py"),
    "uniformerv2_b": ("uniformerv2_base_p16_res224_clip_kinetics710_pre_u8_kinetics400.toml",
                      "uniformerv2/uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py"),
}
FIXED_EMBEDDING = {MODELS["timesformer_divst"][0]}
"""Examples whose networks fix the input side (position embeddings): ``--size`` rebuilds them."""
RESIZABLE = {example for example, _ in MODELS.values()} - {MODELS[m][0] for m in ("c3d", "mvit_s", "videomae_b",
                                                                                   "uniformerv2_b")}
"""C3D's classifier is sized for its 112 x 112 input, already small; MViT's, VideoMAE's and
UniFormerV2's position tables fix theirs (timed at the config's size)."""
NOT_ON_CPU = {
    # MMAction2's TIN calls mmcv.ops.tin_shift, a CUDA kernel with no CPU build.
    "tin_r50": "MMAction2's TIN needs mmcv.ops.tin_shift (CUDA only); ours runs on CPU",
}


def our_model_and_input(example: str, batch: int, side: int | None):
    from actioncore.api import _task
    from actioncore.config import load_config
    from actioncore.engine.profile import example_batch, first_split
    from actioncore.plugin.host import current_host

    sized = side is not None and example in RESIZABLE
    overrides = [f"model.backbone.img_size={side}"] if sized and example in FIXED_EMBEDDING else []
    experiment = load_config(example_path(example), overrides)
    adapter = _task(experiment, "adapter").adapter(experiment)
    data = example_batch(experiment, current_host().registry,
                         split=first_split(experiment, "train"), batch_size=batch)
    inputs = adapter.prepare_inputs(data, torch.device("cpu"))
    if inputs.dim() == 6:  # [N, views, C, T, H, W]: one view (a test-only example has 30)
        inputs = inputs[:, :1]
    if sized:  # the timing does not depend on pixel values
        inputs = torch.randn(*inputs.shape[:-2], side, side)
    return adapter.build_model(experiment), inputs


def channels_last(model: nn.Module) -> nn.Module:
    from actioncore.engine.layout import to_channels_last

    return to_channels_last(copy.deepcopy(model))


def steps(model: nn.Module, inputs: torch.Tensor, forward: Callable[[torch.Tensor], torch.Tensor]):
    labels = torch.zeros(inputs.shape[0], dtype=torch.int64)

    def train() -> None:
        model.train()
        loss = nn.functional.cross_entropy(forward(inputs), labels)
        loss.backward()
        model.zero_grad(set_to_none=True)

    def infer() -> None:
        model.eval()
        with torch.no_grad():
            forward(inputs)

    return {"train": train, "infer": infer}


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
"""``cpu`` counts this process's CPU time: with ``--threads 1`` it is the step's own work, which a
busy machine (other jobs on the same cores) hardly changes, where wall time doubles."""


def seconds(step: Callable[[], None], clock: Callable[[], float]) -> float:
    start = clock()
    step()
    return clock() - start


def compare(name: str, args: argparse.Namespace) -> dict:
    example, config = MODELS[name]
    ours, inputs = our_model_and_input(example, args.batch, args.size)
    ours_cl = channels_last(ours)

    def shrink(cfg) -> None:
        for part in (cfg.backbone, cfg.get("cls_head", {})):  # init_cfg checkpoints: downloads
            part.pop("init_cfg", None)
        if args.size is not None and example in FIXED_EMBEDDING:
            cfg.backbone.img_size = args.size

    theirs = build_mmaction2(f"recognition/{config}", shrink)
    contenders = {
        "ours": steps(ours, inputs, ours),
        "ours_channels_last": steps(ours_cl, inputs, ours_cl),
        "mmaction2": steps(theirs, inputs, lambda x: theirs.extract_feat(x, stage="head")[0]),
    }
    if args.compile:  # runtime.compile; the warm-up step of each mode compiles
        from actioncore.engine.compile import compile_model, frozen_weights

        ours_compiled = compile_model(copy.deepcopy(ours))
        compiled = steps(ours_compiled, inputs, ours_compiled)
        infer = compiled["infer"]

        def frozen_infer() -> None:  # as `actioncore test` runs a compiled model
            with frozen_weights():
                infer()

        compiled["infer"] = frozen_infer
        if args.compile == "infer":
            del compiled["train"]
        contenders["ours_compiled"] = compiled
    if args.amp:  # runtime.amp on the CPU: bfloat16 autocast around the forward, the loss in float32
        def amp_forward(x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return ours(x).float()

        contenders["ours_amp"] = steps(ours, inputs, amp_forward)
    times: dict[str, dict[str, list[float]]] = {c: {"train": [], "infer": []} for c in contenders}
    for mode in ("train", "infer"):
        timed = [c for c in contenders if mode in contenders[c]]
        for c in timed:  # warm-up: first-call allocations and oneDNN primitive creation
            contenders[c][mode]()
        for _ in range(args.rounds):
            for c in timed:
                times[c][mode].append(seconds(contenders[c][mode], CLOCKS[args.clock]))
    result: dict = {"input_shape": list(inputs.shape)}
    for mode in ("train", "infer"):
        med = {c: statistics.median(times[c][mode]) for c in contenders if times[c][mode]}
        result[f"{mode}_s"] = med
        result[f"{mode}_ratio"] = med["ours"] / med["mmaction2"]
        result[f"{mode}_ratio_channels_last"] = med["ours_channels_last"] / med["mmaction2"]
        if "ours_compiled" in med:
            result[f"{mode}_ratio_compiled"] = med["ours_compiled"] / med["mmaction2"]
        if args.amp:
            result[f"{mode}_ratio_amp"] = med["ours_amp"] / med["mmaction2"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--size", type=int, default=None,
                        help="spatial side of the input instead of the config's crop (C3D keeps 112)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time, or this process's CPU time (use with --threads 1 on a shared machine)")
    parser.add_argument("--compile", nargs="?", const="both", choices=("both", "infer"),
                        help="also time ours through torch.compile as runtime.compile runs it (inference with the "
                             "weights frozen, as `actioncore test`); `--compile infer` skips compiling the "
                             "training step, which takes minutes")
    parser.add_argument("--amp", action="store_true",
                        help="also time ours under bfloat16 autocast (runtime.amp; fast where the CPU has "
                             "AMX or AVX512-BF16, slow elsewhere); MMAction2 stays in float32")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict = {"threads": torch.get_num_threads(), "clock": args.clock, "size": args.size, "models": {},
                     "cpu_capability": torch.backends.cpu.get_cpu_capability(), "not_comparable": NOT_ON_CPU}
    for name in args.models:
        torch.manual_seed(0)
        r = results["models"][name] = compare(name, args)
        if not args.json:
            print(f"{name:18s} {str(r['input_shape']):26s} train {r['train_s']['ours']:.3f}s "
                  f"(channels-last {r['train_s']['ours_channels_last']:.3f}s) vs {r['train_s']['mmaction2']:.3f}s "
                  f"x{r['train_ratio']:.2f}/x{r['train_ratio_channels_last']:.2f}   infer {r['infer_s']['ours']:.3f}s "
                  f"({r['infer_s']['ours_channels_last']:.3f}s) vs {r['infer_s']['mmaction2']:.3f}s "
                  f"x{r['infer_ratio']:.2f}/x{r['infer_ratio_channels_last']:.2f}"
                  + (f"   compiled: train {r['train_s'].get('ours_compiled', float('nan')):.3f}s "
                     f"x{r.get('train_ratio_compiled', float('nan')):.2f}, "
                     f"infer {r['infer_s']['ours_compiled']:.3f}s x{r['infer_ratio_compiled']:.2f}"
                     if args.compile else "")
                  + (f"   bf16 autocast: train {r['train_s']['ours_amp']:.3f}s x{r['train_ratio_amp']:.2f}, "
                     f"infer {r['infer_s']['ours_amp']:.3f}s x{r['infer_ratio_amp']:.2f}" if args.amp else ""),
                  flush=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
    else:
        for name, why in NOT_ON_CPU.items():
            print(f"{name:18s} not comparable: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
