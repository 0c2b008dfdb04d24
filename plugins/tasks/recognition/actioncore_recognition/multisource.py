"""OmniSource-style multi-source training batches (MMAction2 0.24's ``OmniSourceRunner``).

``[data.train]`` is the main source: one epoch is one pass over it. Each
``[[data.train.extra_sources]]`` table is its own loader (own dataset type, pipeline, batch
size) that restarts whenever it runs out, and contributes ``batches`` batches on every
``every``-th iteration (0.24's ``train_ratio = [every, batches, ...]``, its
``omni_videos_per_gpu`` being the sources' ``batch_size``). A source's position is a pure
function of the global iteration ``k`` (it has given ``ceil(k / every) * batches`` batches before
``k``; pass ``p`` of its loader is epoch ``p`` of its epoch-seeded sampler), so a run resumed
mid-epoch sees exactly the batches an uninterrupted run would have.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import torch

from actioncore.sdk import ConfigError
from actioncore.sdk.data import close_loaders, failures_explained

MAIN = "main"
"""The name ``[data.train]``'s batches and loss are logged under (``loss_main``)."""


@attrs.frozen
class SourceSetting:
    """One ``[[data.train.extra_sources]]`` table's share of the training batches."""

    name: str
    batch_size: int
    loss_weight: float = 1.0
    every: int = 1
    batches: int = 1


def source_settings(specs: Sequence[Any], *, default_batch_size: int) -> list[SourceSetting]:
    """The extra sources' settings, checked: errors name ``data.train.extra_sources[i].key``."""
    settings, names = [], {MAIN}
    for i, spec in enumerate(specs):
        extra, at = spec.extra, f"data.train.extra_sources[{i}]"
        name = extra.get("name") or f"source{i + 1}"
        if name in names:
            raise ConfigError(f"{at}.name: '{name}' is taken ('{MAIN}' is [data.train]'s; names are unique)")
        names.add(name)
        for key in ("batch_size", "every", "batches"):
            if extra.get(key, 1) < 1:
                raise ConfigError(f"{at}.{key}: must be at least 1, got {extra[key]}")
        if extra.get("loss_weight", 1.0) < 0:
            raise ConfigError(f"{at}.loss_weight: must be at least 0, got {extra['loss_weight']}")
        settings.append(SourceSetting(name=name, batch_size=extra.get("batch_size", default_batch_size),
                                      loss_weight=float(extra.get("loss_weight", 1.0)),
                                      every=extra.get("every", 1), batches=extra.get("batches", 1)))
    return settings


class Source:
    """An extra source's loader, positioned by the global iteration."""

    def __init__(self, setting: SourceSetting, loader: Any):
        self.setting = setting
        self.name = setting.name
        self.loader = loader

    def contributes(self, iteration: int) -> bool:
        return iteration % self.setting.every == 0

    def consumed_before(self, iteration: int) -> int:
        """Batches this source gave before global iteration ``iteration`` (0-based; iteration 0
        is one it contributes to)."""
        return -(-iteration // self.setting.every) * self.setting.batches

    def batches_from(self, iteration: int) -> Iterator[dict[str, Any]]:
        """Its batches from global iteration ``iteration`` on, restarting forever."""
        epoch, offset = divmod(self.consumed_before(iteration), len(self.loader))
        while True:
            self.loader.sampler.set_epoch(epoch, skip=offset * self.loader.batch_size)
            yield from self.loader
            epoch, offset = epoch + 1, 0


class MultiSourceLoader:
    """``{"per_source": {name: [batch, ...]}, "iteration": k, "indices", "skipped"}``: the main
    batch under :data:`MAIN`, then each extra source's batches of that iteration (none on an
    iteration it skips). It is its own ``sampler`` for the trainer's ``set_epoch(epoch, skip)``,
    ``skip`` counting main-source samples."""

    def __init__(self, *, main: Any, sources: Sequence[Source]):
        self.main = main
        self.sources = list(sources)
        self.batch_size = main.batch_size
        self.per_epoch = len(main)
        self.sampler = self
        self.epoch = 0
        self.skip_batches = 0

    def loaders(self) -> list[Any]:
        return [self.main, *(source.loader for source in self.sources)]

    def failures_explained(self) -> contextlib.AbstractContextManager:
        """Each kernel loader names the file its own dead worker was reading."""
        return failures_explained(*self.loaders())

    def close(self) -> None:
        """Stop every loader's worker processes (a failed run, before its cleanup hooks)."""
        close_loaders(*self.loaders())

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch = epoch
        self.skip_batches = skip // self.batch_size

    def __len__(self) -> int:
        return self.per_epoch

    def __iter__(self) -> Iterator[dict[str, Any]]:
        first = self.epoch * self.per_epoch + self.skip_batches
        self.main.sampler.set_epoch(self.epoch, skip=self.skip_batches * self.main.batch_size)
        streams = [source.batches_from(first) for source in self.sources]
        for k, main in enumerate(self.main, start=first):
            per_source = {MAIN: [main]}
            for source, stream in zip(self.sources, streams):
                per_source[source.name] = [next(stream) for _ in range(source.setting.batches)] \
                    if source.contributes(k) else []
            batches = [b for group in per_source.values() for b in group]
            yield {"per_source": per_source, "iteration": k,
                   "indices": torch.cat([b["indices"] for b in batches]),
                   "skipped": [s for b in batches for s in b.get("skipped", [])]}
