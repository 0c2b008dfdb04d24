"""The skeleton task's ``actioncore demo``: a pose record drawn as a video with its top-k labels.

INPUT is what ``actioncore infer`` takes for this task: a record ``STORE/index.json#frame_dir``,
or a pose store (its folder or ``index.json``) that holds exactly one record. The prediction is
``infer``'s (the experiment's test pipeline on the record, the ``pose_records`` decoder); with
``--max-seconds`` the record is cut to its first frames first (a one-record store in a temporary
folder) so that the labels say what the drawn frames show.

Every frame of the record becomes a video frame: each person's joints and the layout's graph
edges (COCO-17 for 2D keypoints in pixels of the record's ``img_shape``; NTU RGB+D 25 for 3D,
projected to x, y and fitted into a square canvas, y up) in the person's colour, on a black
canvas whose short side is at least :data:`DRAW_SIZE` pixels, with the top-k labels in the
corner. Joints that are missing (score 0, or at the origin as pose estimators store an undetected
joint) are left out; a record with no joint to draw is a :class:`DataError` naming it. Pose
records carry no frame rate: the video runs at :data:`POSE_FPS`.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from PIL import Image
from torch import nn

from actioncore.sdk import ConfigError, DataError
from actioncore.sdk.data import build_decoder
from actioncore.sdk.vis import PALETTE, DemoRequest, draw_skeleton, labelled_frame, prediction_lines, video_writer
from actioncore_pose import LAYOUTS, SEPARATOR, Layout, PoseStore, get_layout, write_store
from actioncore_recognition import clip_dataset, scored_predictions

from .task import record_references, with_pose_decoder

if TYPE_CHECKING:
    from actioncore_recognition import RecognitionAdapter

POSE_FPS = 30.0
"""Frames per second of the drawn video (NTU RGB+D and the COCO pose sets are filmed at 30)."""
DRAW_SIZE = 256
"""Short side of the drawing in pixels at least (small records are scaled up, so labels are legible)."""


def record_layout(store: PoseStore) -> Layout | None:
    """The store's layout, else the only known layout with its joint count (None: joints only)."""
    if store.layout:
        return get_layout(store.layout)
    fits = {layout.name: layout for layout in LAYOUTS.values() if layout.num_joints == store.num_joints}
    return next(iter(fits.values())) if len(fits) == 1 else None


def visible_joints(keypoint: np.ndarray, score: np.ndarray | None) -> np.ndarray:
    """bool ``[M, T, V]``: joints with a position (not all-zero coordinates) and a positive score."""
    seen = np.any(keypoint != 0, axis=-1)
    return seen if score is None else seen & (score > 0)


def canvas_points(keypoint: np.ndarray, seen: np.ndarray, img_shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Pixel positions ``[M, T, V, 2]`` of the joints on the canvas, and the canvas ``(height, width)``.

    2D keypoints are pixels of ``img_shape``, scaled with the canvas. 3D keypoints (metres) keep
    x, y (y up, flipped for the image) and are fitted, aspect kept, into a square canvas with a
    10 % margin around the visible joints of the whole record, so the camera stays put.
    """
    if keypoint.shape[-1] == 2:
        height, width = img_shape
        scale = max(1.0, DRAW_SIZE / min(height, width))
        return keypoint * scale, (round(height * scale), round(width * scale))
    xy = keypoint[..., :2] * np.array([1.0, -1.0], dtype=np.float32)
    lo, hi = xy[seen].min(axis=0), xy[seen].max(axis=0)
    span = float(max((hi - lo).max(), 1e-6))
    scale = 0.8 * DRAW_SIZE / span
    offset = (DRAW_SIZE - scale * (hi - lo)) / 2 - scale * lo
    return xy * scale + offset, (DRAW_SIZE, DRAW_SIZE)


def drawable_joints(keypoint: np.ndarray, score: np.ndarray | None, *, where: str) -> np.ndarray:
    """:func:`visible_joints`, or a DataError naming ``where`` when there is none to draw."""
    seen = visible_joints(keypoint, score)
    if not seen.any():
        raise DataError(f"{where}: the record has no keypoints to draw (every joint of its "
                        f"{keypoint.shape[1]} frame(s) is missing: zero score or at the origin)", path=where)
    return seen


def render_record(keypoint: np.ndarray, score: np.ndarray | None, *, img_shape: tuple[int, int],
                  layout: Layout | None, lines: list[str], where: str) -> Iterator[np.ndarray]:
    """uint8 RGB frames, one per frame of ``keypoint [M, T, V, C]``: every person's skeleton and ``lines``."""
    seen = drawable_joints(keypoint, score, where=where)
    points, (height, width) = canvas_points(keypoint, seen, img_shape)
    limbs = layout.inward if layout is not None else ()
    for t in range(keypoint.shape[1]):
        image = Image.new("RGB", (width, height))
        for m in range(keypoint.shape[0]):
            if seen[m, t].any():
                draw_skeleton(image, points[m, t], limbs, scores=seen[m, t].astype(np.float32), threshold=0.5,
                              colour=PALETTE[m % len(PALETTE)])
        yield labelled_frame(np.asarray(image), lines)


def class_names(adapter: RecognitionAdapter) -> list[str] | None:
    """``task.classes``, or None where that file is not on this machine (labels show as numbers)."""
    try:
        return adapter.class_names
    except DataError:
        return None


def single_reference(source: str) -> str:
    """``INDEX#frame_dir`` of the demo's input: a record, or the one record of a store."""
    references = record_references([source])
    if len(references) != 1:
        names = ", ".join(r.rpartition(SEPARATOR)[2] for r in references[:3])
        raise DataError(f"{source}: the pose store holds {len(references)} records ({names}, ...); name one as "
                        f"{source.rstrip('/')}{'' if source.endswith('.json') else '/index.json'}{SEPARATOR}"
                        "FRAME_DIR", path=source)
    return references[0]


def run_demo(adapter: RecognitionAdapter, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
    reference = single_reference(request.source)
    index, _, frame_dir = reference.partition(".json" + SEPARATOR)
    store = PoseStore(index + ".json")
    entry = store.by_name[frame_dir]
    record = next(iter(store.records([entry])))
    if request.max_seconds is not None:
        if not request.max_seconds > 0:
            raise ConfigError(f"--max-seconds must be positive, got {request.max_seconds}")
        frames = max(1, round(request.max_seconds * POSE_FPS))
        score = None if record.keypoint_score is None else record.keypoint_score[:, :frames]
        record = attrs.evolve(record, keypoint=record.keypoint[:, :frames], keypoint_score=score)
    drawable_joints(record.keypoint, record.keypoint_score, where=reference)  # before the model runs
    experiment = with_pose_decoder(adapter.experiment)
    names = request.class_names or class_names(adapter)
    with tempfile.TemporaryDirectory(prefix="actioncore-pose-demo-") as tmp:
        source = reference
        if record.total_frames != entry.total_frames:
            write_store(tmp, [record], layout=store.layout)
            source = f"{Path(tmp, 'index.json')}{SEPARATOR}{record.frame_dir}"
        sample = clip_dataset(experiment, [source], build_decoder(experiment, "pose_records"))[0]
        predictions = scored_predictions(model, sample, multi_label=adapter.task.multi_label, topk=request.topk,
                                         names=names)
    with video_writer(request.out, fps=POSE_FPS) as writer:
        for frame in render_record(record.keypoint, record.keypoint_score, img_shape=record.img_shape,
                                   layout=record_layout(store), lines=prediction_lines(predictions), where=reference):
            writer.write(frame)
    return {"input": reference, "out": str(request.out), "fps": POSE_FPS, "frames": writer.count,
            "size": list(writer.size), "codec": writer.codec, "persons": record.num_persons,
            "predictions": predictions}

