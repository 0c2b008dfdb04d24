"""The kernel's own run loggers, written as lifecycle hook implementations like any plugin's.

On the main process they write ``WORK_DIR/log.jsonl`` (one JSON object per logged event) and
TensorBoard event files under ``WORK_DIR/tensorboard`` (scalars for loss, learning rate,
throughput and metrics; images such as a confusion matrix after each evaluation).
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from .. import hookimpl
from ..lifecycle import RunState

_STATE = "loggers"


class _RunFiles:
    def __init__(self, run: RunState):
        from tensorboardX import SummaryWriter

        run.work_dir.mkdir(parents=True, exist_ok=True)
        self.jsonl = open(run.work_dir / "log.jsonl", "a", encoding="utf-8")
        self.writer = SummaryWriter(logdir=str(run.work_dir / "tensorboard"))

    def event(self, kind: str, **fields: Any) -> None:
        self.jsonl.write(json.dumps({"event": kind, "time": time.time(), **fields}) + "\n")
        self.jsonl.flush()

    def close(self) -> None:
        self.jsonl.close()
        self.writer.close()


def _files(run: RunState) -> _RunFiles | None:
    return run.extra.get(_STATE) if run.is_main_process else None


@hookimpl
def actioncore_run_start(run: RunState) -> None:
    if run.is_main_process:
        run.extra[_STATE] = files = _RunFiles(run)
        files.event("run_start", epoch=run.epoch, iteration=run.iteration, world_size=run.world_size)


@hookimpl
def actioncore_after_iteration(run: RunState, outputs: Mapping[str, float]) -> None:
    files = _files(run)
    if files is None:
        return
    log_every = max(1, run.experiment.runtime.log_interval) if run.experiment is not None else 1
    if run.iteration % log_every == 0:
        files.event("train", epoch=run.epoch + 1, iteration=run.iteration, **outputs)
        for key, value in outputs.items():
            files.writer.add_scalar(f"train/{key}", value, run.iteration)


@hookimpl
def actioncore_after_evaluation(run: RunState, split: str, metrics: Mapping[str, float]) -> None:
    files = _files(run)
    if files is None:
        return
    skipped = run.extra.get("skipped", {}).pop(split, None)
    extra = {} if skipped is None else {"skipped_samples": skipped}
    files.event("evaluation", split=split, epoch=run.epoch, iteration=run.iteration, **metrics, **extra)
    for key, value in metrics.items():
        files.writer.add_scalar(f"{split}/{key}", value, run.iteration)
    for tag, image in run.extra.pop("images", {}).items():
        files.writer.add_image(tag, image, run.iteration, dataformats="HWC")
    files.writer.flush()


@hookimpl
def actioncore_after_epoch(run: RunState) -> None:
    skipped = run.extra.get("skipped", {}).pop("train", None)
    files = _files(run)
    if files is not None and skipped:
        files.event("skipped", split="train", epoch=run.epoch, iteration=run.iteration, count=len(skipped),
                    samples=skipped)


@hookimpl
def actioncore_checkpoint_saved(run: RunState, path: str, tags: tuple[str, ...]) -> None:
    files = _files(run)
    if files is not None:
        files.event("checkpoint", path=path, tags=list(tags), epoch=run.epoch, iteration=run.iteration)


@hookimpl
def actioncore_run_end(run: RunState, status: str, error: BaseException | None) -> None:
    files = run.extra.pop(_STATE, None)
    if files is not None:
        files.event("run_end", status=status, error=None if error is None else f"{type(error).__name__}: {error}")
        files.close()
