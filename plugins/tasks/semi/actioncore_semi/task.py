"""The ``semi_recognition`` task: FixMatch / UDA with ActorCutMix, distillation, strong supervision.

Training follows SEED003 §1.2: each iteration takes a labeled batch and ``unlabeled_ratio`` x as
many unlabeled clips (weak and strong view each), sends ``cat([labeled, weak, strong])`` through
the recognizer in one train-mode forward (BN statistics over all three, dropout on the weak view
too), and adds the consistency loss of the strong view against the weak view's detached
pseudo-labels (:mod:`actioncore_semi.losses`). Validation, test, predictions and ``infer`` are the
``recognition`` task's.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from actioncore.sdk import ConfigError, Experiment, Metric
from actioncore.sdk.data import extra_source_specs
from actioncore_recognition import RecognitionAdapter, RecognitionTask, prepare_inputs

from .distill import DistillRecognizer, distill_loss, distill_targets
from .loader import SemiLoader
from .losses import consistency_loss, mix_targets, pseudo_labels, soft_cross_entropy
from .mixing import LABELED_STREAM, UNLABELED_STREAM, MaskView, actor_cutmix_views

SemiMethod = Literal["fixmatch", "uda", "supervised_aug"]
DEFAULT_THRESHOLD = {"fixmatch": 0.95, "uda": 0.8, "supervised_aug": 0.95}


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"task.{key}: {message}")


class SemiRecognitionTask(RecognitionTask):
    """Semi-supervised (``fixmatch``, ``uda``) or strongly augmented supervised (``supervised_aug``)
    clip classification on the kernel's trainer.

    ``threshold`` defaults to 0.95 (FixMatch) or 0.8 (UDA); ``temperature`` sharpens UDA's
    targets; ``unlabeled_weight`` is lambda_u; ``unlabeled_ratio`` is mu (unlabeled clips per
    labeled clip); ``actor_cutmix`` the per-iteration ActorCutMix probability (needs
    ``person_mask`` in the batches, see actioncore-augment), ``actor_cutmix_mask`` which view's
    mask it cuts with; ``labeled_strong`` trains the labeled branch on strong / ActorCutMix views
    with soft-mixed labels (the cross-dataset ``semi_both`` configs; always on for
    ``supervised_aug``); ``distill_weight`` > 0 adds a head matching per-frame image-model
    probabilities from ``distill_scores``; ``pseudo_label_accuracy`` logs how often the
    pseudo-labels equal the unlabeled list's labels (turn it off when those are another data
    set's classes).
    """

    def __init__(self, *, method: SemiMethod = "fixmatch", threshold: float | None = None,
                 temperature: float = 0.4, unlabeled_weight: float = 1.0, unlabeled_ratio: int = 1,
                 actor_cutmix: float = 0.5, actor_cutmix_mask: MaskView = "strong",
                 labeled_strong: bool = False, distill_weight: float = 0.0, distill_scores: str | None = None,
                 distill_classes: int = 1000, pseudo_label_accuracy: bool = True, metrics: list[Metric] | None = None,
                 classes: str | None = None):
        super().__init__(metrics=metrics, classes=classes)
        threshold = DEFAULT_THRESHOLD[method] if threshold is None else threshold
        _check(0 < threshold <= 1, "threshold", f"must be in (0, 1], got {threshold}")
        _check(temperature > 0, "temperature", f"must be positive, got {temperature}")
        _check(unlabeled_weight >= 0, "unlabeled_weight", f"must be >= 0, got {unlabeled_weight}")
        _check(unlabeled_ratio >= 1, "unlabeled_ratio", f"must be at least 1, got {unlabeled_ratio}")
        _check(0 <= actor_cutmix <= 1, "actor_cutmix", f"is a probability, in [0, 1]; got {actor_cutmix}")
        _check(distill_weight >= 0, "distill_weight", f"must be >= 0, got {distill_weight}")
        _check(distill_weight == 0 or distill_scores is not None, "distill_scores",
               "distill_weight > 0 needs the image-score file (actioncore data image-scores)")
        _check(distill_weight == 0 or method != "supervised_aug", "distill_weight",
               "distillation trains on unlabeled clips; supervised_aug has none")
        self.method = method
        self.threshold = threshold
        self.temperature = temperature
        self.unlabeled_weight = unlabeled_weight
        self.unlabeled_ratio = unlabeled_ratio
        self.actor_cutmix = actor_cutmix
        self.actor_cutmix_mask = actor_cutmix_mask
        self.labeled_strong = labeled_strong or method == "supervised_aug"
        self.distill_weight = distill_weight
        self.distill_scores = distill_scores
        _check(distill_classes >= 1, "distill_classes", f"must be at least 1, got {distill_classes}")
        self.distill_classes = distill_classes
        self.pseudo_label_accuracy = pseudo_label_accuracy

    def adapter(self, experiment: Experiment) -> SemiAdapter:
        return SemiAdapter(self, experiment)


def _strong_pipeline(spec: Any) -> bool:
    return spec is not None and "strong_pipeline" in getattr(spec, "extra", {})


def check_data(task: SemiRecognitionTask, experiment: Experiment) -> None:
    """The splits the chosen method needs, named by key when missing."""
    data = experiment.data
    if task.method == "supervised_aug":
        if data.unlabeled is not None:
            raise ConfigError("data.unlabeled: method 'supervised_aug' trains on labeled clips only; "
                              "remove [data.unlabeled] or use method 'fixmatch' / 'uda'")
    elif not _strong_pipeline(data.unlabeled):
        what = "[data.unlabeled] table" if data.unlabeled is None else "data.unlabeled.strong_pipeline"
        raise ConfigError(f"data.unlabeled: method '{task.method}' needs a {what} (the weak view is "
                          "data.unlabeled.pipeline, the strong view continues it)")
    if task.labeled_strong and not _strong_pipeline(data.train):
        raise ConfigError("data.train.strong_pipeline: training on strong views of labeled clips "
                          f"({'method supervised_aug' if task.method == 'supervised_aug' else 'labeled_strong'}) "
                          "needs it")


def _mean_over_ranks(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Logged ratios averaged over DDP processes (the original all-reduces num_select)."""
    if not values or not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return values
    stacked = torch.stack(list(values.values()))
    torch.distributed.all_reduce(stacked)
    stacked /= torch.distributed.get_world_size()
    return dict(zip(values, stacked))


class SemiAdapter(RecognitionAdapter):
    """Training batches from :class:`SemiLoader`; evaluation as the recognition task."""

    def __init__(self, task: SemiRecognitionTask, experiment: Experiment):
        super().__init__(task, experiment)
        check_data(task, experiment)
        self.task: SemiRecognitionTask = task
        if self.num_classes is None:
            raise ConfigError("model.head.num_classes: semi_recognition needs the number of (labeled) classes")
        self.seed = experiment.runtime.seed
        self.scores = None

    def build_model(self, experiment: Experiment) -> nn.Module:
        model = super().build_model(experiment)
        if self.task.distill_weight > 0:
            model = DistillRecognizer.from_experiment(model, experiment, self.task.distill_classes)
        return model

    def image_scores(self) -> Any:
        """The score file (``actioncore.sdk.data.ImageScores``), read once."""
        from actioncore.sdk.data import ImageScores  # only kd runs need the reader

        if self.scores is None:
            scores = ImageScores(self.task.distill_scores)
            if scores.num_classes != self.task.distill_classes:
                raise ConfigError(f"task.distill_classes = {self.task.distill_classes}, but {self.task.distill_scores} "
                                  f"holds {scores.num_classes} class probabilities per frame")
            self.scores = scores
        return self.scores

    def train_loader(self, build: Any) -> SemiLoader:
        data = self.experiment.data
        if extra_source_specs(self.experiment):
            raise ConfigError("data.train.extra_sources: multi-source training is the recognition task's; "
                              "semi_recognition trains on [data.train] and [data.unlabeled]")
        labeled = build("train")
        if self.task.method == "supervised_aug":
            return SemiLoader(labeled=labeled)
        unlabeled = build("unlabeled", batch_size=data.batch_size * self.task.unlabeled_ratio)
        return SemiLoader(labeled=labeled, unlabeled=unlabeled)

    def mix(self, batch: Mapping[str, Any], weak: torch.Tensor, strong: torch.Tensor, iteration: int,
            stream: int):
        return actor_cutmix_views(weak=weak, strong=strong, weak_batch=batch, strong_batch=batch["strong"],
                                  probability=self.task.actor_cutmix, seed=self.seed, iteration=iteration,
                                  stream=stream, mask_view=self.task.actor_cutmix_mask)

    def labeled_view(self, batch: Mapping[str, Any], device: torch.device,
                     iteration: int) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The labeled inputs and their (one-hot or ActorCutMix-mixed) targets."""
        labels = batch["labels"].to(device)
        weak = prepare_inputs(batch, device)
        if not self.task.labeled_strong:
            return weak, F.one_hot(labels, self.num_classes).float(), {}
        strong = prepare_inputs(batch["strong"], device)
        targets = F.one_hot(labels, self.num_classes).float()
        mixed = self.mix(batch, weak, strong, iteration, LABELED_STREAM)
        if mixed is None:
            return strong, targets, {"labeled_actor_cutmix": torch.zeros(()), "labeled_actor_cutmix_clips": torch.zeros(())}
        return mixed.inputs, mix_targets(targets, mixed.weight, mixed.partner), {
            "labeled_actor_cutmix": torch.ones(()), "labeled_actor_cutmix_clips": mixed.valid.float().mean()}

    def train_step(self, model: nn.Module, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        iteration = int(batch["iteration"])
        labeled, unlabeled = batch["labeled"], batch["unlabeled"]
        x_l, t_l, logged = self.labeled_view(labeled, device, iteration)
        if unlabeled is None:
            scores = model(x_l)
            loss_l = soft_cross_entropy(scores, t_l).mean()
            return {"loss": loss_l, "loss_labeled": loss_l.detach(), **self.labeled_top1(scores, labeled, device), **logged}
        weak = prepare_inputs(unlabeled, device)
        strong = prepare_inputs(unlabeled["strong"], device)
        mixed = self.mix(unlabeled, weak, strong, iteration, UNLABELED_STREAM)
        if mixed is not None:
            strong = mixed.inputs
        if x_l.shape[1:] != weak.shape[1:]:
            raise ConfigError(f"data.train and data.unlabeled pipelines make clips of different shapes "
                              f"({list(x_l.shape[1:])} and {list(weak.shape[1:])}); they go through the "
                              "model in one batch")
        b_l, b_u = len(x_l), len(weak)
        inputs = torch.cat([x_l, weak, strong])
        distill = self.task.distill_weight > 0
        out = model(inputs, distill_rows=(b_l, b_l + b_u)) if distill else model(inputs)
        scores, distill_scores = out if distill else (out, None)
        s_l, s_w, s_s = scores[:b_l], scores[b_l:b_l + b_u], scores[b_l + b_u:]
        loss_l = soft_cross_entropy(s_l, t_l).mean()
        pseudo = pseudo_labels(s_w, method=self.task.method, threshold=self.task.threshold,
                               temperature=self.task.temperature)
        targets = pseudo.targets if mixed is None else mix_targets(pseudo.targets, mixed.weight, mixed.partner)
        loss_u = consistency_loss(s_s, targets, pseudo.selected, method=self.task.method)
        loss = loss_l + self.task.unlabeled_weight * loss_u
        out = {"loss_labeled": loss_l.detach(), "loss_unlabeled": loss_u.detach(),
               "actor_cutmix": torch.tensor(float(mixed is not None)),
               "actor_cutmix_clips": mixed.valid.float().mean() if mixed is not None else torch.zeros(()), **logged,
               **self.labeled_top1(s_l, labeled, device)}
        ratios = {"mask_ratio": pseudo.selected.float().mean()}
        labels = unlabeled.get("labels")
        if self.task.pseudo_label_accuracy and isinstance(labels, torch.Tensor):
            ratios["pseudo_label_accuracy"] = (pseudo.hard == labels.to(device)).float().mean()
        if distill:
            loss_d = distill_loss(distill_scores, distill_targets(unlabeled, self.image_scores(),
                                                                  seed=self.seed, iteration=iteration))
            loss = loss + self.task.distill_weight * loss_d
            out["loss_distill"] = loss_d.detach()
        out.update(_mean_over_ranks(ratios))
        return {"loss": loss, **out}

    def labeled_top1(self, scores: torch.Tensor, batch: Mapping[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
        labels = batch["labels"].to(device)
        return {"top1": (scores.detach().argmax(dim=1) == labels).float().mean()}
