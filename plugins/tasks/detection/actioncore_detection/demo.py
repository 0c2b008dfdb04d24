"""``actioncore infer`` and ``actioncore demo`` for a detection experiment: score the people of a
video at its keyframes and draw them, one drawing path for both.

For each input (a video file or a frame folder for ``infer``; a video file or a stream read up to
``--max-seconds`` for ``demo``) the keyframes are the whole seconds of the evaluation split's
clock: timestamp ``t`` is frame ``fps * (t - timestamp_start) + start_index`` (the split's
``fps``, ``timestamp_start`` and ``start_index``; for a plain video ``timestamp_start = 0`` makes
``t`` the second of the video). People come from ``task.infer_proposals`` (a proposals CSV keyed
by the input's file name without extension, e.g. MMAction2's demo proposals after ``actioncore
data convert ava_proposals``), filtered by the split's ``person_det_score_thr``; a keyframe
without proposals is scored as one whole-frame box. Each keyframe runs through the split's own
pipeline, so the clip and resizing are those the model was evaluated with.

Drawing (:func:`render`): every frame of the clip a keyframe's prediction was made from (the
span of the split's ``sample_ava_frames`` clip around it; the keyframe alone without that step)
shows that keyframe's boxes, each with its actions scoring at least ``task.infer_score_thr``
(top-k), drawn by the kernel's :func:`~actioncore.sdk.vis.draw_boxes` on the frame scaled to a
short side of at least ``task.infer_draw_size``; where clips overlap, the nearest keyframe wins.
Videos are written by the kernel's :func:`~actioncore.sdk.vis.video_writer`.

``infer`` writes to ``task.infer_out_dir`` (default ``<work_dir>/infer``):
``<name>_detections.mp4`` and ``<name>_detections.json``; ``demo`` writes ``--out`` (mp4 or gif)
and returns the keyframes in its report.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import torch
from PIL import Image
from torch import nn

from actioncore.sdk import ConfigError, DataError, Experiment, build
from actioncore.sdk.data import ClipDataset, ClipRecord, collate, split_pipeline
from actioncore.sdk.engine import load_weights
from actioncore.sdk.vis import DemoRequest, FramesDecoder, draw_boxes, open_frames, prediction_lines, video_writer

from .annotations import image_key, read_proposals
from .dataset import BoxTracking, LoadKeyframe, PackKeyframe, select_proposals
from .sampling import SampleAVAFrames, ava_frame_indices
from .targets import Clock, Keyframe

if TYPE_CHECKING:
    from .task import DetectionAdapter, DetectionTask


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


@attrs.frozen
class VideoDetections:
    """What the model found in one video: per keyframe its timestamp and detections (``{box``
    normalised ``[x1, y1, x2, y2]``, ``person_score``, ``actions}``), the frames of the clip each
    keyframe covers, and every action as one flat row (for the top of the report)."""

    keyframes: list[dict[str, Any]]
    spans: list[tuple[int, int, int]]
    """``(centre, first, last)`` 0-based frames of each keyframe's clip."""
    actions: list[dict[str, Any]]
    fps: int
    """The clock's frames per second (used where the video states none)."""


def _clip_spans(keyframes: list[Keyframe], steps: Sequence[Any], num_frames: int) -> list[tuple[int, int, int]]:
    sampler = next((s for s in steps if isinstance(s, SampleAVAFrames)), None)
    spans = []
    for k in keyframes:
        clock = k.clock
        centre = clock.fps * (k.timestamp - clock.timestamp_start) + clock.start_index
        if sampler is None:
            spans.append((centre, centre, centre))
            continue
        indices = ava_frame_indices(k.timestamp, fps=clock.fps, timestamp_start=clock.timestamp_start,
                                    start_index=clock.start_index, clip_len=sampler.clip_len,
                                    frame_interval=sampler.frame_interval, shot_end=num_frames)
        spans.append((centre, int(indices.min()), int(indices.max())))
    return spans


def detect_video(adapter: DetectionAdapter, model: nn.Module, source: str, decoder: Any, num_frames: int, *,
                 topk: int) -> VideoDetections:
    """Score the people of ``source`` (``num_frames`` frames, opened by ``decoder``) at every keyframe."""
    from .task import Classes

    task, experiment = adapter.task, adapter.experiment
    split = _split(experiment)
    params = dict(getattr(experiment.data, split).params)
    classes = Classes(params)
    steps = split_pipeline(experiment, split).steps
    proposals = read_proposals(task.infer_proposals) if task.infer_proposals else None
    keyframes = _keyframes(source, num_frames, params, proposals, classes.num_classes)
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
    return VideoDetections(found, _clip_spans(keyframes, steps, num_frames), sorted(flat, key=lambda p: -p["score"]),
                           keyframes[0].clock.fps)


def keyframe_of(frame: int, spans: Sequence[tuple[int, int, int]]) -> int | None:
    """The keyframe whose clip covers ``frame`` (the nearest one where clips overlap), or None."""
    covering = [i for i, (_, first, last) in enumerate(spans) if first <= frame <= last]
    return min(covering, key=lambda i: abs(frame - spans[i][0])) if covering else None


def draw_detections(frame: np.ndarray, detections: Sequence[dict[str, Any]], *, size: int) -> np.ndarray:
    """uint8 RGB ``frame`` scaled to a short side of at least ``size`` (even sides, for H.264) with
    the boxes that have actions and their action lines drawn by :func:`draw_boxes`."""
    height, width = frame.shape[:2]
    scale = max(1.0, size / min(height, width))
    out_w, out_h = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
    image = Image.fromarray(np.ascontiguousarray(frame))
    if (out_w, out_h) != image.size:
        image = image.resize((out_w, out_h), Image.Resampling.NEAREST)
    shown = [d for d in detections if d["actions"]]
    boxes = [np.asarray(d["box"]) * [out_w, out_h, out_w, out_h] for d in shown]
    draw_boxes(image, boxes, [prediction_lines(d["actions"]) for d in shown])
    return np.asarray(image)


def render(frames: Any, found: VideoDetections, *, size: int) -> Any:
    """Each frame of ``frames`` (an iterable of uint8 RGB arrays) with the detections of the
    keyframe whose clip covers it (:func:`keyframe_of`)."""
    for f, frame in enumerate(frames):
        k = keyframe_of(f, found.spans)
        yield draw_detections(frame, found.keyframes[k]["detections"] if k is not None else [], size=size)


def infer_videos(task: DetectionTask, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
                 topk: int = 5) -> list[dict[str, Any]]:
    decoder = build("decoder", "auto")
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
            frames = reader.read(np.arange(total)).numpy()
        found = detect_video(adapter, model, source, decoder, total, topk=topk)
        name = Path(source.rstrip("/")).stem
        video_path, json_path = out_dir / f"{name}_detections.mp4", out_dir / f"{name}_detections.json"
        fps = native_fps if native_fps and np.isfinite(native_fps) else found.fps
        with video_writer(video_path, fps=fps) as writer:
            for frame in render(frames, found, size=task.infer_draw_size):
                writer.write(frame)
        json_path.write_text(json.dumps({"input": source, "fps": fps, "keyframes": found.keyframes}, indent=1))
        results.append({"input": source, "video": str(video_path), "json": str(json_path),
                        "predictions": found.actions[:topk * len(found.keyframes)]})
    return results


def run_demo(adapter: DetectionAdapter, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
    """``actioncore demo`` of a detection experiment: the input's frames (all of a file, or up to
    ``--max-seconds``; a live source needs that limit) scored at each keyframe and drawn."""
    with open_frames(request.source, input_format=request.input_format, max_seconds=request.max_seconds) as stream:
        if stream.live and stream.max_frames is None:
            raise ConfigError(f"{request.source}: the detection demo scores the keyframes of a whole clip; give "
                              "--max-seconds to read a live source")
        frames = list(stream.frames())
        fps = stream.fps
    if not frames:
        raise DataError(f"{request.source}: no frames to read", path=request.source)
    video = np.stack(frames)
    found = detect_video(adapter, model, request.source, FramesDecoder(video, fps=fps, path=request.source),
                         len(video), topk=request.topk)
    with video_writer(request.out, fps=fps) as writer:
        for frame in render(video, found, size=adapter.task.infer_draw_size):
            writer.write(frame)
    return {"input": request.source, "out": str(request.out), "fps": fps, "frames": writer.count,
            "size": list(writer.size), "codec": writer.codec, "keyframes": found.keyframes,
            "predictions": found.actions[:request.topk]}
