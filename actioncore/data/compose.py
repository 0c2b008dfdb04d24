"""Composed training sets: several annotation lists as one (MMAction2's ``ConcatDataset``), the
list repeated within an epoch (``RepeatDataset``), and sampling weights that balance classes
(MMAction2 0.24's ``sample_by_class`` / ``power``).

Read from the ``[data.train]`` table's kernel keys (:data:`actioncore.types.TrainDataset`);
the dataset plugin only ever parses one list.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from ..config.schema import schema_of
from ..config.structure import ComponentSpec, format_path, iter_errors, make_converter
from ..errors import ConfigError
from ..plugin.registry import ComponentRegistry
from .dataset import ClipRecord
from .pipeline import Step

SHARED_KEYS = ("type", "pipeline")
"""Keys a source may not set: every source is read by the split's dataset and prepared by its pipeline."""


@attrs.frozen
class ConcatAnnotations:
    """The records of several annotation sets of one dataset type, in order, with the first's steps."""

    records: Sequence[ClipRecord]
    pipeline: Sequence[Step]
    default_decoder: str


def source_specs(spec: ComponentSpec, registry: ComponentRegistry, where: str) -> list[ComponentSpec]:
    """The split's own dataset spec, then one per ``sources`` entry: the split's parameters with
    the entry's keys (``ann_file``, ``root``, ...) structured against the dataset's factory in
    their place. Unknown or badly typed keys raise a :class:`ConfigError` naming
    ``data.train.sources[i].key``."""
    sources = spec.extra.get("sources") or []
    schema = schema_of(registry.get(spec.kind, spec.type).factory)
    converter = make_converter(registry)
    specs = [spec]
    for i, source in enumerate(sources):
        params = dict(spec.params)
        for key, raw in source.items():
            at = f"{where}.sources[{i}].{key}"
            if key in SHARED_KEYS:
                raise ConfigError(f"{at}: every source is read by the split's dataset '{spec.type}' with its "
                                  f"pipeline; set '{key}' in [{where}] only")
            param = schema.params.get(key)
            if param is None:
                known = ", ".join(k for k in sorted(schema.params) if k not in SHARED_KEYS)
                raise ConfigError(f"{at}: unknown key for dataset '{spec.type}'; known keys: {known}")
            try:
                params[key] = converter.structure(raw, param.annotation)
            except Exception as exc:  # cattrs' error tree, flattened into messages naming the key
                raise ConfigError("\n".join(f"{at}{format_path(path) and '.' + format_path(path)}: {message}"
                                            for path, message in iter_errors(exc))) from None
        specs.append(ComponentSpec(kind=spec.kind, type=spec.type, params=params))
    return specs


def repeat_times(spec: ComponentSpec, where: str) -> int:
    """``times`` (at least 1; 1 when absent): how often the list is gone through per epoch."""
    times = spec.extra.get("times", 1)
    if times < 1:
        raise ConfigError(f"{where}.times: must be at least 1, got {times}")
    return times


def class_power(spec: ComponentSpec, where: str) -> float | None:
    """``power`` when ``sample_by_class`` is on (0 when it is not given: every class equally
    often), None for plain shuffling; ``power`` alone is an error."""
    if not spec.extra.get("sample_by_class", False):
        if "power" in spec.extra:
            raise ConfigError(f"{where}.power: only used with sample_by_class = true")
        return None
    power = spec.extra.get("power", 0.0)
    if power < 0:
        raise ConfigError(f"{where}.power: must be at least 0, got {power}")
    return power


def class_weights(records: Sequence[ClipRecord], power: float, where: str) -> np.ndarray:
    """Per-record sampling probabilities under which class ``k`` (``n_k`` records) is drawn with
    probability ``n_k ** power / sum_j n_j ** power`` and its records uniformly: MMAction2 0.24's
    ``class_prob`` with ``sample_by_class`` (``power = 0``: classes equally often; 1: as listed)."""
    labels = []
    for record in records:
        if not isinstance(record.label, int) or isinstance(record.label, bool):
            raise ConfigError(f"{where}.sample_by_class: needs one class label per clip; "
                              f"{record.where} has {record.label!r}")
        labels.append(record.label)
    labels_array = np.asarray(labels)
    _, inverse, counts = np.unique(labels_array, return_inverse=True, return_counts=True)
    class_prob = counts.astype(np.float64) ** power
    class_prob /= class_prob.sum()
    return class_prob[inverse] / counts[inverse]

