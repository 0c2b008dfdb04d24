"""``actioncore infer`` for a detection experiment: score people in a video, draw them, save JSON.

For each input (a video file or a frame folder) the keyframes are the whole seconds of the
evaluation split's clock: timestamp ``t`` is frame ``fps * (t - timestamp_start) + start_index``
(the split's ``fps``, ``timestamp_start`` and ``start_index``; for a plain video ``timestamp_start
= 0`` makes ``t`` the second of the video). People come from ``task.infer_proposals`` (a proposals
CSV keyed by the input's file name without extension, e.g. MMAction2's demo proposals after
``actioncore data convert ava_proposals``), filtered by the split's ``person_det_score_thr``; a
keyframe without proposals is scored as one whole-frame box. Each keyframe runs through the
split's own pipeline, so the clip and resizing are those the model was evaluated with.

Written to ``task.infer_out_dir`` (default ``<work_dir>/infer``): ``<name>_detections.mp4`` (every
frame, with the boxes and actions of its nearest keyframe drawn; actions scoring at least
``task.infer_score_thr``) and ``<name>_detections.json``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import av
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.utils import draw_bounding_boxes

from actioncore.sdk import ConfigError, DataError, Experiment, build
from actioncore.sdk.data import ClipDataset, ClipRecord, collate, split_pipeline
from actioncore.sdk.engine import load_weights

from .annotations import image_key, read_proposals
from .dataset import BoxTracking, LoadKeyframe, PackKeyframe, select_proposals
from .targets import Clock, Keyframe

if TYPE_CHECKING:
    from .task import DetectionTask

_COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


@attrs.define
class _VideoKeyframes:
    """An annotation set of one video's keyframes, in the shape the ``ava`` steps expect."""

    keyframes: list[Keyframe]
    records: list[ClipRecord]
    pipeline: list[Any]
    default_decoder: str = "auto"


def _split(experiment: Experiment) -> str:
    if experiment.data.test is not None:
        return "test"
    if experiment.data.val is not None:
        return "val"
    raise ConfigError("detection infer needs a [data.test] or [data.val] table (its pipeline and clock)")


def _keyframes(source: str, reader_frames: int, params: dict[str, Any], proposals: dict[str, np.ndarray] | None,
               num_classes: int) -> list[Keyframe]:
    clock = Clock(fps=int(params.get("fps", 30)), timestamp_start=int(params.get("timestamp_start", 900)),
                  start_index=int(params.get("start_index", 1)), shot_frames=None)
    name = Path(source.rstrip("/")).stem
    keyframes = []
    t = clock.timestamp_start
    while clock.fps * (t - clock.timestamp_start) + clock.start_index < reader_frames:
        chosen, scores = select_proposals(proposals.get(image_key(name, t)) if proposals else None,
                                          float(params.get("person_det_score_thr", 0.9)),
                                          int(params.get("num_max_proposals", 1000)))
        keyframes.append(Keyframe(name, t, clock, chosen, scores, np.zeros((0, 4), np.float32),
                                  np.zeros((0, num_classes), np.float32)))
        t += 1
    if not keyframes:
        raise DataError(f"{source}: no keyframe fits in its {reader_frames} frames", path=source)
    return keyframes


def _draw(frames: torch.Tensor, keyframes: list[dict[str, Any]], centres: list[int], size: int) -> torch.Tensor:
    """Frames ``[F, H, W, 3]`` scaled to short side ``size`` (even sides) with detections drawn."""
    _, height, width, _ = frames.shape
    scale = max(1.0, size / min(height, width))
    out_h, out_w = int(height * scale) // 2 * 2, int(width * scale) // 2 * 2
    images = F.interpolate(frames.permute(0, 3, 1, 2).float(), size=(out_h, out_w), mode="nearest").to(torch.uint8)
    for f in range(len(images)):
        nearest = int(np.argmin([abs(f - c) for c in centres]))
        boxes, labels = [], []
        for det in keyframes[nearest]["detections"]:
            if det["actions"]:
                boxes.append(np.asarray(det["box"]) * [out_w, out_h, out_w, out_h])
                labels.append(", ".join(f"{a['name']} {a['score']:.2f}" for a in det["actions"]))
        if boxes:
            images[f] = draw_bounding_boxes(images[f], torch.tensor(np.array(boxes), dtype=torch.float32),
                                            labels=labels, colors=[_COLOURS[i % len(_COLOURS)] for i in range(len(boxes))],
                                            width=2)
    return images.permute(0, 2, 3, 1).contiguous()


def write_mp4(path: Path, frames: torch.Tensor, fps: float) -> None:
    """uint8 ``[F, H, W, 3]`` (even H and W) as H.264 with PyAV."""
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = int(frames.shape[2]), int(frames.shape[1])
        stream.pix_fmt = "yuv420p"
        for i, pixels in enumerate(frames.numpy()):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def infer_videos(task: DetectionTask, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
                 topk: int = 5) -> list[dict[str, Any]]:
    from .task import Classes

    split = _split(experiment)
    params = dict(getattr(experiment.data, split).params)
    classes = Classes(params)
    steps = split_pipeline(experiment, split).steps
    decoder = build("decoder", "auto")
    proposals = read_proposals(task.infer_proposals) if task.infer_proposals else None
    adapter = task.adapter(experiment)
    model = adapter.build_model(experiment)
    load_weights(model, checkpoint)
    model.eval()
    out_dir = Path(task.infer_out_dir or Path(experiment.runtime.work_dir or "work_dirs") / "infer")
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for source in map(str, inputs):
        with decoder.open(source) as reader:
            total, native_fps = reader.num_frames, reader.fps
            frames = reader.read(np.arange(total))
        keyframes = _keyframes(source, total, params, proposals, classes.num_classes)
        annotations = _VideoKeyframes(keyframes, [ClipRecord(source, None) for _ in keyframes], [])
        annotations.pipeline = [LoadKeyframe(annotations), *(BoxTracking(s) for s in steps), PackKeyframe()]
        dataset = ClipDataset(annotations, decoder=decoder, seed=experiment.runtime.seed)
        found, flat = [], []
        with torch.no_grad():
            for i, keyframe in enumerate(keyframes):
                rows = adapter.eval_step(model, collate([dataset[i]]), torch.device("cpu"))
                detections = []
                for box_scores, proposal_score in zip(rows["detections"][0], keyframe.proposal_scores):
                    scores = box_scores[4:]
                    order = [c for c in np.argsort(-scores[1:], kind="stable")[:topk] + 1
                             if scores[c] >= task.infer_score_thr]
                    actions = [{"label": classes.action_id(int(c)), "name": classes.label_map.name(classes.action_id(int(c))),
                                "score": float(scores[c])} for c in order]
                    detections.append({"box": [round(float(v), 4) for v in box_scores[:4]],
                                       "person_score": float(proposal_score), "actions": actions})
                    flat += [{**a, "timestamp": keyframe.timestamp, "box": detections[-1]["box"]} for a in actions]
                found.append({"timestamp": keyframe.timestamp, "detections": detections})
        clock = keyframes[0].clock
        centres = [clock.fps * (k.timestamp - clock.timestamp_start) + clock.start_index for k in keyframes]
        name = Path(source.rstrip("/")).stem
        video_path, json_path = out_dir / f"{name}_detections.mp4", out_dir / f"{name}_detections.json"
        fps = native_fps if native_fps and np.isfinite(native_fps) else clock.fps
        write_mp4(video_path, _draw(frames, found, centres, task.infer_draw_size), fps)
        json_path.write_text(json.dumps({"input": source, "fps": fps, "keyframes": found}, indent=1))
        results.append({"input": source, "video": str(video_path), "json": str(json_path),
                        "predictions": sorted(flat, key=lambda p: -p["score"])[:topk * len(keyframes)]})
    return results
