"""The kernel's loaders of an experiment's splits, and the training batches a task's step consumes.

One place builds them for the trainer and for ``bench model`` / ``bench data --with-model``, so a
benchmark feeds a task's training step what training feeds it: the task's own batches where its
adapter has ``train_loader`` (semi-supervised: a labeled and an unlabeled batch; multi-source
recognition: one part per source).
"""
from __future__ import annotations

from typing import Any

from ..config.experiment import Experiment
from ..data.loader import ClipLoader, build_loader
from ..data.splits import build_split
from ..plugin.registry import ComponentRegistry


def split_loader(experiment: Experiment, split: str, registry: ComponentRegistry, *, train: bool,
                 batch_size: int | None = None, source: int | None = None, workers: int | None = None,
                 rank: int = 0, world_size: int = 1, pin_memory: bool = False) -> ClipLoader:
    """The loader of ``data.<split>`` (``source``: of ``data.train.extra_sources[source]``) with
    the experiment's data options; ``workers`` overrides ``data.workers``."""
    dataset = build_split(experiment, split, registry, source=source)
    data = experiment.data
    batch = data.batch_size if train else (getattr(data, f"{split}_batch_size", None) or data.batch_size)
    return build_loader(dataset, batch_size=batch_size or batch, workers=data.workers if workers is None else workers,
                        shuffle=train, seed=experiment.runtime.seed, rank=rank, world_size=world_size, train=train,
                        pin_memory=pin_memory, persistent_workers=data.persistent_workers,
                        prefetch_factor=data.prefetch_factor, repeats=data.num_repeats if train else 1,
                        sample_once=data.sample_once)


def own_train_loader(experiment: Experiment, adapter: Any, registry: ComponentRegistry, **options: Any) -> Any:
    """The task's own training loader (``TaskAdapter.train_loader``), its splits' loaders built by
    :func:`split_loader` with ``options``; None when the task trains on ``data.train`` alone."""
    own = getattr(adapter, "train_loader", None)
    if own is None:
        return None
    return own(lambda split, *, batch_size=None, source=None: split_loader(
        experiment, split, registry, train=True, batch_size=batch_size, source=source, **options))

