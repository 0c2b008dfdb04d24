"""Another toolbox's weights file as one of our checkpoints, for an experiment's model.

One code path for ``actioncore convert mmaction2`` and for zoo names converted on first use
(:mod:`actioncore.weights.resolve`): build the experiment's model (without its ``pretrained``
files or ``init``: every tensor is about to be replaced), read the file without running pickled
code, rename its keys for the model (:func:`~actioncore.weights.sources.convert_source`), check
that every tensor fits, and save a checkpoint that records the resolved experiment, so that
``test``/``infer`` and ``--checkpoint`` read it like any checkpoint a run wrote.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import nn

from ..config import Experiment, dump_experiment
from ..config.build import instantiate
from ..engine.checkpoint import save_checkpoint
from ..errors import ConfigError
from ..plugin.host import current_host
from .files import load_into, mmaction2_weights, read_weights
from .sources import convert_source


def convert_checkpoint(experiment: Experiment, source: str | os.PathLike[str], target: str | os.PathLike[str], *,
                       source_format: str, where: str = "the experiment") -> dict[str, Any]:
    """Convert ``source`` (in ``source_format``) for ``experiment``'s model and write it to
    ``target`` atomically; returns ``{checkpoint, tensors, parameters}``.

    :raises ConfigError: when the experiment (named by ``where``) has no ``[model]``.
    :raises CheckpointError: for a file that cannot be read or does not fit, naming ``source``.
    """
    model = bare_model(experiment, where=where)
    read = mmaction2_weights if source_format.startswith("mmaction2") else read_weights
    state = convert_source(model, read(source), source_format=source_format)
    load_into(model, state, source)
    path = save_converted(target, model=model, experiment=experiment, source=source)
    return {"checkpoint": str(path), "tensors": len(state), "parameters": sum(p.numel() for p in model.parameters())}


def bare_model(experiment: Experiment, *, where: str = "the experiment") -> nn.Module:
    """``experiment``'s model without its ``pretrained`` files or ``init`` (the weights to put in
    come next).

    :raises ConfigError: when the experiment (named by ``where``) has no ``[model]``.
    """
    if experiment.model is None:
        raise ConfigError(f"{where}: the experiment has no [model] to put the weights into")
    return instantiate(experiment.model, current_host().registry, "model")


def save_converted(target: str | os.PathLike[str], *, model: nn.Module, experiment: Experiment,
                   source: str | os.PathLike[str]) -> Path:
    """``model``'s weights as one of our checkpoints (with the resolved experiment and the file
    they came from), written atomically."""
    host = current_host()
    return save_checkpoint(target, {
        "plugins": host.distributions(), "experiment": dump_experiment(experiment, host.registry),
        "converted_from": str(source), "model": model.state_dict()})


__all__ = ["bare_model", "convert_checkpoint", "save_converted"]
