"""``actioncore extract``: clip features of untrimmed videos for temporal localization (BMN, BSN).

As MMAction2's ``tools/data/activitynet/tsn_feature_extraction.py``: clips of ``clip_len``
frames are centred every ``stride`` frames over the whole video (``UntrimmedSampleFrames``),
go through the experiment's test pipeline after its sampler (resize, crop, normalise,
format), and the task adapter's ``clip_features`` (the recognizer's backbone and neck, pooled:
MMAction2's ``feature_extraction`` test mode) turns each into a vector. The per-clip rows
are kept as ``raw/<video>.npy`` (what the extraction script saves) and rescaled to ``num_steps``
rows (:func:`pool_feature`) in ``<video>.csv``, the ``csv_mean_100`` files of the
``activitynet`` dataset. ``video_info.csv`` (BSN's columns) gives each video's frames, seconds
and fps, and the frames the features cover, for ``actioncore data lists activitynet``.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...api import _task
from ...builtin.decode import Decode
from ...builtin.samplers import untrimmed_frame_indices
from ...config.experiment import Experiment
from ...engine.trainer import load_weights
from ...errors import ConfigError, DataError, PluginError
from ...plugin.host import current_host
from ..loader import collate
from ..pipeline import Pipeline
from ..probe import split_pipeline
from ..sample import VideoSample
from ..splits import build_decoder
from .jobs import find_videos
from .rescale import NUM_STEPS, pool_feature, write_feature_csv

INFO_COLUMNS = ("video", "numFrame", "seconds", "fps", "rfps", "subset", "featureFrame")


def after_sampler(pipeline: Pipeline, split: str) -> Pipeline:
    """The steps from ``decode`` on: the clips are chosen here, not by the experiment's sampler."""
    for position, step in enumerate(pipeline.steps):
        if isinstance(step, Decode):
            return Pipeline(pipeline.steps[position:])
    raise ConfigError(f"data.{split}.pipeline has no 'decode' step: feature extraction needs a pipeline "
                      "that decodes frames (sampler, decode, resize, crop, normalize, format_shape)")


def _adapter(experiment: Experiment) -> Any:
    if experiment.model is None:
        raise ConfigError("the experiment has no [model] to extract features with")
    adapter = _task(experiment, "adapter").adapter(experiment)
    if not callable(getattr(adapter, "clip_features", None)):
        owner = current_host().registry.get("task", experiment.task.type).distribution
        raise PluginError(f"task '{experiment.task.type}' (from {owner}) does not say what its features are: its "
                          "adapter has no clip_features(model, inputs, num_clips=, views=)")
    return adapter


def video_features(path: str, *, decoder: Any, pipeline: Pipeline, adapter: Any, model: torch.nn.Module,
                   clip_len: int, stride: int, frame_interval: int, batch_clips: int,
                   device: torch.device) -> tuple[np.ndarray, dict[str, Any]]:
    """float32 ``[num_clips, C]``: one row per clip of ``path``, and the video's frame count and fps."""
    with decoder.open(path) as reader:
        num_frames, fps = reader.num_frames, reader.fps
        indices = untrimmed_frame_indices(num_frames, clip_len=clip_len, clip_interval=stride,
                                          frame_interval=frame_interval)
        if not len(indices):
            raise DataError(f"{path}: {num_frames} frames is too short for clips centred every {stride} frames",
                            path=path)
        rows = []
        for first in range(0, len(indices), batch_clips):
            chunk = indices[first:first + batch_clips]
            sample = VideoSample(source=path, num_frames=num_frames, fps=fps, frame_indices=chunk,
                                 num_clips=len(chunk), clip_len=clip_len, reader=reader,
                                 rng=np.random.default_rng(0))
            sample = pipeline(sample)
            sample.reader = None
            inputs = adapter.prepare_inputs(collate([sample]), device)
            with torch.no_grad():
                features = adapter.clip_features(model, inputs, num_clips=len(chunk), views=sample.num_crops)
            rows.append(features.float().cpu().numpy())
    return np.concatenate(rows), {"frames": num_frames, "fps": fps}


def extract_features(experiment: Experiment, checkpoint: str | os.PathLike[str], videos: Sequence[str],
                     out: str | os.PathLike[str], *, clip_len: int = 1, stride: int = 16, frame_interval: int = 1,
                     num_steps: int = NUM_STEPS, batch_clips: int = 32, split: str | None = None,
                     device: str = "cpu") -> dict[str, Any]:
    """Features of every video in ``videos`` (files or folders of videos) in ``out``; failures reported by name."""
    for name, value in (("clip_len", clip_len), ("stride", stride), ("frame_interval", frame_interval),
                        ("num_steps", num_steps), ("batch_clips", batch_clips)):
        if value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {value}")
    registry = current_host().registry
    split = split or ("test" if experiment.data.test is not None else "val")
    adapter = _adapter(experiment)
    pipeline = after_sampler(split_pipeline(experiment, split, registry), split)
    model = adapter.build_model(experiment)
    load_weights(model, checkpoint)
    run_device = torch.device(device)
    model.to(run_device).eval()
    decoder = build_decoder(experiment, "auto", registry)
    jobs = [job for video in videos for job in find_videos(video)]
    out = Path(out)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    done: dict[str, Any] = {}
    failed: dict[str, str] = {}
    info_rows = []
    for job in jobs:
        name = Path(job.name).name
        if name in done:  # feature files are flat, named by the video as the annotation JSON names it
            failed[str(job.source)] = f"another video is named {name!r} already: its features would be overwritten"
            continue
        try:
            raw, meta = video_features(str(job.source), decoder=decoder, pipeline=pipeline, adapter=adapter,
                                       model=model, clip_len=clip_len, stride=stride,
                                       frame_interval=frame_interval, batch_clips=batch_clips, device=run_device)
        except Exception as exc:  # one broken video is reported; the others are extracted
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        np.save(out / "raw" / f"{name}.npy", raw)
        write_feature_csv(out / f"{name}.csv", pool_feature(raw, num_steps=num_steps))
        covered = min(len(raw) * stride, meta["frames"])
        seconds = meta["frames"] / meta["fps"] if meta["fps"] else float("nan")
        info_rows.append((name, meta["frames"], f"{seconds:.3f}", meta["fps"], meta["fps"], "", covered))
        done[name] = {"clips": int(raw.shape[0]), "dim": int(raw.shape[1]), "frames": meta["frames"],
                      "feature_frame": covered}
    with open(out / "video_info.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(INFO_COLUMNS)
        writer.writerows(info_rows)
    return {"out": str(out), "split": split, "steps": num_steps, "done": done, "failed": failed}
