"""Training batches of a semi-supervised run: a labeled batch beside each unlabeled batch.

As in the original ``SemiEpochBasedRunner``, one epoch is one pass over the unlabeled loader
and the labeled loader restarts whenever it runs out. Here the labeled loader's position is a
pure function of the global iteration ``k`` (labeled epoch ``k // L``, batch ``k % L`` of an
``L``-batch labeled epoch), and both loaders are the kernel's epoch-seeded ones, so a run
resumed after ``kill -9`` sees exactly the batches an uninterrupted run would have.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from actioncore.sdk.data import close_loaders, failures_explained


class SemiLoader:
    """``{"labeled": batch, "unlabeled": batch | None, "iteration": k, "indices", "skipped"}``.

    Without ``unlabeled`` (strongly augmented supervised training) an epoch is one pass over
    ``labeled``. It is its own ``sampler`` for the trainer's ``set_epoch(epoch, skip)``, ``skip``
    counting samples of the epoch-defining loader.
    """

    def __init__(self, *, labeled: Any, unlabeled: Any | None = None):
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.driver = unlabeled if unlabeled is not None else labeled
        self.batch_size = self.driver.batch_size
        self.per_epoch = len(self.driver)
        self.labeled_per_epoch = len(labeled)
        self.sampler = self
        self.epoch = 0
        self.skip_batches = 0

    def failures_explained(self) -> contextlib.AbstractContextManager:
        """Each kernel loader names the file its own dead worker was reading (the trainer runs an
        epoch inside this)."""
        return failures_explained(self.labeled, self.unlabeled)

    def close(self) -> None:
        """Stop both loaders' worker processes (a failed run, before its cleanup hooks)."""
        close_loaders(self.labeled, self.unlabeled)

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch = epoch
        self.skip_batches = skip // self.batch_size

    def __len__(self) -> int:
        return self.per_epoch

    def labeled_from(self, iteration: int) -> Iterator[dict[str, Any]]:
        """Labeled batches from global iteration ``iteration`` on, restarting forever."""
        epoch, offset = divmod(iteration, self.labeled_per_epoch)
        while True:
            self.labeled.sampler.set_epoch(epoch, skip=offset * self.labeled.batch_size)
            yield from self.labeled
            epoch, offset = epoch + 1, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        first = self.epoch * self.per_epoch + self.skip_batches
        if self.unlabeled is None:
            self.labeled.sampler.set_epoch(self.epoch, skip=self.skip_batches * self.labeled.batch_size)
            for k, labeled in enumerate(self.labeled, start=first):
                yield {"labeled": labeled, "unlabeled": None, "iteration": k,
                       "indices": labeled["indices"], "skipped": labeled.get("skipped", [])}
            return
        self.unlabeled.sampler.set_epoch(self.epoch, skip=self.skip_batches * self.unlabeled.batch_size)
        labeled_batches = self.labeled_from(first)
        for k, unlabeled in enumerate(self.unlabeled, start=first):
            labeled = next(labeled_batches)
            yield {"labeled": labeled, "unlabeled": unlabeled, "iteration": k,
                   "indices": torch.cat([labeled["indices"], unlabeled["indices"]]),
                   "skipped": [*labeled.get("skipped", []), *unlabeled.get("skipped", [])]}
