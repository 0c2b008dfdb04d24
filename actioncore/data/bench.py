"""``actioncore bench data``: clips per second of a split's pipeline, one process and N workers,
or over a sweep of worker counts, optionally with the model's training step consuming each batch
(the loader's workers then overlap the step, as in training)."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .dataset import ClipDataset
from .loader import build_loader


def clips_per_second(dataset: ClipDataset, *, workers: int, batch_size: int, clips: int,
                     seed: int = 0, step: Callable[[dict[str, Any]], None] | None = None) -> dict[str, float]:
    """Time ``clips`` prepared clips (after one warm-up batch, which also starts the workers);
    ``step`` is called on every batch, the warm-up one too (the model's training step)."""
    loader = build_loader(dataset, batch_size=batch_size, workers=workers, shuffle=True, seed=seed,
                          persistent_workers=False)
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


def bench_split(dataset: ClipDataset, *, workers: int, batch_size: int, clips: int) -> dict[str, Any]:
    single = clips_per_second(dataset, workers=0, batch_size=batch_size, clips=clips)
    result: dict[str, Any] = {"single_process_clips_per_s": single["clips_per_s"], "clips": single["clips"]}
    if workers > 0:
        multi = clips_per_second(dataset, workers=workers, batch_size=batch_size, clips=clips)
        result.update(clips_per_s=multi["clips_per_s"], workers=workers)
    else:
        result.update(clips_per_s=single["clips_per_s"], workers=0)
    return result


def workers_sweep(dataset: ClipDataset, *, workers: Sequence[int], batch_size: int, clips: int,
                  step: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """clips/s with each number of ``workers`` (and, with ``step``, with the model's step
    consuming the batches), measured one after the other on the same clips."""
    rows = []
    for count in workers:
        row: dict[str, Any] = {"workers": count,
                               "clips_per_s": clips_per_second(dataset, workers=count, batch_size=batch_size,
                                                               clips=clips)["clips_per_s"]}
        if step is not None:
            row["with_model_step_clips_per_s"] = clips_per_second(
                dataset, workers=count, batch_size=batch_size, clips=clips, step=step)["clips_per_s"]
        rows.append(row)
    return rows
