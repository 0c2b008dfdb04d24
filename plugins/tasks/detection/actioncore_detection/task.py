"""The ``detection`` task: score person boxes of AVA keyframes with multi-label actions.

The model scores RoIs (see DESIGN.md): ``model(inputs, rois, meta=meta) -> logits [R, C]`` and
``model.loss(logits, targets) -> {"loss": ...}``. The task makes the RoIs: in training, ground
truth plus proposals, assigned and sampled as MMAction2's AVA recipe; in evaluation, the
keyframe's proposals. Evaluation writes AVA CSV rows and computes frame-mAP against the split's
annotation file (excluded keyframes never count).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from actioncore.sdk import ConfigError, Experiment, Metric, build_model
from actioncore.sdk.engine import Trainer, TrainerTask
from actioncore.sdk.vis import DemoRequest
from actioncore_recognition import prepare_inputs

from .annotations import ActionBoxes, LabelMap, read_action_csv, read_exclusions, write_action_csv
from .boxes import AssignerConfig, SamplerConfig, sample_rois
from .dataset import resolve_classes
from .frame_map import AvaFrameMAP
from .targets import KeyframeTargets

FEATURE_BANK_FORMAT = "actioncore-lfb-1"


def _objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (arrays of different shapes stay whole)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def roi_batch(boxes: Sequence[np.ndarray], device: torch.device) -> torch.Tensor:
    """``[R, 5]`` RoIs ``(batch index, x1, y1, x2, y2)`` from per-sample ``[r_i, 4]`` boxes."""
    rows = [np.concatenate([np.full((len(b), 1), i, dtype=np.float32), np.asarray(b, np.float32).reshape(-1, 4)], 1)
            for i, b in enumerate(boxes)]
    return torch.from_numpy(np.concatenate(rows) if rows else np.zeros((0, 5), np.float32)).to(device)


def roi_meta(targets: Sequence[KeyframeTargets], counts: Sequence[int]) -> list[dict[str, Any]]:
    return [{"video_id": t.video_id, "timestamp": t.timestamp} for t, n in zip(targets, counts) for _ in range(n)]


class Classes:
    """Column <-> label-map id of a split's data, and the label map (names)."""

    def __init__(self, params: Mapping[str, Any]):
        label_map, self.columns, self.num_classes = resolve_classes(
            params.get("label_file"), params.get("custom_classes"), params.get("num_classes"))
        if self.columns is not None:
            ids = self.columns[1:]
        elif label_map is not None:  # evaluated on the label map's classes (AVA's 60 of 80), as MMAction2
            ids = [i for i in label_map.ids if i < self.num_classes]
        else:
            ids = list(range(1, self.num_classes))
        self.label_map = label_map or LabelMap(tuple(ids), tuple(str(i) for i in ids))
        self.class_ids = ids

    def action_id(self, column: int) -> int:
        return column if self.columns is None else self.columns[column]


def detection_rows(outputs: Mapping[str, np.ndarray], classes: Classes, *, action_thr: float,
                   decimals: int | None) -> ActionBoxes:
    """AVA result rows of per-keyframe outputs, in MMAction2's order (keyframe, class, box):
    every (box, class >= 1) with score > ``action_thr``, numbers rounded to ``decimals``."""
    rows: list[tuple] = []
    for video_id, timestamp, det in zip(outputs["video_id"], outputs["timestamp"], outputs["detections"]):
        boxes, scores = det[:, :4], det[:, 4:]
        for column in range(1, scores.shape[1]):
            keep = np.nonzero(scores[:, column] > action_thr)[0]
            for i in keep:
                rows.append((video_id, int(timestamp), *boxes[i], classes.action_id(column), float(scores[i, column])))
    result = ActionBoxes.from_rows(rows)
    if decimals is not None:
        result = ActionBoxes(result.video_id, result.timestamp, np.round(result.boxes.astype(np.float64), decimals),
                             result.action_id, np.round(result.score, decimals), result.line)
    return result


class DetectionAdapter:
    """How the trainer builds, trains and scores a RoI detector for one experiment."""

    def __init__(self, task: DetectionTask, experiment: Experiment):
        self.task = task
        self.experiment = experiment
        self.metrics = list(task.metrics) if task.metrics else [AvaFrameMAP()]
        self.collect_features = False
        self._ground_truth: dict[str, tuple] = {}

    def build_model(self, experiment: Experiment) -> nn.Module:
        if experiment.model is None:
            raise ConfigError("the detection task needs a [model] table")
        return build_model(experiment)

    def _targets(self, batch: Mapping[str, Any]) -> list[KeyframeTargets]:
        targets = batch["labels"]
        if not all(isinstance(t, KeyframeTargets) for t in targets):
            raise ConfigError("the detection task needs an 'ava' dataset (batches carry no keyframe boxes)")
        return targets

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        task = self.task
        boxes, labels = [], []
        for t in self._targets(batch):
            rois, targets = sample_rois(t.proposals, t.gt_boxes, t.gt_labels, assigner=task.assigner,
                                        sampler=task.sampler, rng=np.random.default_rng(t.sampling_seed))
            boxes.append(rois)
            labels.append(targets)
        rois = roi_batch(boxes, device)
        meta = roi_meta(batch["labels"], [len(b) for b in boxes])
        logits = model(prepare_inputs(batch, device), rois, meta=meta)
        targets = torch.from_numpy(np.concatenate(labels)).to(device)
        if logits.shape[1] != targets.shape[1]:
            raise ConfigError(f"the model scores {logits.shape[1]} classes but the data has {targets.shape[1]} "
                              "target columns: set model.head.num_classes to the dataset's (81 for AVA, "
                              "len(custom_classes) + 1 with custom classes)")
        losses = model.loss(logits, targets)
        losses["num_rois"] = torch.tensor(float(len(rois)))
        return losses

    def eval_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, np.ndarray]:
        targets = self._targets(batch)
        counts = [len(t.proposals) for t in targets]
        rois = roi_batch([t.proposals for t in targets], device)
        meta = roi_meta(targets, counts)
        inputs = prepare_inputs(batch, device)
        logits = model(inputs, rois, meta=meta).float()
        scores = (model.scores(logits) if hasattr(model, "scores") else logits.sigmoid()).cpu().numpy()
        parts = np.split(scores, np.cumsum(counts)[:-1])
        detections = [np.concatenate([t.proposals_normalised, s], axis=1).astype(np.float32)
                      for t, s in zip(targets, parts)]
        rows = {"index": batch["indices"].numpy(), "video_id": _objects([t.video_id for t in targets]),
                "timestamp": np.array([t.timestamp for t in targets], dtype=np.int64),
                "detections": _objects(detections)}
        if self.collect_features:
            if not hasattr(model, "roi_features"):
                raise ConfigError("task.feature_bank needs a model with roi_features(inputs, rois, meta=...)")
            features = model.roi_features(inputs, rois, meta=meta).float().cpu().numpy()
            rows["features"] = _objects(np.split(features, np.cumsum(counts)[:-1]))
        return rows

    def ground_truth(self, split: str) -> tuple[ActionBoxes, set[str], Classes]:
        if split not in self._ground_truth:
            spec = getattr(self.experiment.data, split)
            params = spec.params
            if "ann_file" not in params or spec.type != "ava":
                raise ConfigError(f"data.{split}: the detection task evaluates 'ava' datasets, got '{spec.type}'")
            self._ground_truth[split] = (read_action_csv(params["ann_file"]), read_exclusions(params.get("exclude_file")),
                                         Classes(params))
        return self._ground_truth[split]

    def compute_metrics(self, outputs: Mapping[str, np.ndarray], split: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        gt, excluded, classes = self.ground_truth(split)
        detections = detection_rows(outputs, classes, action_thr=self.task.action_thr, decimals=self.task.decimals)
        metrics: dict[str, float] = {}
        for metric in self.metrics:
            metrics.update(metric(detections, gt, label_map=classes.label_map, class_ids=classes.class_ids,
                                  excluded=excluded))
        return metrics, {}

    def prepare_inputs(self, batch: Mapping[str, Any], device: torch.device) -> torch.Tensor:
        return prepare_inputs(batch, device)

    def demo(self, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
        """``actioncore demo``: boxes and their actions drawn on the video (see :mod:`.demo`)."""
        from .demo import run_demo

        return run_demo(self, model, request)


class DetectionTask(TrainerTask):
    """Spatio-temporal action detection on given person proposals (AVA).

    ``pos_iou_thr``/``min_pos_iou`` (assigner), ``num_rois``/``pos_fraction``/``add_gt_as_proposals``
    (sampler) are MMAction2's AVA training settings. ``action_thr`` and ``decimals`` shape the
    result rows (and so the metric, as in MMAction2, which evaluates the CSV it writes).
    ``feature_bank``: a path; ``actioncore test`` then also stores every RoI's features there
    (LFB's inference pass, see DESIGN.md). ``infer_*``: the ``actioncore infer`` demo
    (``infer_proposals``, ``infer_score_thr`` and ``infer_draw_size`` serve ``actioncore demo`` too).
    """

    def __init__(self, *, metrics: list[Metric] | None = None, pos_iou_thr: float = 0.9, min_pos_iou: float = 0.9,
                 num_rois: int = 32, pos_fraction: float = 1.0, add_gt_as_proposals: bool = True,
                 action_thr: float = 0.002, decimals: int | None = 4, feature_bank: str | None = None,
                 infer_proposals: str | None = None, infer_out_dir: str | None = None,
                 infer_score_thr: float = 0.3, infer_draw_size: int = 256):
        if num_rois < 1 or not 0 <= pos_fraction <= 1:
            raise ValueError(f"num_rois ({num_rois}) must be >= 1 and pos_fraction ({pos_fraction}) in [0, 1]")
        self.metrics = metrics
        self.assigner = AssignerConfig(pos_iou_thr=pos_iou_thr, min_pos_iou=min_pos_iou)
        self.sampler = SamplerConfig(num=num_rois, pos_fraction=pos_fraction, add_gt_as_proposals=add_gt_as_proposals)
        self.action_thr = action_thr
        self.decimals = decimals
        self.feature_bank = feature_bank
        self.infer_proposals = infer_proposals
        self.infer_out_dir = infer_out_dir
        self.infer_score_thr = infer_score_thr
        self.infer_draw_size = infer_draw_size

    def adapter(self, experiment: Experiment) -> DetectionAdapter:
        return DetectionAdapter(self, experiment)

    def evaluate(self, experiment: Experiment, checkpoint: str | Path, *, split: str = "test",
                 out: str | Path | None = None) -> dict[str, float]:
        adapter = self.adapter(experiment)
        adapter.collect_features = self.feature_bank is not None
        metrics, outputs = Trainer(experiment, adapter).evaluate(checkpoint, split)
        if os.environ.get("RANK", "0") == "0":
            if out is not None:
                self.write_predictions(experiment, split, outputs, Path(out))
            if self.feature_bank is not None:
                write_feature_bank(outputs, Path(self.feature_bank))
        return metrics

    def extract_feature_bank(self, experiment: Experiment, checkpoint: str | Path, out: str | Path, *,
                             split: str = "test") -> Path:
        """LFB's inference pass: RoI features of every keyframe of ``split`` saved to ``out``."""
        adapter = self.adapter(experiment)
        adapter.collect_features = True
        _, outputs = Trainer(experiment, adapter).evaluate(checkpoint, split)
        return write_feature_bank(outputs, Path(out))

    def write_predictions(self, experiment: Experiment, split: str, outputs: dict[str, Any], out: Path) -> None:
        """AVA result CSV: ``video_id,timestamp,x1,y1,x2,y2,action_id,score``."""
        classes = self.adapter(experiment).ground_truth(split)[2] if outputs else None
        rows = detection_rows(outputs, classes, action_thr=self.action_thr, decimals=None) if outputs else ActionBoxes.empty()
        write_action_csv(out, rows, decimals=self.decimals if self.decimals is not None else 6)

    def infer(self, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
              topk: int = 5) -> list[dict[str, Any]]:
        from .demo import infer_videos

        return infer_videos(self, experiment, checkpoint, inputs, topk=topk)


def write_feature_bank(outputs: Mapping[str, np.ndarray], out: Path) -> Path:
    """Save per-keyframe RoI features (see DESIGN.md) for ``torch.load(weights_only=True)``."""
    order = sorted(range(len(outputs["index"])), key=lambda i: (str(outputs["video_id"][i]), int(outputs["timestamp"][i])))
    bank = {"format": FEATURE_BANK_FORMAT,
            "video_id": [str(outputs["video_id"][i]) for i in order],
            "timestamp": torch.tensor([int(outputs["timestamp"][i]) for i in order], dtype=torch.int64),
            "features": [torch.from_numpy(np.ascontiguousarray(outputs["features"][i])) for i in order]}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    torch.save(bank, tmp)
    os.replace(tmp, out)
    return out
