"""``actioncore bench data``: clips per second of a split's pipeline, one process and N workers,
or over a sweep of worker counts, optionally with the model's training step consuming each batch
(the loader's workers then overlap the step, as in training)."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .dataset import ClipDataset
from .loader import ClipLoader, build_loader


def clips_per_second(loader: Any, *, clips: int,
                     step: Callable[[dict[str, Any]], None] | None = None) -> dict[str, float]:
    """Time ``clips`` prepared clips of ``loader`` (a kernel loader, or a task's training loader:
    ``sampler.set_epoch`` and batches with ``indices``) after one warm-up batch, which also starts
    the workers; ``step`` is called on every batch, the warm-up one too (the model's training step)."""
    done, epoch, started = 0, 0, None
    while done < clips:
        loader.sampler.set_epoch(epoch)
        for batch in loader:
            if step is not None:
                step(batch)
            if started is None:
                started = time.perf_counter()
                continue
            done += len(batch["indices"])
            if done >= clips:
                break
        epoch += 1
    elapsed = time.perf_counter() - started
    return {"clips_per_s": done / elapsed, "clips": done, "seconds": elapsed}


def dataset_loader(dataset: ClipDataset, *, batch_size: int, seed: int = 0) -> Callable[[int], ClipLoader]:
    """A shuffled kernel loader of ``dataset`` with a given number of workers."""
    return lambda workers: build_loader(dataset, batch_size=batch_size, workers=workers, shuffle=True, seed=seed,
                                        persistent_workers=False)


def bench_split(dataset: ClipDataset, *, workers: int, batch_size: int, clips: int) -> dict[str, Any]:
    loader = dataset_loader(dataset, batch_size=batch_size)
    single = clips_per_second(loader(0), clips=clips)
    result: dict[str, Any] = {"single_process_clips_per_s": single["clips_per_s"], "clips": single["clips"]}
    if workers > 0:
        multi = clips_per_second(loader(workers), clips=clips)
        result.update(clips_per_s=multi["clips_per_s"], workers=workers)
    else:
        result.update(clips_per_s=single["clips_per_s"], workers=0)
    return result


def workers_sweep(loader: Callable[[int], Any], *, workers: Sequence[int], clips: int,
                  step: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """clips/s of ``loader(n)`` with each number ``n`` of ``workers`` (and, with ``step``, with the
    model's step consuming the batches), measured one after the other on the same clips."""
    rows = []
    for count in workers:
        row: dict[str, Any] = {"workers": count, "clips_per_s": clips_per_second(loader(count), clips=clips)["clips_per_s"]}
        if step is not None:
            row["with_model_step_clips_per_s"] = clips_per_second(loader(count), clips=clips, step=step)["clips_per_s"]
        rows.append(row)
    return rows
