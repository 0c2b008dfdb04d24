"""The ``recognition`` task: losses, evaluation outputs, metrics and predictions for clips."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from actioncore.sdk import ConfigError, DataError, Experiment, Metric, Transform, build_model
from actioncore.sdk.data import (
    ClipDataset, ClipRecord, build_decoder, collate, example_batch, extra_source_specs, inference_split_name,
    normalize_on_device,
    num_classes_of, split_pipeline, top_predictions,
)
from actioncore.sdk.engine import ExportExample, TrainerTask, load_weights, resolve_device
from actioncore.sdk.vis import DemoRequest, ExplainExample

from .blending import BatchBlending
from .multisource import MAIN, MultiSourceLoader, Source, source_settings
from .metrics import MeanClassAccuracy, TopKAccuracy, confusion_matrix, render_confusion_matrix


def prepare_inputs(batch: Mapping[str, Any], device: torch.device) -> torch.Tensor:
    """The uint8 batch moved to ``device`` and normalised there (workers never ship floats)."""
    inputs = batch["inputs"].to(device, non_blocking=True)
    normalize = batch.get("normalize")
    if normalize is None:
        return inputs.float()
    return normalize_on_device(inputs, **normalize)


def read_class_names(path: str | None, num_classes: int | None) -> list[str] | None:
    if path is None:
        return None
    try:
        names = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise DataError(f"task.classes {path}: cannot read class names: {exc.strerror or exc}", path=path) from None
    if num_classes is not None and len(names) != num_classes:
        raise DataError(f"task.classes {path}: {len(names)} class names for {num_classes} classes", path=path)
    return names


def auxiliary_losses(model: nn.Module, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """The weighted auxiliary losses of the last training forward (TPN's ``loss_aux``).

    A module of the model that supervises itself (a neck with an auxiliary classifier) defines
    ``auxiliary_losses(targets) -> {name: weighted loss}``; the training loss is the sum of the
    head's loss and these, as MMAction2 sums its recognizer's loss dict. Found by walking the
    modules, so that DDP- or compile-wrapped models work too.
    """
    losses: dict[str, torch.Tensor] = {}
    for module in model.modules():
        method = getattr(module, "auxiliary_losses", None)
        if callable(method):
            losses.update(method(targets))
    return losses


LAYOUTS = {
    "NCHW": "[batch, segments (clips x crops x frames), channels, height, width]",
    "NCTHW": "[batch, views (clips x crops), channels, frames, height, width]",
    "NCHW_Flow": "[batch, segments (clips x crops), 2 x clip_len channels (x, y per frame), height, width]",
    "NMTVC": "[batch, clips, persons, frames, joints, features per joint]",
}
"""The recognizers' input layouts in words, by the pipeline's ``format_shape`` (``sample.meta["input_format"]``)."""


@attrs.define
class _Annotations:
    records: list[ClipRecord]
    pipeline: Any
    default_decoder: str = "auto"


class RecognitionAdapter:
    """How the trainer builds, trains and scores a recognizer for one experiment."""

    _class_names: list[str] | None = None
    loss_weights: dict[str, float] = {}
    """Per-source loss weights of multi-source training (set by :meth:`train_loader`)."""

    def __init__(self, task: RecognitionTask, experiment: Experiment):
        self.task = task
        self.experiment = experiment
        self.num_classes = num_classes_of(experiment)
        self.metrics = list(task.metrics) if task.metrics else [TopKAccuracy(topk=(1, 5)), MeanClassAccuracy()]

    @property
    def class_names(self) -> list[str] | None:
        """``task.classes`` read once (``RecognitionTask.run`` reads it at start, so a missing file
        fails before training; ``info`` and ``bench`` never need it)."""
        if self._class_names is None and self.task.classes is not None:
            self._class_names = read_class_names(self.task.classes, self.num_classes)
        return self._class_names

    def build_model(self, experiment: Experiment) -> nn.Module:
        if experiment.model is None:
            raise ConfigError("the recognition task needs a [model] table")
        return build_model(experiment)

    def targets(self, labels: Any, device: torch.device) -> torch.Tensor:
        if isinstance(labels, torch.Tensor):
            return labels.to(device)
        if self.num_classes is None:
            raise ConfigError("multi-label data needs model.head.num_classes")
        hot = torch.zeros(len(labels), self.num_classes, device=device)
        for row, label in enumerate(labels):
            hot[row, list(label if isinstance(label, tuple) else (label,))] = 1.0
        return hot

    def loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        scores = scores.float()
        if self.task.multi_label:
            return F.binary_cross_entropy_with_logits(scores, targets.float())
        if targets.dim() == 2:  # soft labels: a probability distribution per sample
            return -(targets * scores.log_softmax(dim=1)).sum(dim=1).mean()
        return F.cross_entropy(scores, targets, label_smoothing=self.task.label_smoothing)

    def train_loader(self, build: Any) -> MultiSourceLoader | None:
        """Multi-source batches when ``data.train.extra_sources`` is set; None (the trainer's own
        ``data.train`` loader) otherwise."""
        specs = extra_source_specs(self.experiment)
        if not specs:
            return None
        settings = source_settings(specs, default_batch_size=self.experiment.data.batch_size)
        self.loss_weights = {setting.name: setting.loss_weight for setting in settings}
        return MultiSourceLoader(main=build("train"), sources=[
            Source(setting, build("train", batch_size=setting.batch_size, source=i))
            for i, setting in enumerate(settings)])

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        """One iteration's losses; with several sources (:class:`MultiSourceLoader` batches) the
        sum of each source batch's loss times its ``loss_weight``, one forward per batch (sources
        differ in clip shape: images are one-frame clips), ``loss_NAME`` logged unweighted."""
        if "per_source" not in batch:
            return self.source_step(model, batch, device)
        total, out = None, {}
        for name, batches in batch["per_source"].items():
            weight = self.loss_weights.get(name, 1.0)
            for part in batches:
                losses = self.source_step(model, {**part, "iteration": batch["iteration"]}, device)
                out.setdefault(f"loss_{name}", []).append(losses["loss"].detach())
                if name == MAIN and "top1" in losses:
                    out["top1"] = losses["top1"]
                if weight != 0:  # a source weighted 0 adds no gradient (nor a NaN of its own)
                    weighted = losses["loss"] * weight
                    total = weighted if total is None else total + weighted
        logged = {k: torch.stack(v).mean() if isinstance(v, list) else v for k, v in out.items()}
        if total is None:  # every batch of the iteration weighted 0: a zero loss that keeps the graph
            total = sum(p.sum() * 0.0 for p in model.parameters() if p.requires_grad)
        return {"loss": total, **logged}

    def source_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        """The losses of one batch of one source."""
        inputs = prepare_inputs(batch, device)
        targets = self.targets(batch["labels"], device)
        if self.task.blending is not None:
            inputs, targets = self.task.blending(inputs, targets, batch=batch, num_classes=self.num_classes,
                                                 seed=self.experiment.runtime.seed,
                                                 label_smoothing=self.task.label_smoothing)
        scores = model(inputs)
        out = {"loss": self.loss(scores, targets) * self.task.loss_weight}
        auxiliary = auxiliary_losses(model, targets)
        if auxiliary:
            out["loss_cls"] = out["loss"]
            out.update(auxiliary)
            out["loss"] = out["loss"] + sum(auxiliary.values())
        if targets.dim() == 1:
            out["top1"] = (scores.detach().argmax(dim=1) == targets).float().mean()
        return out

    def eval_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, np.ndarray]:
        scores = model(prepare_inputs(batch, device)).float().cpu().numpy()
        targets = self.targets(batch["labels"], torch.device("cpu")).numpy()
        return {"index": batch["indices"].numpy(), "scores": scores, "label": targets,
                "source": np.asarray(batch["sources"], dtype=object)}

    def compute_metrics(self, outputs: Mapping[str, np.ndarray], split: str) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        scores, labels = outputs["scores"], outputs["label"]
        metrics: dict[str, float] = {}
        for metric in self.metrics:
            metrics.update(metric(scores, labels))
        images = {}
        if labels.ndim == 1:
            matrix = confusion_matrix(scores.argmax(axis=1), labels, scores.shape[1])
            images["confusion_matrix"] = render_confusion_matrix(matrix, self.class_names)
        return metrics, images

    def prepare_inputs(self, batch: Mapping[str, Any], device: torch.device) -> torch.Tensor:
        return prepare_inputs(batch, device)

    def clip_features(self, model: nn.Module, inputs: torch.Tensor, *, num_clips: int, views: int = 1) -> torch.Tensor:
        """float ``[num_clips, C]``: what ``actioncore extract`` writes for localization.

        MMAction2's ``feature_extraction`` test mode: the recognizer's backbone (and neck) features,
        averaged over space and time; here also over the frames of a 2D model's clip and over the
        ``views`` (crops), so that each clip gives one row. ``inputs`` is one sample of
        ``prepare_inputs``: ``[1, views * num_clips * clip_len, C, H, W]`` (2D) or
        ``[1, views * num_clips, C, T, H, W]`` (3D), views first as ``format_shape`` stacks them.
        A backbone with several pathways (SlowFast) gives their pooled features side by side.
        """
        features = model.features(inputs.flatten(0, 1))
        parts = features if isinstance(features, (tuple, list)) else (features,)
        pooled = torch.cat([p.flatten(2).mean(dim=2) if p.dim() > 2 else p for p in parts], dim=1)
        return pooled.view(views, num_clips, -1, pooled.shape[1]).mean(dim=(0, 2))

    def export_example(self, model: nn.Module) -> ExportExample:
        """The recognizer as ``test`` runs it: the test pipeline's normalised batch (all views of a
        clip) in, one row of class scores per sample out, views averaged as ``average_clips`` says."""
        batch = example_batch(self.experiment)
        normalize = batch.get("normalize")
        preprocessing: dict[str, Any] = {"dtype": "float32"}
        if normalize is not None:  # video frames; pose inputs are the pipeline's numbers as they are
            preprocessing.update(channel_order="RGB", mean=list(normalize["mean"]), std=list(normalize["std"]),
                                 note="(pixel value 0-255 - mean) / std, per channel")
        if self.task.multi_label:
            scores = "class logits (multi-label: a sigmoid gives each class's probability)"
        elif getattr(model, "average_clips", None) == "prob":
            scores = "class probabilities (softmax per view, averaged over the views)"
        else:
            scores = "class scores (logits, averaged over the views)"
        try:
            classes = self.class_names
        except DataError:  # the class list of the training machine may not be here; the shape still is
            classes = None
        return ExportExample(module=model, input_shape=prepare_inputs(batch, torch.device("cpu")).shape,
                             outputs={"scores": scores}, layout=LAYOUTS.get(batch.get("input_format")),
                             preprocessing=preprocessing, classes=classes)

    def demo(self, model: nn.Module, request: DemoRequest) -> dict[str, Any]:
        """``actioncore demo``: the top-k labels drawn on the video (see :mod:`.demo`)."""
        from .demo import run_demo

        return run_demo(self, model, request)

    def explain_example(self, model: nn.Module, video: str) -> ExplainExample:
        """``actioncore explain``: the test pipeline's clip of ``video`` and its frames, for Grad-CAM."""
        from .demo import explain_example

        return explain_example(self, model, video)


class RecognitionTask(TrainerTask):
    """Classify clips: cross-entropy (with label smoothing), soft-label CE or multi-label BCE.

    ``metrics`` default to top-1/top-5 accuracy and mean class accuracy; ``classes`` names a
    file with one class name per line (line i = label i) for predictions and plots.

    ``batch_steps`` mix training batches (registered batch-step transforms such as ``mixup``,
    ``cutmix``, ``actor_cutmix`` of ``actioncore-augment``) on the normalised inputs, with soft
    targets; with several, one is picked per batch (``batch_step_probs``, uniform by default; a
    remainder below 1 is the chance of no mixing), as MMAction2 1.x's ``RandomBatchAugment``.
    """

    def __init__(self, *, metrics: list[Metric] | None = None, label_smoothing: float = 0.0,
                 multi_label: bool = False, loss_weight: float = 1.0, classes: str | None = None,
                 batch_steps: list[Transform] | None = None, batch_step_probs: list[float] | None = None):
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        self.blending = BatchBlending.create(batch_steps, batch_step_probs)
        self.metrics = metrics
        self.label_smoothing = label_smoothing
        self.multi_label = multi_label
        self.loss_weight = loss_weight
        self.classes = classes

    def adapter(self, experiment: Experiment) -> RecognitionAdapter:
        return RecognitionAdapter(self, experiment)

    def run(self, experiment: Experiment, **options: Any) -> dict[str, float]:
        read_class_names(self.classes, num_classes_of(experiment))  # fail at start, not after an epoch
        return super().run(experiment, **options)

    def write_predictions(self, experiment: Experiment, split: str, outputs: dict[str, Any], out: Path) -> None:
        """``{"split", "samples": [{"index", "source", "label", "predictions" (top 5), "scores"}],
        "classes"}``: ``scores`` is the sample's whole row of class scores (what the metrics saw),
        so that ``actioncore fuse`` can combine streams; ``classes`` the class names, when known."""
        names = read_class_names(self.classes, num_classes_of(experiment))
        rows = []
        for index, source, scores, label in zip(outputs["index"], outputs["source"], outputs["scores"], outputs["label"]):
            rows.append({"index": int(index), "source": str(source),
                         "label": label.tolist() if isinstance(label, np.ndarray) else int(label),
                         "predictions": top_predictions(scores, 5, names),
                         "scores": np.asarray(scores, dtype=float).tolist()})
        document: dict[str, Any] = {"split": split, "samples": rows}
        if names is not None:
            document["classes"] = names
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(document, indent=1))

    def infer(self, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
              topk: int = 5) -> list[dict[str, Any]]:
        dataset = clip_dataset(experiment, [str(p) for p in inputs], build_decoder(experiment, "auto"))
        adapter = self.adapter(experiment)
        model = adapter.build_model(experiment)
        load_weights(model, checkpoint)
        device = resolve_device(experiment.runtime.device)
        model.to(device).eval()
        names = read_class_names(self.classes, num_classes_of(experiment))
        results = []
        for i, path in enumerate(inputs):
            sample = dataset[i]
            results.append({"input": str(path), "predictions": scored_predictions(
                model, sample, multi_label=self.multi_label, topk=topk, names=names, device=device),
                "clips": _num_clips(collate([sample])), "device": str(device)})
        return results


def clip_dataset(experiment: Experiment, sources: Sequence[str], decoder: Any) -> ClipDataset:
    """Unlabelled ``sources`` prepared by the inference split's pipeline, opened with ``decoder``."""
    annotations = _Annotations([ClipRecord(source, None) for source in sources],
                               split_pipeline(experiment, inference_split_name(experiment)))
    return ClipDataset(annotations, decoder=decoder, seed=experiment.runtime.seed)


def scored_predictions(model: nn.Module, sample: Any, *, multi_label: bool, topk: int,
                       names: list[str] | None, device: torch.device = torch.device("cpu")) -> list[dict[str, Any]]:
    """The top ``topk`` classes of one prepared sample, run on ``device`` (the model's): sigmoid
    probabilities for multi-label, else softmax (or the recognizer's own view-averaged probabilities)."""
    with torch.no_grad():
        scores = model(prepare_inputs(collate([sample]), device))[0].float().cpu()
    if multi_label:
        probs = scores.sigmoid()
    else:
        probs = scores if getattr(model, "average_clips", None) == "prob" else scores.softmax(dim=0)
    return top_predictions(probs.numpy(), topk, names)


def _num_clips(batch: Mapping[str, Any]) -> int | None:
    """Clips sampled from the (one) video of ``batch`` (each scored, then averaged), if known."""
    indices = batch.get("frame_indices")
    return int(indices.shape[1]) if indices is not None and indices.dim() == 3 else None
