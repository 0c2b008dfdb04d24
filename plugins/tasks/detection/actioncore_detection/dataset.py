"""The ``ava`` dataset: AVA keyframes with their people, actions and person proposals.

One sample per annotated keyframe (image key ``video_id,timestamp``) that is not excluded, in
the annotation file's order, as MMAction2's ``AVADataset``. The source of a keyframe is
``root / source_tmpl.format(video_id=...)``: a frame folder (``img_00001.jpg`` ..., the
``frame_folder`` decoder) or a video file (``source_tmpl = "{video_id}.mp4"``).

The experiment's pipeline runs with boxes attached: each step is wrapped so that the proposals
and ground-truth boxes follow the kernel's pending geometry (see :class:`BoxTracking`), so the
kernel's ``resize``, ``random_crop``, ``center_crop``, ``flip`` ... move boxes without box-aware
copies of them.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from actioncore.sdk.data import ClipRecord, VideoSample
from actioncore.sdk import ConfigError, DataError, Transform

from .annotations import LabelMap, image_key, read_action_csv, read_exclusions, read_label_map, read_proposals
from .sampling import KEYFRAME
from .targets import Clock, Keyframe, KeyframeTargets

NORMALISED = "ava_boxes_normalised"
BOXES = "ava_boxes"
BASE = "ava_boxes_base"
SHAPE = "ava_img_shape"
WHOLE_FRAME = np.array([[0.0, 0.0, 1.0, 1.0]], dtype=np.float32)

_MULTI_VIEW = ("ThreeCrop", "TenCrop")


def resolve_classes(label_file: str | None, custom_classes: Sequence[int] | None,
                    num_classes: int | None) -> tuple[LabelMap | None, list[int] | None, int]:
    """The label map, the column -> action id table (None: column k is action k) and the width.

    As MMAction2: without ``custom_classes`` the action id is the column (81 columns for AVA);
    with them, column ``k >= 1`` is ``custom_classes[k - 1]`` and column 0 stays unused.
    """
    label_map = read_label_map(label_file) if label_file else None
    if custom_classes is None:
        width = num_classes if num_classes is not None else (max(label_map.ids) + 1 if label_map else 81)
        return label_map, None, width
    custom = [int(c) for c in custom_classes]
    if 0 in custom or len(set(custom)) != len(custom) or not custom:
        raise ConfigError(f"custom_classes {custom}: ids must be distinct, positive, at least one")
    if label_map is None:
        raise ConfigError("custom_classes needs label_file (the label map they are taken from)")
    unknown = sorted(set(custom) - set(label_map.ids))
    if unknown:
        raise ConfigError(f"custom_classes {unknown} are not in the label map {label_file}")
    if num_classes is not None and num_classes != len(custom) + 1:
        raise ConfigError(f"num_classes {num_classes} must be len(custom_classes) + 1 = {len(custom) + 1}")
    return label_map, [0, *custom], len(custom) + 1


def select_proposals(values: np.ndarray | None, threshold: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """MMAction2's proposal choice: boxes scoring at least ``min(threshold, best score)``, the
    first ``limit`` of them; no proposals at all means the whole frame."""
    if values is None or len(values) == 0:
        return WHOLE_FRAME.copy(), np.ones(1, dtype=np.float32)
    thr = min(threshold, float(values[:, 4].max()))
    kept = values[values[:, 4] >= thr][:limit]
    return kept[:, :4].copy(), kept[:, 4].copy()


class AvaDataset:
    """AVA keyframes: ``ann_file`` (actions CSV), ``exclude_file``, ``label_file`` (pbtxt),
    ``proposal_file`` (proposals CSV; convert MMAction2's pickle with ``actioncore data
    convert ava_proposals``). Without proposals the ground-truth boxes are the proposals.

    ``person_det_score_thr`` keeps proposals scoring at least that much (at least the best one);
    ``custom_classes`` evaluates a subset of the label map's ids (``num_classes`` is then
    ``len(custom_classes) + 1``). ``fps``, ``timestamp_start``, ``timestamp_end`` and
    ``start_index`` are MMAction2's timestamp -> frame arithmetic (see ``sample_ava_frames``);
    ``use_frames = false`` reads videos and takes the frame count from the file.
    ``min_proposal_coverage``: the fraction of annotated keyframes that the proposal file must
    cover; fewer means the file belongs to other annotations (a :class:`DataError`).
    """

    def __init__(self, *, ann_file: str, pipeline: list[Transform], root: str = "",
                 exclude_file: str | None = None, label_file: str | None = None,
                 proposal_file: str | None = None, person_det_score_thr: float = 0.9,
                 num_classes: int | None = None, custom_classes: list[int] | None = None,
                 source_tmpl: str = "{video_id}", use_frames: bool = True, fps: int = 30,
                 timestamp_start: int = 900, timestamp_end: int = 1800, start_index: int = 1,
                 num_max_proposals: int = 1000, min_proposal_coverage: float = 0.5):
        if not 0 <= person_det_score_thr <= 1:
            raise ConfigError(f"person_det_score_thr must be in [0, 1], got {person_det_score_thr}")
        if proposal_file is not None and str(proposal_file).endswith((".pkl", ".pickle")):
            raise ConfigError(f"proposal_file {proposal_file}: pickles are not read; convert it once with "
                              f"'actioncore data convert ava_proposals {proposal_file} OUT.csv --trust-pickle'")
        if "{video_id}" not in source_tmpl:
            raise ConfigError(f"source_tmpl {source_tmpl!r} must contain {{video_id}}")
        self.ann_file = ann_file
        self.root = root
        self.source_tmpl = source_tmpl
        self.label_map, self.columns, self.num_classes = resolve_classes(label_file, custom_classes, num_classes)
        self.excluded = read_exclusions(exclude_file)
        self.clock = Clock(fps=fps, timestamp_start=timestamp_start, start_index=start_index,
                           shot_frames=(timestamp_end - timestamp_start) * fps if use_frames else None)
        self.default_decoder = "frame_folder" if use_frames else "pyav"
        proposals = read_proposals(proposal_file) if proposal_file is not None else None
        parsed = self._keyframes(proposals, person_det_score_thr, num_max_proposals)
        self.keyframes = [keyframe for keyframe, _ in parsed]
        if not self.keyframes:
            raise DataError(f"{ann_file}: no keyframe left to use (every one excluded or outside the classes)",
                            path=ann_file)
        if proposals is not None:
            self._check_coverage(proposals, proposal_file, min_proposal_coverage)
        self.records = [ClipRecord(self._source(k.video_id), None, ann_file=ann_file, line=line)
                        for k, line in parsed]
        steps = [BoxTracking(step) for step in pipeline]
        self.pipeline = [LoadKeyframe(self), *steps, PackKeyframe()]

    def _source(self, video_id: str) -> str:
        relative = self.source_tmpl.format(video_id=video_id)
        return os.path.join(self.root, relative) if self.root else relative

    def _column(self, action: int) -> int | None:
        if self.columns is None:
            return action if 0 < action < self.num_classes else None
        return self.columns.index(action) if action in self.columns else None

    def _keyframes(self, proposals: dict[str, np.ndarray] | None, threshold: float,
                   limit: int) -> list[tuple[Keyframe, int]]:
        """Each kept keyframe with the annotation line it starts at, in file order."""
        rows = read_action_csv(self.ann_file)
        grouped: dict[str, list[int]] = {}
        for i, key in enumerate(rows.keys()):
            grouped.setdefault(key, []).append(i)
        keyframes = []
        for key, members in grouped.items():
            if key in self.excluded:
                continue
            boxes: list[np.ndarray] = []
            labels: list[np.ndarray] = []
            for i in members:
                column = self._column(int(rows.action_id[i]))
                if column is None:
                    if self.columns is None:
                        raise DataError(f"{self.ann_file}:{rows.line[i]}: action_id {rows.action_id[i]} is outside "
                                        f"1..{self.num_classes - 1}", path=self.ann_file, line=int(rows.line[i]))
                    continue  # not among the custom classes
                box = rows.boxes[i].astype(np.float32)
                same = [j for j, b in enumerate(boxes) if np.array_equal(b, box)]  # one person, several actions
                if not same:
                    boxes.append(box)
                    labels.append(np.zeros(self.num_classes, dtype=np.float32))
                labels[same[0] if same else -1][column] = 1.0
            if not boxes:
                continue
            gt_boxes, gt_labels = np.stack(boxes), np.stack(labels)
            if proposals is None:
                chosen, scores = gt_boxes.copy(), np.ones(len(gt_boxes), dtype=np.float32)
            else:
                chosen, scores = select_proposals(proposals.get(key), threshold, limit)
            video_id, timestamp = key.rsplit(",", 1)
            keyframe = Keyframe(video_id, int(timestamp), self.clock, chosen, scores, gt_boxes, gt_labels)
            keyframes.append((keyframe, int(rows.line[members[0]])))
        return keyframes

    def _check_coverage(self, proposals: dict[str, np.ndarray], proposal_file: str, minimum: float) -> None:
        keys = [image_key(k.video_id, k.timestamp) for k in self.keyframes]
        missing = [k for k in keys if k not in proposals]
        covered = 1 - len(missing) / len(keys)
        if covered < minimum:
            raise DataError(f"{proposal_file}: the proposals do not match the annotations {self.ann_file}: only "
                            f"{covered:.0%} of its {len(keys)} keyframes have proposals (need "
                            f"{minimum:.0%}; min_proposal_coverage); missing e.g. {', '.join(missing[:3])}",
                            path=proposal_file)

    def __len__(self) -> int:
        return len(self.keyframes)

    def __repr__(self) -> str:
        return f"AvaDataset({self.ann_file!r}, {len(self.keyframes)} keyframes)"


class LoadKeyframe:
    """First step: attach the keyframe of the sample's record (found by dataset index)."""

    needs_pixels = False

    def __init__(self, dataset: AvaDataset):
        self.dataset = dataset

    def __call__(self, sample: VideoSample) -> VideoSample:
        keyframe = self.dataset.keyframes[sample.index]
        if self.dataset.records[sample.index].source != sample.source:
            raise ConfigError("the ava dataset's records were reordered; its samples cannot be matched")
        sample.meta[KEYFRAME] = keyframe
        sample.meta[NORMALISED] = {"proposals": keyframe.proposals, "gt_boxes": keyframe.gt_boxes}
        return sample

    def __repr__(self) -> str:
        return "LoadKeyframe()"


class BoxTracking:
    """Runs one pipeline step and moves the sample's boxes with it.

    Invariant: ``meta[BOXES]`` holds the boxes in pixels of the frames as they will be once the
    pending geometry is applied, and ``meta[BASE]`` the same boxes in pixels of the frames the
    pending geometry starts from. Decoding turns the normalised boxes into pixels (x * width,
    y * height, as MMAction2's ``RawFrameDecode``); any step that changes the pending geometry
    (every kernel resize, crop and flip) re-maps ``BASE`` through it; a step that finds no
    pending geometry (the pipeline just applied it) starts a new ``BASE`` from ``BOXES``.
    """

    def __init__(self, step: Any):
        if type(step).__name__ in _MULTI_VIEW:
            raise ConfigError(f"{type(step).__name__} makes several views; detection pipelines take one view")
        self.step = step
        self.needs_pixels = getattr(step, "needs_pixels", True)

    def __call__(self, sample: VideoSample) -> VideoSample:
        before = sample.geometry
        decoded = sample.frames is not None
        if before is None and BOXES in sample.meta:
            sample.meta[BASE] = sample.meta[BOXES]
        crops = sample.num_crops
        sample = self.step(sample)
        if sample.num_crops != crops:
            raise ConfigError(f"{self.step!r} makes several views; detection pipelines take one view")
        if not decoded and sample.frames is not None and NORMALISED in sample.meta:
            height, width = (sample.geometry.source_size if sample.geometry is not None
                             else tuple(sample.frames.shape[1:3]))
            scale = np.array([width, height, width, height], dtype=np.float32)
            sample.meta[BASE] = {k: v * scale for k, v in sample.meta[NORMALISED].items()}
            sample.meta[BOXES] = sample.meta[BASE]
            sample.meta[SHAPE] = (int(height), int(width))
        if sample.geometry is not None and sample.geometry is not before and BASE in sample.meta:
            geometry = sample.geometry
            sample.meta[BOXES] = {k: geometry.transform_boxes(v).astype(np.float32)
                                  for k, v in sample.meta[BASE].items()}
            sample.meta[SHAPE] = tuple(int(s) for s in geometry.size)
        return sample

    def __repr__(self) -> str:
        return repr(self.step)


class PackKeyframe:
    """Last step: the keyframe's boxes as :class:`KeyframeTargets` in ``sample.label`` (which the
    kernel's collate carries into ``batch["labels"]``)."""

    needs_pixels = False

    def __call__(self, sample: VideoSample) -> VideoSample:
        keyframe: Keyframe = sample.meta.pop(KEYFRAME)
        if BOXES not in sample.meta:
            raise ConfigError("the ava pipeline has no decode step: boxes need the decoded frame size")
        boxes = sample.meta.pop(BOXES)
        sample.meta.pop(BASE, None)
        sample.meta.pop(NORMALISED, None)
        height, width = sample.meta.pop(SHAPE)
        frames_hw = _frame_size(sample)
        if frames_hw is not None and frames_hw != (height, width):
            raise ConfigError(f"the frames are {frames_hw[1]}x{frames_hw[0]} but the boxes were moved to "
                              f"{width}x{height}: a pipeline step changed the frames without moving the boxes")
        sample.label = KeyframeTargets(
            video_id=keyframe.video_id, timestamp=keyframe.timestamp, img_shape=(height, width),
            proposals=boxes["proposals"], proposals_normalised=keyframe.proposals,
            proposal_scores=keyframe.proposal_scores, gt_boxes=boxes["gt_boxes"], gt_labels=keyframe.gt_labels,
            sampling_seed=int(sample.rng.integers(2**62)))
        return sample

    def __repr__(self) -> str:
        return "PackKeyframe()"


def _frame_size(sample: VideoSample) -> tuple[int, int] | None:
    if sample.geometry is not None:
        return tuple(int(s) for s in sample.geometry.size)
    if sample.frames is None:
        return None
    if sample.meta.get("input_format") == "NCTHW":
        return tuple(int(s) for s in sample.frames.shape[-2:])
    if "input_format" not in sample.meta:
        return tuple(int(s) for s in sample.frames.shape[1:3])
    return None
