"""An experiment's data split (``data.train``, ``data.val``, ``data.test``, ``data.unlabeled``) as a ready dataset."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..config.build import instantiate
from ..config.structure import ComponentSpec, component_spec
from ..config.experiment import Experiment
from ..errors import ConfigError, DataError
from ..plugin.registry import ComponentRegistry
from .compose import ConcatAnnotations, class_power, class_weights, repeat_times, source_specs
from .dataset import ClipDataset
from .views import ViewsPipeline

SPLITS = ("train", "val", "test", "unlabeled")

UNCHECKED_LABELS = ("unlabeled",)
"""Splits whose labels are not checked against the model's classes: an unlabeled list may come
from another data set (cross-dataset semi-supervision), its labels are only for logging."""


def num_classes_of(experiment: Experiment) -> int | None:
    """``model.head.num_classes`` when the experiment's model has one (labels are checked against it)."""
    model = experiment.model
    head = model.params.get("head") if model is not None else None
    value = getattr(head, "params", {}).get("num_classes")
    return value if isinstance(value, int) else None


def split_num_classes(experiment: Experiment, split: str) -> int | None:
    """The class count a split's labels are checked against (None: not checked)."""
    return None if split in UNCHECKED_LABELS else num_classes_of(experiment)


def build_decoder(experiment: Experiment, default: str, registry: ComponentRegistry) -> Any:
    """The decoder of ``data.decoder``, or the dataset's default when the experiment names none."""
    spec = experiment.data.decoder
    if spec is None:
        spec = component_spec(registry, default, "decoder", "data.decoder")
    return instantiate(spec, registry, "data.decoder")


def extra_source_specs(experiment: Experiment) -> list[ComponentSpec]:
    """``data.train.extra_sources``: the tables of multi-source training (empty when none)."""
    train = experiment.data.train
    return list(getattr(train, "extra", {}).get("extra_sources") or [])


def source_name(spec: ComponentSpec, index: int) -> str:
    """An extra source's ``name`` (``source{index + 1}`` when the table has none)."""
    return spec.extra.get("name") or f"source{index + 1}"


def build_split(experiment: Experiment, split: str, registry: ComponentRegistry, *,
                source: int | None = None) -> ClipDataset:
    """Parse the split's annotation and wrap it with the decoder, seed and error policy.

    ``source``: build ``data.train.extra_sources[source]`` instead (multi-source training), with
    its own dataset type, pipeline and default decoder."""
    if split not in SPLITS:
        raise ConfigError(f"unknown data split '{split}'; splits are {', '.join(SPLITS)}")
    spec = getattr(experiment.data, split)
    if spec is None:
        raise ConfigError(f"data.{split}: the experiment has no [data.{split}] table")
    where = f"data.{split}"
    if source is not None:
        extras = extra_source_specs(experiment) if split == "train" else []
        if not 0 <= source < len(extras):
            raise ConfigError(f"{where}.extra_sources[{source}]: no such source ({len(extras)} configured)")
        spec = extras[source]
        where = f"{where}.extra_sources[{source}] ('{source_name(spec, source)}')"
    return build_dataset(experiment, spec, where, registry, extra_source=source is not None,
                         num_classes=split_num_classes(experiment, split))


def build_dataset(experiment: Experiment, spec: Any, where: str, registry: ComponentRegistry, *,
                  extra_source: bool, num_classes: int | None) -> ClipDataset:
    """One dataset table (with its ``sources``, ``times``, class sampling) as a ready dataset.

    ``extra_source``: a multi-source table, read by its dataset's default decoder (``data.decoder``
    is the main list's: an image source next to videos needs ``image``), its errors naming it."""
    parts = []
    for i, part_spec in enumerate(source_specs(spec, registry, where) if isinstance(spec, ComponentSpec) else [spec]):
        part_where = where if i == 0 else f"{where}.sources[{i - 1}]"
        try:
            part = instantiate(part_spec, registry, part_where)
        except DataError as exc:
            if not extra_source:
                raise
            raise DataError(f"{part_where}: {exc}", path=exc.path, line=exc.line) from exc
        if not part.records:  # a dataset component may allow an empty list; no split (or source) may be empty
            ann_file = part_spec.params.get("ann_file") if isinstance(part_spec, ComponentSpec) else None
            raise DataError(f"{part_where}: {ann_file or 'the annotation'} lists no samples", path=ann_file)
        parts.append(part)
    annotations = parts[0] if len(parts) == 1 else ConcatAnnotations(
        records=[r for part in parts for r in part.records], pipeline=parts[0].pipeline,
        default_decoder=getattr(parts[0], "default_decoder", "pyav"))
    default = getattr(annotations, "default_decoder", "pyav")
    if extra_source:
        decoder = instantiate(component_spec(registry, default, "decoder", f"{where}.decoder"), registry,
                              f"{where}.decoder")
    else:
        decoder = build_decoder(experiment, default, registry)
    pipeline = None
    strong = getattr(spec, "extra", {}).get("strong_pipeline")
    if strong is not None:
        pipeline = ViewsPipeline(annotations.pipeline, instantiate(strong, registry, f"{where}.strong_pipeline"))
    data = experiment.data
    times = repeat_times(spec, where) if isinstance(spec, ComponentSpec) else 1
    dataset = ClipDataset(annotations, decoder=decoder, on_error=data.on_error, seed=experiment.runtime.seed,
                          num_classes=num_classes, pipeline=pipeline,
                          max_consecutive_bad=data.max_consecutive_bad, timeout=data.timeout, times=times)
    power = class_power(spec, where) if isinstance(spec, ComponentSpec) else None
    if power is not None:
        dataset.sample_weights = np.tile(class_weights(dataset.records, power, where), times) / times
    return dataset
