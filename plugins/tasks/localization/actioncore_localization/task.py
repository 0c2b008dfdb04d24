"""The ``localization`` task: temporal action proposals from per-video features.

The task is generic over the model; it only needs (see DESIGN.md):

- ``model(inputs) -> outputs`` on the ``[B, C, T]`` batch,
- ``model.loss(outputs, labels) -> {"loss": ..., ...}`` with ``labels`` the batch's
  :class:`VideoAnnotation` list (targets are made from ``label.gt_bbox()``),
- for evaluation either ``model.proposals(outputs, labels)`` (per sample, float ``[N, 3]`` rows
  ``(start_s, end_s, score)``, post-processed), scored with the AR@AN metrics and written as
  ActivityNet proposal JSON by ``actioncore test --out``; or ``model.video_outputs(outputs,
  labels)`` (per sample, named equal-length columns), written as one CSV per video into
  ``output_dir`` with no metrics (a stage such as BSN's TEM whose outputs feed the next one);
  or ``model.detections(outputs, labels)`` (per sample, a list of labelled
  :class:`~actioncore_localization.detection_map.Detection`, post-processed: SSN), scored by
  ``mAP@tIoU`` on the model's own classes (AR@AN on their segments) and written as ActivityNet
  detection JSON. The labels then carry ``video_id``, ``segments`` and ``labels`` (class names).

A batch with ``normalize`` set (frame pipelines with a ``normalize`` step) is normalised on the
device; feature batches have none and are taken as they are.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from actioncore.sdk import ConfigError, Experiment, Metric, build_model, build_spec
from actioncore.sdk.data import Pipeline, VideoSample, example_batch, normalize_on_device
from actioncore.sdk.engine import ExportExample, TrainerTask, load_weights

from .annotations import VideoAnnotation, read_activitynet
from .detection_map import Detection
from .features import LocalizationFeatureDecoder
from .metrics import ARatAN

RESULTS_VERSION = "VERSION 1.3"
"""The ``version`` field of ActivityNet result files."""


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def object_rows(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array of ``values`` (NumPy would stack equal-shaped arrays into one)."""
    rows = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        rows[i] = value
    return rows


def batch_labels(batch: Mapping[str, Any]) -> list[Any]:
    """The batch's annotations; the blank stand-in batch of ``bench model`` (integer labels) gets
    one made-up action over the middle half of each video, so training steps can be timed."""
    labels = batch["labels"]
    if isinstance(labels, torch.Tensor):
        stand_in = VideoAnnotation(video_name="blank", duration_second=100.0, duration_frame=3000,
                                   feature_frame=3000, fps=30.0, segments=[[25.0, 75.0]], labels=("action",))
        return [stand_in] * len(labels)
    return list(labels)


def ground_truth_of(annotations: Sequence[Any]) -> dict[str, np.ndarray]:
    """``{video_id: [K, 2] segments in seconds}`` for the AR@AN metrics."""
    return {a.video_id: np.asarray(a.segments, dtype=np.float64).reshape(-1, 2) for a in annotations}


def detection_json(annotations: Sequence[Any], detections: Sequence[Sequence[Detection]]) -> dict[str, Any]:
    """ActivityNet's detection result file: each result also names its class (``label``)."""
    results = {a.video_id: [{"segment": [d.start, d.end], "score": d.score, "label": d.label} for d in dets]
               for a, dets in zip(annotations, detections)}
    return {"version": RESULTS_VERSION, "results": results, "external_data": {}}


def proposal_rows(detections: Sequence[Detection]) -> np.ndarray:
    """``[N, 3]`` ``(start, end, score)`` of labelled detections, for the AR@AN metrics."""
    return np.asarray([(d.start, d.end, d.score) for d in detections], dtype=np.float64).reshape(-1, 3)


def proposal_json(annotations: Sequence[Any], proposals: Sequence[np.ndarray]) -> dict[str, Any]:
    """ActivityNet's result file: ``{"version", "results": {video_id: [{segment, score}]}, "external_data"}``."""
    results = {a.video_id: [{"segment": [float(row[0]), float(row[1])], "score": float(row[2])}
                            for row in np.asarray(rows).reshape(-1, 3)]
               for a, rows in zip(annotations, proposals)}
    return {"version": RESULTS_VERSION, "results": results, "external_data": {}}


def write_video_outputs(directory: Path, annotations: Sequence[Any], columns: Sequence[Mapping[str, Any]]) -> None:
    """One CSV per video, ``{video_name}.csv``, header = the column names."""
    directory.mkdir(parents=True, exist_ok=True)
    for annotation, table in zip(annotations, columns):
        names = list(table)
        data = np.stack([np.asarray(table[n], dtype=np.float64).reshape(-1) for n in names], axis=1)
        np.savetxt(directory / f"{annotation.video_name}.csv", data, delimiter=",", header=",".join(names),
                   comments="")


class LocalizationAdapter:
    """How the trainer builds, trains and scores a temporal proposal model."""

    def __init__(self, task: LocalizationTask, experiment: Experiment):
        self.task = task
        self.experiment = experiment
        self.metrics = list(task.metrics) if task.metrics else [ARatAN()]

    def build_model(self, experiment: Experiment) -> nn.Module:
        if experiment.model is None:
            raise ConfigError("the localization task needs a [model] table")
        model = build_model(experiment)
        if not callable(getattr(model, "loss", None)):
            raise ConfigError(f"model '{experiment.model.type}' has no loss(outputs, labels) method; "
                              "the localization task needs one (see actioncore-localization's DESIGN.md)")
        return model

    def prepare_inputs(self, batch: Mapping[str, Any], device: torch.device) -> torch.Tensor:
        inputs = batch["inputs"].to(device, non_blocking=True)
        normalize = batch.get("normalize")
        return inputs.float() if normalize is None else normalize_on_device(inputs, **normalize)

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        outputs = model(self.prepare_inputs(batch, device))
        return dict(_unwrap(model).loss(outputs, batch_labels(batch)))

    def export_example(self, model: nn.Module) -> ExportExample:
        """The network's forward on the test pipeline's features. Post-processing (candidate
        proposals, soft-NMS: ``model.proposals``) stays NumPy code that a deployment runs on the
        outputs. The model may describe its outputs and input (``export_outputs``: name ->
        description, ``input_layout``); otherwise one output ``outputs``."""
        inputs = self.prepare_inputs(example_batch(self.experiment), torch.device("cpu"))
        return ExportExample(module=model, input_shape=inputs.shape, input_name="features",
                             outputs=dict(getattr(model, "export_outputs", {"outputs": "the model's output"})),
                             layout=getattr(model, "input_layout", None), preprocessing={"dtype": "float32"})

    def eval_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, np.ndarray]:
        model = _unwrap(model)
        labels = batch_labels(batch)
        outputs = model(self.prepare_inputs(batch, device))
        rows = {"index": batch["indices"].numpy(), "annotation": object_rows(labels)}
        if callable(getattr(model, "detections", None)):
            rows["detections"] = object_rows([list(d) for d in model.detections(outputs, labels)])
        elif callable(getattr(model, "proposals", None)):
            rows["proposals"] = object_rows([np.asarray(p, dtype=np.float64).reshape(-1, 3)
                                             for p in model.proposals(outputs, labels)])
        elif callable(getattr(model, "video_outputs", None)):
            rows["video_outputs"] = object_rows(model.video_outputs(outputs, labels))
        else:
            raise ConfigError(f"{type(model).__name__} has neither proposals(outputs, labels), detections(outputs, "
                              "labels) nor video_outputs(outputs, labels); the localization task cannot evaluate it")
        return rows

    def compute_metrics(self, outputs: Mapping[str, np.ndarray], split: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        annotations = list(outputs["annotation"])
        if "video_outputs" in outputs:
            if os.environ.get("RANK", "0") == "0":
                write_video_outputs(self.task.output_path(self.experiment, split), annotations,
                                    list(outputs["video_outputs"]))
            return {}, {}
        ground_truth = ground_truth_of(annotations)
        labelled = {a.video_id: (ground_truth[a.video_id], a.labels) for a in annotations}
        own = None
        if "detections" in outputs:  # a detector: its own labelled detections
            own = [d for dets in outputs["detections"] for d in dets]
            proposals = {a.video_id: proposal_rows(d) for a, d in zip(annotations, outputs["detections"])}
        else:
            proposals = {a.video_id: p for a, p in zip(annotations, outputs["proposals"])}
        metrics: dict[str, float] = {}
        for metric in self.metrics:
            detections = getattr(metric, "detections", None)
            if callable(detections):  # scores labelled detections (mAP@tIoU), not proposals
                metrics.update(metric(labelled, own if own is not None else detections(proposals)))
            else:
                metrics.update(metric(ground_truth, proposals))
        return metrics, {}


class LocalizationTask(TrainerTask):
    """Train and evaluate temporal action proposal models (BMN, BSN) on untrimmed-video features.

    ``metrics`` default to ``AR@AN`` (AUC and AR@1/5/10/100); ``mAP@tIoU`` adds detection mAP
    (ActivityNet or THUMOS14 thresholds) with the classes of a recognizer's predictions file on
    the same videos (:class:`~actioncore_localization.detection_map.DetectionMAP`). ``output_dir`` is where models
    without proposals (BSN's TEM) write their per-video CSVs; default ``{work_dir}/{split}_outputs``.
    """

    def __init__(self, *, metrics: list[Metric] | None = None, output_dir: str | None = None):
        self.metrics = metrics
        self.output_dir = output_dir

    def output_path(self, experiment: Experiment, split: str) -> Path:
        if self.output_dir:
            return Path(self.output_dir)
        return Path(experiment.runtime.work_dir) / f"{split}_outputs"

    def adapter(self, experiment: Experiment) -> LocalizationAdapter:
        return LocalizationAdapter(self, experiment)

    def infer(self, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
              topk: int = 5) -> list[dict[str, Any]]:
        """The ``topk`` best proposals of each feature file in ``inputs``.

        A file named after a video of the test (else val) annotation gets segments in seconds;
        any other file, whose duration nothing tells, gets them as fractions of the video
        (``"unit": "fraction"``).
        """
        split = "test" if experiment.data.test is not None else "val"
        spec = getattr(experiment.data, split)
        if spec is None:
            raise ConfigError("infer: the experiment has no [data.test] or [data.val] to take the pipeline from")
        pipeline = Pipeline(build_spec(spec.params.get("pipeline", []), f"data.{split}.pipeline"))
        known = {a.video_name: a for a in read_activitynet(spec.params["ann_file"])} if "ann_file" in spec.params else {}
        adapter = self.adapter(experiment)
        model = adapter.build_model(experiment)
        load_weights(model, checkpoint)
        model.eval()
        results = []
        with torch.no_grad():
            for path in inputs:
                name = Path(path).stem
                annotation = known.get(name)
                with LocalizationFeatureDecoder().open(path) as reader:
                    sample = pipeline(VideoSample(source=str(path), reader=reader, num_frames=reader.num_frames))
                if annotation is None:  # one feature window per step, so post-processing keeps fractions
                    interval = getattr(model, "soft_nms", {}).get("feature_extraction_interval", 16)
                    annotation = VideoAnnotation(video_name=name, duration_second=1.0, duration_frame=interval,
                                                 feature_frame=interval, fps=float(interval), segments=np.zeros((0, 2)))
                outputs = model(sample.frames[None].float())
                rows = np.asarray(model.proposals(outputs, [annotation])[0]).reshape(-1, 3)[:topk]
                results.append({"input": str(path), "unit": "second" if name in known else "fraction",
                                "proposals": [{"segment": [float(r[0]), float(r[1])], "score": float(r[2])}
                                              for r in rows]})
        return results

    def write_predictions(self, experiment: Experiment, split: str, outputs: dict[str, Any], out: Path) -> None:
        if "detections" in outputs:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(detection_json(list(outputs["annotation"]), list(outputs["detections"]))))
            return
        if "proposals" not in outputs:
            raise ConfigError("--out: this model writes per-video outputs (to task.output_dir), not proposals")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(proposal_json(list(outputs["annotation"]), list(outputs["proposals"]))))
