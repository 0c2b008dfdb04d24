"""Model speed, actioncore vs MMAction2 1.2.0, same architecture, same input, one run.

    ../shared/peers/setup.sh /tmp/peers
    PYTHONPATH=/tmp/peers .venv/bin/python benchmarks/models_vs_mmaction2.py [--models tsn_r50 ...]
        [--batch 1] [--rounds 3] [--channels-last] [--json]

For each model both toolboxes build the default config's network (random weights, no
pretrained files), get the same input (the shape our train pipeline makes, batch ``--batch``)
and are timed in alternating rounds: a training step (forward, cross-entropy, backward) and an
inference forward. The ratio is our time over theirs: at most 1.0 means we are no slower.
MMAction2 is imported here only; never from the package or CI tests.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

MODELS = {
    # name: (our example, MMAction2 config relative to its configs/recognition)
    "tsn_r50": ("examples/recognition/tsn_r50_1x1x3_100e_kinetics400_rgb.toml",
                "tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py"),
}


def mmaction2_model(config: str) -> torch.nn.Module:
    import mmaction
    from mmaction.registry import MODELS as REGISTRY
    from mmaction.utils import register_all_modules
    from mmengine import Config

    register_all_modules()
    root = Path(mmaction.__file__).parent / ".mim" / "configs" / "recognition"
    cfg = Config.fromfile(str(root / config))
    backbone = cfg.model.get("backbone", {})
    if "pretrained" in backbone:
        backbone["pretrained"] = None
    model = REGISTRY.build(cfg.model)
    return model


def our_model_and_input(example: str, batch: int):
    from actioncore.api import _task
    from actioncore.config import load_config
    from actioncore.engine.profile import example_batch, first_split
    from actioncore.plugin.host import current_host

    experiment = load_config(REPO / example)
    adapter = _task(experiment, "adapter").adapter(experiment)
    registry = current_host().registry
    data = example_batch(experiment, registry, split=first_split(experiment, "train"), batch_size=batch)
    inputs = adapter.prepare_inputs(data, torch.device("cpu"))
    return adapter.build_model(experiment), inputs


def timed(step, repeats: int) -> float:
    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats


def steps(model: torch.nn.Module, inputs: torch.Tensor, forward):
    labels = torch.zeros(inputs.shape[0], dtype=torch.int64)

    def train() -> None:
        model.train()
        loss = torch.nn.functional.cross_entropy(forward(inputs), labels)
        loss.backward()
        model.zero_grad(set_to_none=True)

    def infer() -> None:
        model.eval()
        with torch.no_grad():
            forward(inputs)

    return train, infer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {}
    for name in args.models:
        example, config = MODELS[name]
        ours, inputs = our_model_and_input(example, args.batch)
        theirs = mmaction2_model(config)
        if args.channels_last:
            for p in ours.parameters():
                if p.dim() in (4, 5):
                    p.data = p.data.contiguous(memory_format=torch.channels_last if p.dim() == 4 else torch.channels_last_3d)
        our_train, our_infer = steps(ours, inputs, ours)
        their_train, their_infer = steps(theirs, inputs, lambda x: theirs.extract_feat(x, stage="head")[0])
        times = {k: [] for k in ("ours_train", "theirs_train", "ours_infer", "theirs_infer")}
        for _ in range(args.rounds):
            times["ours_train"].append(timed(our_train, args.repeats))
            times["theirs_train"].append(timed(their_train, args.repeats))
            times["ours_infer"].append(timed(our_infer, args.repeats))
            times["theirs_infer"].append(timed(their_infer, args.repeats))
        med = {k: statistics.median(v) for k, v in times.items()}
        results[name] = {
            "input_shape": list(inputs.shape),
            "train_s": {"ours": med["ours_train"], "mmaction2": med["theirs_train"],
                        "ratio": med["ours_train"] / med["theirs_train"]},
            "infer_s": {"ours": med["ours_infer"], "mmaction2": med["theirs_infer"],
                        "ratio": med["ours_infer"] / med["theirs_infer"]},
        }
        if not args.json:
            r = results[name]
            print(f"{name:12s} {str(r['input_shape']):24s} train {r['train_s']['ours']:.3f}s vs "
                  f"{r['train_s']['mmaction2']:.3f}s (x{r['train_s']['ratio']:.2f})  infer "
                  f"{r['infer_s']['ours']:.3f}s vs {r['infer_s']['mmaction2']:.3f}s (x{r['infer_s']['ratio']:.2f})",
                  flush=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
