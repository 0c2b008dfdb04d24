"""Batches: the epoch-seeded sampler, collation and the DataLoader for one split."""
from __future__ import annotations

import contextlib
import math
import signal
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.utils.data

from .dataset import BadSample, ClipDataset
from .sample import VideoSample
from .threads import one_torch_thread
from .watch import WorkerFailure, WorkerProgress, dead_worker_error, explain
from .views import STRONG_VIEW
from ..builtin.transforms import collate as collate_clips


class EpochSampler(torch.utils.data.Sampler):
    """Yields ``(epoch, index)`` pairs: a seeded permutation per epoch, split across ranks.

    The epoch travels with each index, so dataset workers (persistent or not) seed every sample
    from ``(seed, epoch, index)`` without being told the epoch. Training pads the order so every
    rank gets the same number of indices (DDP steps in lockstep); evaluation (``pad=False``)
    gives each index to exactly one rank, so metrics count every sample once.

    ``skip`` drops the first indices of this rank's order, to resume mid-epoch exactly.

    ``weights`` (probabilities, one per index) replaces the permutation with ``num_samples``
    draws with replacement by these probabilities, from the same per-epoch generator (class-
    balanced sampling); the order stays a function of ``(seed, epoch)``, so ``skip`` resumes it.

    ``repeats`` > 1 is repeated augmentation (Hoffer et al., 2019) as MMAction2 1.2.0's MViT
    recipes run it (``RepeatAugDataset(num_repeats)`` under a ``DefaultSampler``): the videos
    are shuffled, padded and sharded across ranks as without repeats, then each of this rank's
    videos is given ``repeats`` times in a row, as draws ``index + r * num_samples`` (the
    dataset maps a draw back to its index and seeds the sample from the draw, so every copy gets
    its own augmentation). A batch of ``batch_size * repeats`` then holds ``batch_size`` videos,
    each ``repeats`` times, and an epoch has the same number of iterations as without repeats.
    The order is still a function of ``(seed, epoch)``: ``skip`` counts draws and resumes exactly.
    """

    def __init__(self, num_samples: int, *, shuffle: bool, seed: int = 0, rank: int = 0,
                 world_size: int = 1, pad: bool = True, weights: np.ndarray | None = None,
                 repeats: int = 1):
        if weights is not None and len(weights) != num_samples:
            raise ValueError(f"{len(weights)} sampling weights for {num_samples} samples")
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.repeats = repeats
        self.num_samples = num_samples
        self.weights = weights
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.pad = pad
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch = epoch
        self.skip = skip

    def order(self) -> np.ndarray:
        """This rank's indices for the current epoch, before ``skip``."""
        if self.shuffle and self.weights is not None:
            rng = np.random.default_rng([self.seed, self.epoch])
            order = rng.choice(self.num_samples, size=self.num_samples, replace=True, p=self.weights)
        elif self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(self.num_samples)
        else:
            order = np.arange(self.num_samples)
        if self.pad and self.world_size > 1:
            total = math.ceil(self.num_samples / self.world_size) * self.world_size
            order = np.resize(order, total)
        order = order[self.rank::self.world_size]
        if self.repeats > 1:
            order = (order[:, None] + self.num_samples * np.arange(self.repeats)).reshape(-1)
        return order

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in self.order()[self.skip:]:
            yield self.epoch, int(index)

    def __len__(self) -> int:
        return max(0, len(self.order()) - self.skip)


def collate(samples: Sequence[VideoSample | WorkerFailure]) -> dict[str, Any] | WorkerFailure:
    """Stack samples into a uint8 batch; add their dataset indices and any skipped bad files.

    ``frame_indices`` (int64 ``[B, num_clips, clip_len]``, when every sample has the same shape)
    are the sampled frames, e.g. to look up per-frame targets. Samples with a strong view (a
    split's ``strong_pipeline``) also give ``batch["strong"]``, the strong views collated the same
    way (``inputs``, ``labels``, ``normalize``, ...). A sample that failed in a worker makes the
    whole batch that failure (raised by :class:`ClipLoader`).
    """
    failed = next((s for s in samples if isinstance(s, WorkerFailure)), None)
    if failed is not None:
        return failed
    batch = collate_clips(samples)
    if STRONG_VIEW in samples[0].meta:
        batch["strong"] = collate_clips([s.meta[STRONG_VIEW] for s in samples])
    batch["indices"] = torch.tensor([s.index for s in samples], dtype=torch.int64)
    if all(s.frame_indices is not None and s.frame_indices.shape == samples[0].frame_indices.shape for s in samples):
        batch["frame_indices"] = torch.from_numpy(np.stack([s.frame_indices for s in samples]).astype(np.int64))
    batch["sources"] = [s.source for s in samples]
    batch["skipped"] = [bad for s in samples for bad in s.meta.get("skipped", ())]
    return batch


def _worker_init(worker_id: int) -> None:
    # decoding threads beyond one per worker oversubscribe the cores the workers already fill
    torch.set_num_threads(1)


class ClipLoader(torch.utils.data.DataLoader):
    """A DataLoader whose failures read as with ``workers = 0``: a worker's error is raised as
    it is, and a worker that dies or stalls is reported with the file(s) it was reading.

    torch reports a dead worker from a SIGCHLD handler, i.e. wherever the main process happens to
    be (often inside the model's forward); loops that consume the loader therefore run inside
    :meth:`failures_explained`.
    """

    _workers_iterator: Any = None

    def __iter__(self):
        iterator = self._workers_iterator = super().__iter__()
        while True:
            # without workers the batch is prepared here, in the main process: on one thread
            preparing = one_torch_thread() if self.num_workers == 0 else contextlib.nullcontext()
            with self.failures_explained(), preparing:
                try:
                    batch = next(iterator)
                except StopIteration:
                    return
            if isinstance(batch, WorkerFailure):
                raise batch.error
            yield batch

    @contextlib.contextmanager
    def failures_explained(self) -> Iterator[None]:
        """Turn torch's "worker exited unexpectedly / timed out" into a DataError naming the files."""
        try:
            yield
        except (ConnectionError, EOFError):
            # a worker that dies while it sends a batch breaks the pipe before torch sees it dead
            try:
                dead = self._dead_worker()
            except RuntimeError as exc:  # torch's SIGCHLD handler saw it first, while we waited
                self._explain(exc)
                raise
            if dead is None:
                raise
            code = dead.exitcode or 0
            how = f"is killed by signal: {signal.strsignal(-code)}" if code < 0 else "exited unexpectedly"
            self.close()
            raise dead_worker_error([dead.pid], how, *self._progress()) from None
        except RuntimeError as exc:
            self._explain(exc)
            raise

    def _explain(self, exc: RuntimeError) -> None:
        """Raise the DataError naming the files for torch's report of a dead or silent worker."""
        workers = {w.pid for w in getattr(self._workers_iterator, "_workers", ())}
        explained = explain(exc, *self._progress(), workers=workers or None)
        if explained is not None:
            self.close()
            raise explained from None

    def _progress(self) -> tuple[WorkerProgress | None, Any]:
        """What the workers were reading, and how to name a dataset index (its list line and file)."""
        dataset = self.dataset
        return getattr(dataset, "reading", None), lambda i: _describe(dataset.records[i])

    def _dead_worker(self, wait: float = 5.0) -> Any | None:
        """The first of this loader's worker processes to have exited (waiting up to ``wait`` s
        for one to finish dying), or None if they all live."""
        workers = list(getattr(self._workers_iterator, "_workers", ()))
        deadline = time.monotonic() + wait
        while workers:
            dead = [w for w in workers if not w.is_alive()]
            if dead:
                return dead[0]
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return None

    def close(self) -> None:
        """Stop the worker processes now (a failed run's cleanup must not meet torch's SIGCHLD
        handler again: it keeps a dead worker's pid until the iterator is shut down and raises
        the same RuntimeError from wherever the main process is at the next child exit)."""
        iterator, self._workers_iterator = self._workers_iterator, None
        if self._iterator is iterator:  # persistent workers: the next epoch must start new ones
            self._iterator = None
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if shutdown is not None:
            # the pids are unregistered in its finally; a dead worker may still be reported while
            # the others are joined, which is the error already being raised
            with contextlib.suppress(RuntimeError):
                shutdown()


@contextlib.contextmanager
def failures_explained(*loaders: Any) -> Iterator[None]:
    """Run a block inside every loader's ``failures_explained`` (those that have one): a loader
    that combines several kernel loaders lets each name the file its own dead worker was reading
    (torch reports a death wherever the main process is)."""
    with contextlib.ExitStack() as stack:
        for loader in loaders:
            explained = getattr(loader, "failures_explained", None)
            if explained is not None:
                stack.enter_context(explained())
        yield


def close_loaders(*loaders: Any) -> None:
    """Stop the worker processes of every loader that can (``close``), e.g. when a run fails."""
    for loader in loaders:
        close = getattr(loader, "close", None)
        if close is not None:
            close()


def _describe(record: Any) -> str:
    return record.where if record.where == record.source else f"{record.where} ({record.source})"


def build_loader(dataset: ClipDataset, *, batch_size: int, workers: int, shuffle: bool,
                 seed: int = 0, rank: int = 0, world_size: int = 1, train: bool = True,
                 pin_memory: bool = False, persistent_workers: bool = True,
                 prefetch_factor: int = 2, repeats: int = 1, sample_once: bool = False) -> ClipLoader:
    """A :class:`ClipLoader` over ``dataset`` with an :class:`EpochSampler`; call
    ``loader.sampler.set_epoch``. A shuffled loader draws by the dataset's ``sample_weights``
    when it has them (class-balanced sampling). Worker processes wait at most ``batch_size`` times the
    dataset's per-sample ``timeout`` for a batch. ``repeats`` > 1 (training) is repeated
    augmentation: batches of ``batch_size`` videos, each ``repeats`` times (:class:`EpochSampler`);
    ``sample_once`` makes the copies of a video read the same frames (``ClipDataset.sample_once``)."""
    if sample_once and repeats > 1 and isinstance(dataset, ClipDataset):
        dataset.sample_once = True
    weights = getattr(dataset, "sample_weights", None) if shuffle else None
    sampler = EpochSampler(len(dataset), shuffle=shuffle, seed=seed, rank=rank,
                           world_size=world_size, pad=train, weights=weights, repeats=repeats)
    extra: dict[str, Any] = {}
    if workers > 0:
        extra = dict(persistent_workers=persistent_workers, prefetch_factor=prefetch_factor,
                     worker_init_fn=_worker_init)
        if isinstance(dataset, ClipDataset):
            dataset.reading = WorkerProgress(workers)
            if dataset.timeout > 0:
                # the per-sample alarm names the file; this catches a decoder stuck in C code
                extra["timeout"] = dataset.timeout * batch_size + 60
    # a private generator: creating an iterator would otherwise draw from torch's global RNG
    # (the workers' base seed) and shift dropout after a resume
    generator = torch.Generator().manual_seed(seed)
    return ClipLoader(dataset, batch_size=batch_size * repeats, sampler=sampler, num_workers=workers,
                      collate_fn=collate, generator=generator, pin_memory=pin_memory, drop_last=False,
                      **extra)


def unique_bad(skipped: Sequence[BadSample]) -> list[BadSample]:
    """Each bad file once (a file is met again each time a later index falls back onto it), sorted."""
    return sorted({b.where: b for b in skipped}.values(), key=lambda b: b.where)


def report_skipped(skipped: Sequence[BadSample]) -> str:
    """One line per bad file, for the end-of-epoch report under ``on_error = "skip"``."""
    return "\n".join(f"  {b.where}: {b.reason}" for b in unique_bad(skipped))
