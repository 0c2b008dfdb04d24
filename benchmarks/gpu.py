"""The GPU path, measured: training clips/s per model and speed-up, loader transfer, NVDEC decoding.

    python benchmarks/gpu.py [--device cuda] [--models tsn_r50 slowfast_r50 x3d_m timesformer]
        [--batch N] [--iterations N] [--budget-s 270] [--out report.json]
    python benchmarks/gpu.py --dry-run --out report.json     # CPU, tiny shapes: what CI runs

For TSN-R50, SlowFast-R50, X3D-M and TimeSformer (the full-size example experiments, random
weights, the shape their train pipelines make) it times training steps (forward, loss, backward,
SGD step) and inference forwards in these variants, one after the other on the same input:

- ``fp32``: the default;
- ``amp_bf16`` / ``amp_fp16``: ``torch.autocast`` (fp16 with a GradScaler; CUDA only), what
  ``runtime.amp`` turns on;
- ``channels_last``: convolution weights in channels-last(-3d) layout (``runtime.channels_last``);
- ``compile``: ``torch.compile`` of the model (``bench model --compile``);
- ``combined``: bf16 autocast, channels-last and ``torch.compile`` together, what a user turns on.

The eager variants of every model run first, the compiled ones after them (compiling takes minutes).
On CUDA each variant also reports its peak memory.

Before the models, the loader path: a DataLoader of uint8 clips copied to the device with and without pinned
memory (``data.pin_memory``), clips/s; and decoding: frames/s of an H.264 clip decoded by PyAV in
software and with FFmpeg's CUDA hardware decoder (NVDEC) where the loaded FFmpeg offers it
(``av.codec.hwaccel``), without software fallback so that a number is NVDEC's or absent with the
reason.

A variant that fails (out of memory, a compiler error) is recorded with its error, not fatal; the
report is rewritten to ``--out`` after every variant, so a run stopped from outside keeps its numbers.
``--budget-s`` bounds the run: what does not fit is recorded as skipped. ``--dry-run`` runs every
code path on the CPU with tiny inputs (32 px, the examples' frame counts, batch 1, one timed step;
TimeSformer with two layers at 32 px; ``compile`` and ``combined`` with dynamo's ``eager`` backend on the first
model only, as inductor's C++ compilation of each model would take minutes of CPU) and prints the
same report; its numbers mean nothing. ``--variants`` picks some (CI leaves ``compile`` out:
tracing ResNet-50 alone takes ~20 s of CPU).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import actioncore
from actioncore.api import _task
from actioncore.engine.layout import to_channels_last
from actioncore.engine.profile import example_batch, first_split
from actioncore.plugin.examples import installed_examples
from actioncore.plugin.host import current_host

MODELS = {
    # name: (example experiment, overrides for --dry-run)
    "tsn_r50": ("tsn_r50_1x1x3_100e_kinetics400_rgb", []),
    "slowfast_r50": ("slowfast_r50_4x16x1_256e_kinetics400_rgb", []),
    "x3d_m": ("x3d_m_16x5x1_facebook_kinetics400_rgb", []),
    "timesformer": ("timesformer_divST_8x32x1_15e_kinetics400_rgb",
                    ["model.backbone.img_size=32", "model.backbone.num_transformer_layers=2"]),
}
DRY_SIZE = 32


class Budget:
    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(step: Callable[[], None], *, clips: int, iterations: int, device: torch.device, warmup: int) -> float:
    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    synchronize(device)
    return clips * iterations / (time.perf_counter() - start)


def example_file(name: str) -> Path:
    for example in installed_examples():
        if example.name == name:
            return Path(example.path)
    raise SystemExit(f"example {name} is not installed (pip install its plugin)")


def model_input(name: str, args: argparse.Namespace) -> tuple[Any, nn.Module, dict[str, Any]]:
    example, dry_overrides = MODELS[name]
    overrides = [f"data.batch_size={args.batch}"] + (dry_overrides if args.dry_run else [])
    experiment = actioncore.load_config(example_file(example), overrides)
    adapter = _task(experiment, "adapter").adapter(experiment)
    batch = example_batch(experiment, current_host().registry, split=first_split(experiment, "train"),
                          batch_size=args.batch)
    if batch["inputs"].dim() == 6:  # [N, views, C, T, H, W]: a test pipeline's views; train on one
        batch["inputs"] = batch["inputs"][:, :1]
    if args.dry_run:  # the pipeline's crop, cut to a corner: every model here pools what is left
        batch["inputs"] = batch["inputs"][..., :DRY_SIZE, :DRY_SIZE]
    batch["inputs"] = batch["inputs"].contiguous()
    return adapter, adapter.build_model(experiment), batch


# in the order they are timed: the compiled ones last, after every eager variant of every model
# (compiling takes minutes, so a spent budget skips those)
VARIANTS = ("fp32", "amp_bf16", "amp_fp16", "channels_last", "compile", "combined")


def variants(device: torch.device, dry_run: bool, first_model: bool,
             chosen: tuple[str, ...] = VARIANTS) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {"fp32": {}, "amp_bf16": {"amp": torch.bfloat16}}
    if device.type == "cuda":
        out["amp_fp16"] = {"amp": torch.float16}
    out["channels_last"] = {"channels_last": True}
    if not dry_run or first_model:
        backend = "eager" if dry_run else "inductor"
        out["compile"] = {"compile": backend}
        # what a user would turn on together: runtime.amp = "bf16", channels_last, compile
        out["combined"] = {"amp": torch.bfloat16, "channels_last": True, "compile": backend}
    return {name: options for name, options in out.items() if name in chosen}


def time_variant(adapter: Any, model: nn.Module, batch: dict[str, Any], device: torch.device, *,
                 amp: torch.dtype | None = None, channels_last: bool = False, compile: str | None = None,
                 iterations: int, warmup: int) -> dict[str, Any]:
    model = model.to(device)
    if channels_last:
        to_channels_last(model)
    runner = torch.compile(model, backend=compile) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-5)
    scaler = torch.amp.GradScaler("cuda", enabled=amp is torch.float16 and device.type == "cuda")
    autocast = (lambda: torch.autocast(device.type, dtype=amp)) if amp is not None else contextlib.nullcontext

    def train_step() -> None:
        with autocast():
            loss = adapter.train_step(runner, batch, device)["loss"]
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    def infer_step() -> None:
        with torch.no_grad(), autocast():
            runner(adapter.prepare_inputs(batch, device))

    clips = len(batch["inputs"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    model.train()
    train = rate(train_step, clips=clips, iterations=iterations, device=device, warmup=warmup)
    model.eval()
    infer = rate(infer_step, clips=clips, iterations=iterations, device=device, warmup=warmup)
    result = {"train_clips_per_s": round(train, 3), "infer_clips_per_s": round(infer, 3)}
    if device.type == "cuda":
        result["peak_memory_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    return result


def bench_models(args: argparse.Namespace, device: torch.device, budget: Budget,
                 report: dict[str, Any] | None = None,
                 progress: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Each variant across the models, the eager ones first, the compiled ones last (a spent budget skips those).

    Fills ``report`` (a new dict if None) as it goes and calls ``progress`` after every variant.
    """
    report = {} if report is None else report
    built: dict[str, tuple[Any, nn.Module, dict[str, Any], dict[str, torch.Tensor], dict[str, dict[str, Any]]]] = {}
    for index, name in enumerate(args.models):
        entry: dict[str, Any] = {}
        report[name] = entry
        try:
            adapter, model, batch = model_input(name, args)
        except Exception as exc:  # a missing plugin or a failing build is reported, the others run
            entry["error"] = f"{type(exc).__name__}: {exc}"
            continue
        entry["input_shape"] = list(batch["inputs"].shape)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        built[name] = (adapter, model, batch, state, variants(device, args.dry_run, index == 0, tuple(args.variants)))
    for variant in VARIANTS:  # one variant across the models, then the next
        for name, (adapter, model, batch, state, chosen) in built.items():
            if variant not in chosen:
                continue
            entry = report[name]
            if budget.left() <= 0:
                entry[variant] = {"skipped": "time budget (--budget-s) spent"}
                continue
            model.load_state_dict(state)
            try:
                entry[variant] = time_variant(adapter, model, batch, device, iterations=args.iterations,
                                              warmup=args.warmup, **chosen[variant])
            except Exception as exc:
                entry[variant] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
            finally:
                for param in model.parameters():  # undo channels_last for the next variant
                    param.data = param.data.contiguous()
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            base = entry.get("fp32", {}).get("train_clips_per_s")
            if base:
                entry["train_speedup_vs_fp32"] = {v: round(r["train_clips_per_s"] / base, 3)
                                                  for v, r in entry.items()
                                                  if isinstance(r, dict) and "train_clips_per_s" in r}
            progress()
    return report


def bench_loader(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Host-to-device copies of uint8 clips from a 2-worker DataLoader, pinned or not."""
    shape = (3, 8, DRY_SIZE, DRY_SIZE) if args.dry_run else (3, 32, 224, 224)
    clips = torch.randint(0, 255, (16 if args.dry_run else 64, *shape), dtype=torch.uint8)
    dataset = torch.utils.data.TensorDataset(clips)
    out: dict[str, Any] = {"clip_shape": list(shape), "dtype": "uint8"}
    for pinned in (False, True):
        key = "pinned" if pinned else "pageable"
        if pinned and device.type != "cuda":
            out[key] = {"skipped": "pinned memory needs an accelerator"}
            continue
        loader = torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=0 if args.dry_run else 2,
                                             pin_memory=pinned)
        start = time.perf_counter()
        for (batch,) in loader:
            batch.to(device, non_blocking=pinned).float()
        synchronize(device)
        out[key] = {"clips_per_s": round(len(clips) / (time.perf_counter() - start), 2)}
    return out


def test_video(folder: Path, *, frames: int, width: int, height: int) -> Path:
    import av

    path = folder / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        rng = np.random.default_rng(0)
        base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def decode_rate(path: Path, hwaccel: Any = None) -> float:
    import av

    start = time.perf_counter()
    count = 0
    with av.open(str(path), hwaccel=hwaccel) as container:
        for frame in container.decode(video=0):
            frame.to_ndarray(format="rgb24")
            count += 1
    return count / (time.perf_counter() - start)


def bench_decode(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    from av.codec.hwaccel import HWAccel, hwdevices_available

    size = (64, 64, 30) if args.dry_run else (340, 256, 300)
    out: dict[str, Any] = {"video": {"codec": "h264", "width": size[0], "height": size[1], "frames": size[2]},
                           "ffmpeg_hw_devices": list(hwdevices_available())}
    with tempfile.TemporaryDirectory() as tmp:
        video = test_video(Path(tmp), frames=size[2], width=size[0], height=size[1])
        out["software_frames_per_s"] = round(decode_rate(video), 1)
        if "cuda" not in out["ffmpeg_hw_devices"]:
            out["nvdec"] = {"skipped": "the loaded FFmpeg has no cuda hardware device type"}
        elif device.type != "cuda":
            out["nvdec"] = {"skipped": "no CUDA device"}
        else:
            try:
                accel = HWAccel(device_type="cuda", device=str(device.index or 0), allow_software_fallback=False)
                out["nvdec"] = {"frames_per_s": round(decode_rate(video, accel), 1)}
            except Exception as exc:
                out["nvdec"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def environment(device: torch.device) -> dict[str, Any]:
    info = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
            "threads": torch.get_num_threads()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


@contextlib.contextmanager
def fast_paths(device: torch.device) -> Iterator[None]:
    """cuDNN autotuning and TF32, what a user training on a GPU turns on."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--batch", type=int, default=None, help="clips per step (default 8; 1 with --dry-run)")
    parser.add_argument("--iterations", type=int, default=None, help="timed steps (default 10; 1 with --dry-run)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3; 1 with --dry-run)")
    parser.add_argument("--budget-s", type=float, default=270.0)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes: every code path, no real numbers")
    parser.add_argument("--out", help="also write the JSON report here")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.device = "cpu"
        # tiny steps: OpenMP threads only wait on each other, and on a busy machine they spin for long
        torch.set_num_threads(1)
    args.batch = args.batch or (1 if args.dry_run else 8)
    args.iterations = args.iterations or (1 if args.dry_run else 10)
    args.warmup = args.warmup or (1 if args.dry_run else 3)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run with --dry-run to check the script on the CPU")
    budget = Budget(args.budget_s)
    torch.manual_seed(0)
    report: dict[str, Any] = {"environment": environment(device), "dry_run": args.dry_run, "batch": args.batch,
                              "iterations": args.iterations, "models": {}}

    def write() -> None:  # after every variant: a run stopped from outside keeps what it measured
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1))

    with fast_paths(device):
        # the loader and decoding first: seconds, where the models' compiled variants take minutes
        report["loader"] = bench_loader(args, device)
        report["decode"] = bench_decode(args, device)
        write()
        bench_models(args, device, budget, report["models"], progress=write)
    print(json.dumps(report, indent=1))
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
