"""Distillation from per-frame image-model probabilities (SEED003 §4, the "kd" configs).

An extra head, a copy of the recognizer's head config with ``num_classes`` = the score file's
class count, scores the backbone features of the **weak unlabeled** clips (all of them, no
confidence mask) from the same forward as everything else; its target is the stored probability
vector of one frame chosen at random among each clip's sampled frames. Soft-target CE with no
temperature, weighted by ``distill_weight`` (the original: 1).

The choice of frame is drawn from a generator seeded by ``(seed, iteration, clip)``, so a
resumed run draws the same frames. Scores are looked up in ``actioncore.sdk.data.ImageScores``
(the ``actioncore data image-scores`` file) by the video's file name without extension.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from actioncore.sdk import Experiment, build

from .losses import soft_cross_entropy

DISTILL_STREAM = 2


class DistillRecognizer(nn.Module):
    """A recognizer plus ``distill_head`` on its features of some rows of the batch.

    ``forward(inputs)`` is the recognizer's; ``forward(inputs, distill_rows=(a, b))`` also
    returns the distill head's scores of rows ``a:b``, from the same backbone pass (a forward
    hook keeps the features), so DDP sees one forward.
    """

    def __init__(self, recognizer: nn.Module, distill_head: nn.Module):
        super().__init__()
        self.recognizer = recognizer
        self.distill_head = distill_head
        self._features: torch.Tensor | None = None
        target = recognizer.neck if getattr(recognizer, "neck", None) is not None else recognizer.backbone
        target.register_forward_hook(self._keep)

    @classmethod
    def from_experiment(cls, recognizer: nn.Module, experiment: Experiment, num_classes: int) -> DistillRecognizer:
        head = experiment.model.params["head"]
        params = {**copy.deepcopy(head.params), "num_classes": num_classes}
        return cls(recognizer, build("head", head.type, **params))

    @property
    def average_clips(self) -> Any:
        return self.recognizer.average_clips

    def _keep(self, module: nn.Module, args: Any, output: torch.Tensor) -> None:
        self._features = output

    def forward(self, inputs: torch.Tensor, distill_rows: tuple[int, int] | None = None) -> Any:
        scores = self.recognizer(inputs)
        if distill_rows is None:
            return scores
        features, self._features = self._features, None
        start, stop = distill_rows
        per_clip = features.shape[0] // inputs.shape[0]  # 2D recognizers: frames of a clip
        rows = features[start * per_clip:stop * per_clip]
        extra = {"num_segs": per_clip} if per_clip > 1 else {}
        return scores, self.distill_head(rows, **extra)


def frame_targets(scores: Any, sources: Sequence[str], frame_indices: torch.Tensor, *, seed: int,
                  iteration: int) -> torch.Tensor:
    """``[B, C]`` stored probabilities of one randomly chosen sampled frame per clip."""
    rows = []
    for clip, (source, frames) in enumerate(zip(sources, frame_indices.reshape(len(sources), -1))):
        rng = np.random.default_rng([seed, iteration, DISTILL_STREAM, clip])
        frame = int(frames[int(rng.integers(len(frames)))])
        rows.append(scores.probs(scores.key_for(source), [frame])[0])
    return torch.from_numpy(np.stack(rows))


def distill_loss(distill_scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean soft-target CE (the original's ``-mean_batch sum_k p_k log softmax_k``)."""
    return soft_cross_entropy(distill_scores, targets.to(distill_scores.device)).mean()


def distill_targets(batch: Mapping[str, Any], scores: Any, *, seed: int, iteration: int) -> torch.Tensor:
    """The distillation targets of an unlabeled batch (needs its ``sources`` and ``frame_indices``)."""
    return frame_targets(scores, batch["sources"], batch["frame_indices"], seed=seed, iteration=iteration)
