"""Torch's intra-op threads during data preparation in the main process."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run the block on one intra-op thread, then restore the count.

    A clip's pipeline works on small uint8 frames: torch's threads gain nothing there and, when
    other processes keep the cores busy, their spin-waiting made ``data.workers = 0`` several
    times slower (quickstart: 38-145 clips/s with 2 threads vs 307 with one, same load).
    Loader workers run on one thread already (``build_loader``); :class:`~actioncore.data.loader.ClipLoader`
    without workers prepares each batch under this, in the main process,
    where data preparation and the model step take turns, never overlap."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
