"""``actioncore.load_pretrained("NAME")``: a zoo entry as a model ready to predict.

As torchvision's ``weights.transforms()`` and ``weights.meta["categories"]``: the model comes in
eval mode with its weights, the transforms are the entry's own test pipeline (the example
experiment's: frame sampling, resize, crop, normalisation as the checkpoint was evaluated), and
the class names are the entry's shipped list. Everything is built by the same code ``actioncore
infer --weights NAME`` runs: the task's model builder, the strict checkpoint loader, the task's
input preparation.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

from ..classes import class_names
from ..config import Experiment
from ..config.views import inference_split_name
from ..data.dataset import ClipDataset, ClipRecord
from ..data.loader import collate
from ..data.pipeline import Pipeline
from ..data.probe import split_pipeline
from ..data.splits import build_decoder
from ..engine.trainer import load_weights
from ..plugin.host import current_host
from .catalog import find_weights
from .resolve import converted_weights, entry_experiment
from .zoo import WeightsEntry


@attrs.frozen
class _Inputs:
    """The records and pipeline :class:`ClipDataset` reads (an annotation set without a file)."""

    records: Sequence[ClipRecord]
    pipeline: Pipeline
    default_decoder: str = "auto"


@attrs.define
class ClipTransforms:
    """A video file or frame folder to the model's input batch (one sample), as the experiment's
    test pipeline and its task's input preparation make it (normalised on ``device``)."""

    experiment: Experiment
    adapter: Any
    device: torch.device = attrs.field(factory=lambda: torch.device("cpu"))

    def __call__(self, video: str | os.PathLike[str]) -> torch.Tensor:
        registry = current_host().registry
        inputs = _Inputs([ClipRecord(os.fspath(video), None)],
                         split_pipeline(self.experiment, inference_split_name(self.experiment), registry))
        dataset = ClipDataset(inputs, decoder=build_decoder(self.experiment, "auto", registry),
                              seed=self.experiment.runtime.seed)
        return self.adapter.prepare_inputs(collate([dataset[0]]), self.device)


@attrs.frozen(kw_only=True)
class Pretrained:
    """A zoo entry, ready: ``pretrained.model(pretrained.transforms("video.mp4"))`` gives scores
    whose index ``i`` is ``pretrained.classes[i]``; ``actioncore.infer(pretrained.experiment,
    pretrained.checkpoint, [video])`` gives the top-k with names."""

    model: nn.Module
    transforms: ClipTransforms
    classes: list[str]
    """The entry's class list (empty when it names none)."""
    entry: WeightsEntry
    experiment: Experiment
    """The example experiment the weights fit (with the entry's overrides)."""
    checkpoint: Path
    """The converted checkpoint in the cache."""


def load_named(name: str, *, progress: bool = True) -> Pretrained:
    """The zoo entry ``name``: fetched and converted on first use, built, loaded, in eval mode."""
    from ..api import _task

    entry, _ = find_weights(name)
    checkpoint = converted_weights(entry, progress=progress)
    experiment = entry_experiment(entry)
    adapter = _task(experiment, "adapter").adapter(experiment)
    model = adapter.build_model(experiment)
    load_weights(model, checkpoint)
    return Pretrained(model=model.eval(), transforms=ClipTransforms(experiment, adapter),
                      classes=class_names(entry.classes) if entry.classes else [], entry=entry,
                      experiment=experiment, checkpoint=checkpoint)


__all__ = ["ClipTransforms", "Pretrained", "load_named"]
