"""An experiment's data split (``data.train``, ``data.val``, ``data.test``) as a ready dataset."""
from __future__ import annotations

from typing import Any

from ..config.build import instantiate
from ..config.structure import component_spec
from ..config.experiment import Experiment
from ..errors import ConfigError
from ..plugin.registry import ComponentRegistry
from .dataset import ClipDataset

SPLITS = ("train", "val", "test")


def num_classes_of(experiment: Experiment) -> int | None:
    """``model.head.num_classes`` when the experiment's model has one (labels are checked against it)."""
    model = experiment.model
    head = model.params.get("head") if model is not None else None
    value = getattr(head, "params", {}).get("num_classes")
    return value if isinstance(value, int) else None


def build_decoder(experiment: Experiment, default: str, registry: ComponentRegistry) -> Any:
    """The decoder of ``data.decoder``, or the dataset's default when the experiment names none."""
    spec = experiment.data.decoder
    if spec is None:
        spec = component_spec(registry, default, "decoder", "data.decoder")
    return instantiate(spec, registry, "data.decoder")


def build_split(experiment: Experiment, split: str, registry: ComponentRegistry) -> ClipDataset:
    """Parse the split's annotation and wrap it with the decoder, seed and error policy."""
    if split not in SPLITS:
        raise ConfigError(f"unknown data split '{split}'; splits are {', '.join(SPLITS)}")
    spec = getattr(experiment.data, split)
    if spec is None:
        raise ConfigError(f"data.{split}: the experiment has no [data.{split}] table")
    annotations = instantiate(spec, registry, f"data.{split}")
    decoder = build_decoder(experiment, getattr(annotations, "default_decoder", "pyav"), registry)
    data = experiment.data
    return ClipDataset(annotations, decoder=decoder, on_error=data.on_error, seed=experiment.runtime.seed,
                       num_classes=num_classes_of(experiment), max_consecutive_bad=data.max_consecutive_bad,
                       timeout=data.timeout)
