"""Annotations that mark a factory parameter as a nested component.

A factory that takes another component annotates the parameter with one of these, e.g. a
dataset's ``pipeline: list[Transform]`` or a recognizer's ``backbone: Backbone``. The config
then reads that value as a component table (``{type = "name", ...}``) of the right kind, and
:func:`actioncore.build` builds it before calling the factory, so the factory receives the
built object.
"""
from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

import attrs


@attrs.frozen
class ComponentOf:
    """Marker inside ``Annotated[...]``: the value is a component of this kind.

    ``extra`` names keys the table may hold beside the factory's parameters, with their
    annotations: the kernel reads them (``[data.unlabeled] strong_pipeline``), the factory never
    sees them; they land in :attr:`ComponentSpec.extra`.
    """

    kind: str
    extra: tuple[tuple[str, Any], ...] = ()


Backbone = Annotated[Any, ComponentOf("backbone")]
Neck = Annotated[Any, ComponentOf("neck")]
Head = Annotated[Any, ComponentOf("head")]
Model = Annotated[Any, ComponentOf("model", extra=(("init", str),))]
"""A model table; ``init`` (a checkpoint or a zoo weights name) loads the whole built model from it,
its head left at initialisation for another class count (:mod:`actioncore.weights.init`)."""
Dataset = Annotated[Any, ComponentOf("dataset")]
Transform = Annotated[Any, ComponentOf("transform")]
Decoder = Annotated[Any, ComponentOf("decoder")]
Task = Annotated[Any, ComponentOf("task")]
Metric = Annotated[Any, ComponentOf("metric")]
Converter = Annotated[Any, ComponentOf("converter")]
ViewsDataset = Annotated[Any, ComponentOf("dataset", extra=(("strong_pipeline", list[Transform]),))]
"""A dataset table that may also hold ``strong_pipeline``: steps applied to a copy of each
finished weak view (same frames, crop and flip) to make a second, strongly augmented view."""


ExtraTrainSource = Annotated[Any, ComponentOf("dataset", extra=(
    ("name", str),
    ("batch_size", int),
    ("loss_weight", float),
    ("every", int),
    ("batches", int),
    ("times", int),
    ("sample_by_class", bool),
    ("power", float),
))]
"""One ``[[data.train.extra_sources]]`` table (OmniSource multi-source training): a dataset of
its own type, list and pipeline, read by its dataset's default decoder (``image`` for
``image_list``), with ``name`` (logged as ``loss_NAME``), ``batch_size`` (default
``data.batch_size``), ``loss_weight`` (1), ``every`` / ``batches`` (a batch share: ``batches``
batches on every ``every``-th iteration; 1 / 1) and the composition keys ``times``,
``sample_by_class``, ``power``. Tasks that support it read it through ``train_loader``."""

TrainDataset = Annotated[Any, ComponentOf("dataset", extra=(
    ("strong_pipeline", list[Transform]),
    ("sources", list[dict[str, Any]]),
    ("times", int),
    ("sample_by_class", bool),
    ("power", float),
    ("extra_sources", list[ExtraTrainSource]),
))]
"""The ``[data.train]`` table: a :data:`ViewsDataset` that may also be composed (MMAction2's
``ConcatDataset`` / ``RepeatDataset``) and sampled by class (see :mod:`actioncore.data.compose`):
``sources``, more annotation lists of the same format, each a table of the dataset's parameters
that replace the main table's (``ann_file``, ``root``, ...); ``times``, the whole list repeated
in one epoch; ``sample_by_class`` with ``power``, class ``k`` drawn with probability
proportional to ``n_k ** power``."""


def component_marker(annotation: Any) -> ComponentOf | None:
    """The :class:`ComponentOf` marker of an annotation, or None for plain values."""
    if get_origin(annotation) is Annotated:
        for extra in get_args(annotation)[1:]:
            if isinstance(extra, ComponentOf):
                return extra
    return None


def component_kind(annotation: Any) -> str | None:
    """The component kind an annotation marks, or None for plain values."""
    marker = component_marker(annotation)
    return marker.kind if marker is not None else None
