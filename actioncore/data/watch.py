"""Keeping data-loading failures readable: errors from workers, dead workers, hung decoders.

A :class:`~actioncore.data.dataset.ClipDataset` error raised inside a DataLoader worker would reach
the user wrapped in the worker's traceback, a worker killed by a signal only says its pid, and a
decoder that never returns hangs the run. Here each worker records in shared memory which sample
it is reading, errors travel back as values, and a per-sample time limit names the file.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator

import attrs
import torch
import torch.utils.data

from ..errors import ActionCoreError, DataError


@attrs.frozen
class WorkerFailure:
    """A user-facing error raised while a worker prepared a sample, sent back instead of raised."""

    error: ActionCoreError


class WorkerProgress:
    """Shared ``[workers, 2]`` table of (pid, dataset index) that each worker process updates
    before reading a sample, so the main process can name the file a dead worker was reading."""

    def __init__(self, workers: int):
        self.table = torch.full((max(1, workers), 2), -1, dtype=torch.int64).share_memory_()

    def note(self, index: int) -> None:
        info = torch.utils.data.get_worker_info()
        if info is not None:
            self.table[info.id, 0] = os.getpid()
            self.table[info.id, 1] = index

    def reading(self, pid: int | None = None) -> list[int]:
        """Dataset indices being read (by the worker with ``pid``, or by every worker)."""
        rows = self.table.tolist()
        return [index for worker_pid, index in rows if index >= 0 and (pid is None or worker_pid == pid)]


_DIED = re.compile(r"DataLoader worker \(pids?\(?s?\)? ?([\d, ]+)\)? (is killed by signal: [^.]+|exited unexpectedly)")
_TIMED_OUT = re.compile(r"DataLoader timed out after (\d+) seconds")


def explain(exc: RuntimeError, progress: WorkerProgress | None, where: Callable[[int], str],
            workers: set[int] | None = None) -> DataError | None:
    """A :class:`DataError` naming the file(s) being read when torch reports a dead or silent
    worker; None when ``exc`` is another error, or the death of a process not in ``workers`` (the
    pids of this loader's workers, when known: torch reports any loader's dead worker wherever
    the main process is, e.g. while it reads another loader)."""
    died, timed_out = _DIED.search(str(exc)), _TIMED_OUT.search(str(exc))
    if not died and not timed_out:
        return None
    if died:
        pids = [int(p) for p in re.findall(r"\d+", died.group(1))]
        if workers is not None and not workers.intersection(pids):
            return None
        return dead_worker_error(pids, died.group(2), progress, where)
    indices = progress.reading() if progress else []
    files = ", ".join(where(i) for i in indices) or "unknown files"
    return DataError(f"no batch from the DataLoader workers in {timed_out.group(1)} s while they were reading "
                     f"{files} (data.timeout)")


def dead_worker_error(pids: list[int], how: str, progress: WorkerProgress | None,
                      where: Callable[[int], str]) -> DataError:
    """The DataError for workers ``pids`` that died (``how``: torch's words, e.g. ``is killed by
    signal: Segmentation fault``), naming the files they were reading."""
    indices = [i for pid in pids for i in (progress.reading(pid) if progress else [])]
    files = ", ".join(where(i) for i in indices) or "an unknown file"
    return DataError(f"a DataLoader worker died ({how}) while reading {files}; "
                     "the decoder crashed on it: check the file with 'actioncore data check'")


@contextlib.contextmanager
def time_limit(seconds: float, where: str) -> Iterator[None]:
    """Raise :class:`DataError` naming ``where`` if the block runs longer than ``seconds``.

    Uses SIGALRM, so it works in the main thread of the main process and of each worker process
    (decoders run there); it cannot interrupt a C call that never returns to Python, which the
    loader's own timeout catches. ``seconds <= 0`` or another thread: no limit.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise DataError(f"{where}: reading took longer than data.timeout = {seconds:g} s; the decoder hangs "
                        "on this file", path=where)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
