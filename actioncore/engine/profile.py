"""``info`` and ``bench model``: parameters, FLOPs and clips/s of an experiment's model."""
from __future__ import annotations

import itertools
import time
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..config.build import instantiate
from ..config.experiment import Experiment
from ..data.loader import collate
from ..data.probe import probe, split_pipeline
from ..data.splits import build_split
from ..errors import ActionCoreError, ConfigError
from ..plugin.registry import ComponentRegistry
from .compile import compile_model, frozen_weights
from .layout import to_channels_last
from .loaders import own_train_loader, split_loader
from .trainer import TaskAdapter, call_model


def example_batch(experiment: Experiment, registry: ComponentRegistry, *, split: str, batch_size: int,
                  frames: dict[str, int] | None = None) -> dict[str, Any]:
    """A batch shaped like the split's real ones, made from blank frames (two-channel ones where
    ``data.decoder`` reads optical-flow folders). ``frames``: the blank video's ``num_frames``,
    ``height`` and ``width`` (default: Kinetics-like, 300 frames of 340x256; see :func:`data_frames`)."""
    pipeline = split_pipeline(experiment, split, registry)
    channels = 3
    if experiment.data.decoder is not None:
        decoder = instantiate(experiment.data.decoder, registry, "data.decoder")
        channels = 2 if getattr(decoder, "flow", False) else 3
    return collate([probe(pipeline, seed=i, channels=channels, **(frames or {})) for i in range(batch_size)])


BLANK = "a blank 340x256 video of 300 frames"


def data_frames(experiment: Experiment, registry: ComponentRegistry, split: str) -> tuple[dict[str, int] | None, str]:
    """The frame count and size of the split's first video, and where they come from.

    ``info`` and ``bench model`` probe the pipeline with blank frames; a pipeline without a resize
    (the quickstart TSM and SlowFast, on 64 px clips) passes their size through to the model, so
    they take it from the data where the split's list and first file can be read. Without the data
    (or for inputs that are not videos) the Kinetics-like default stands in, and the answer says so."""
    try:
        dataset = build_split(experiment, split, registry)
        decoder, record = getattr(dataset, "decoder", None), dataset.records[0]
        if not hasattr(decoder, "open"):
            return None, BLANK
        with decoder.open(record.source) as reader:
            frames = {key: getattr(reader, key, None) for key in ("num_frames", "height", "width")}
    except (ActionCoreError, OSError) as exc:
        return None, f"{BLANK} (data.{split} not read: {str(exc).splitlines()[0][:200]})"
    if None in frames.values():  # not frames: e.g. a localization data set's feature files
        return None, f"{BLANK} ({record.source} has no frame size)"
    frames = {key: int(value) for key, value in frames.items()}
    if min(frames.values()) <= 0:  # a reader that does not know its length or size
        return None, f"{BLANK} ({record.source} reports {frames})"
    return frames, f"{record.source} ({frames['width']}x{frames['height']}, {frames['num_frames']} frames)"


def inference_split(experiment: Experiment) -> str:
    """The split whose pipeline makes what ``test`` and ``infer`` feed the model: test, else val,
    else train."""
    for split in ("test", "val", "train"):
        if getattr(experiment.data, split, None) is not None:
            return split
    return first_split(experiment, "test")  # raises, naming the missing tables


def first_split(experiment: Experiment, preferred: str) -> str:
    for split in (preferred, "train", "val", "test"):
        if getattr(experiment.data, split, None) is not None:
            return split
    raise ConfigError("the experiment has no data split ([data.train], [data.val] or [data.test]) "
                      "to take the model's input shape from")


def model_info(experiment: Experiment, adapter: TaskAdapter, registry: ComponentRegistry, *,
               split: str = "train") -> dict[str, Any]:
    """Parameters and forward cost of one sample: ``flops`` (torch.utils.flop_counter: 2 per
    multiply-add) and ``macs`` (multiply-adds, half of it: what MMAction2 reports as "FLOPs")."""
    model = adapter.build_model(experiment).eval()
    split = first_split(experiment, split)
    frames, source = data_frames(experiment, registry, split)
    inputs = adapter.prepare_inputs(example_batch(experiment, registry, split=split, batch_size=1, frames=frames),
                                    torch.device("cpu"))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        call_model(model, inputs)
    clips = inputs[0] if isinstance(inputs, tuple) else inputs
    return {"parameters": sum(p.numel() for p in model.parameters()),
            "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "flops": int(counter.get_total_flops()), "macs": int(counter.get_total_flops()) // 2,
            "flops_convention": "flops = 2 x multiply-adds; macs = multiply-adds (MMAction2's \"FLOPs\")",
            "input_shape": list(clips.shape), "input_from": source, "split": split}


def first_training_batch(experiment: Experiment, adapter: TaskAdapter,
                         registry: ComponentRegistry) -> tuple[dict[str, Any] | None, str, ActionCoreError | None]:
    """The first batch the trainer would hand the training step (epoch 0, one process) and where it
    comes from; when ``data.train`` cannot be read, None and why. A task that makes its own batches
    (``TaskAdapter.train_loader``) needs them: for it, data that cannot be read is an error."""
    task = experiment.task.type  # an adapter exists: the experiment has a [task]
    try:
        loader = own_train_loader(experiment, adapter, registry, workers=0)
        if loader is not None:
            loader.sampler.set_epoch(0)
            return next(iter(loader)), f"the first batch of the {task} task's training loader", None
    except ActionCoreError as exc:
        raise ConfigError(f"task '{task}' makes its own training batches, so its training step is timed on one "
                          f"read from the data, which failed: {exc}") from exc
    try:
        loader = split_loader(experiment, "train", registry, train=True, workers=0)
        loader.sampler.set_epoch(0)
        return next(iter(loader)), "the first batch of data.train", None
    except ActionCoreError as exc:
        return None, "", exc


def bench_model(experiment: Experiment, adapter: TaskAdapter, registry: ComponentRegistry, *,
                device: torch.device, iterations: int = 5, channels_last: bool = False,
                compile: bool = False) -> dict[str, Any]:
    """Training (forward, backward, step) and inference clips/s at ``data.batch_size``.

    The training step runs on the first batch the trainer would train on (the task's own loader,
    ``TaskAdapter.train_loader``, or ``data.train``'s), read from the data, and the rate counts that
    batch's clips (``train_clips_per_step``: labeled + unlabeled ones in semi-supervised training),
    as the trainer does. Where the data cannot be read, a batch of the train pipeline over blank
    frames stands in, which carries a class index as label and nothing a dataset adds (multi-label
    targets, boxes): tasks that need those say so. Inference runs on that blank batch, at the first
    video's size where it can be read (``input_from``)."""
    batch_size = experiment.data.batch_size
    split = first_split(experiment, "train")
    frames, source = data_frames(experiment, registry, split)
    batch = example_batch(experiment, registry, split=split, batch_size=batch_size, frames=frames)
    train_batch, train_from, unread = first_training_batch(experiment, adapter, registry)
    if train_batch is None:
        train_batch, train_from = batch, source
    model: nn.Module = adapter.build_model(experiment).to(device)
    if channels_last:
        to_channels_last(model)
    runner = compile_model(model) if compile else model
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
    iterations_done = itertools.count()

    def train_step() -> None:
        step_batch = {**train_batch, "iteration": next(iterations_done)}  # as the trainer hands it over
        loss = adapter.train_step(runner, step_batch, device)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def infer_step() -> None:
        with torch.no_grad():
            call_model(runner, adapter.prepare_inputs(batch, device))

    def rate(step, train: bool, clips: int) -> float:
        model.train(train)
        step()  # warm-up (and compilation)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return clips * iterations / (time.perf_counter() - start)

    train_clips = len(train_batch["indices"])  # as the trainer counts them: labeled + unlabeled, ...
    try:
        train_rate = rate(train_step, True, train_clips)
    except Exception as exc:
        if unread is None:
            raise
        raise ConfigError(f"the {experiment.task.type} task's training step does not run on blank clips "
                          f"({type(exc).__name__}: {exc}), and data.train could not be read for real ones: "
                          f"{unread}") from exc
    with frozen_weights(enabled=compile):  # as `actioncore test` runs it
        infer_rate = rate(infer_step, False, batch_size)
    return {"train_clips_per_s": train_rate, "infer_clips_per_s": infer_rate,
            "batch_size": batch_size, "train_clips_per_step": train_clips, "iterations": iterations,
            "device": str(device), "channels_last": channels_last, "compile": compile,
            "input_shape": list(batch["inputs"].shape), "input_from": source, "train_batch_from": train_from}
