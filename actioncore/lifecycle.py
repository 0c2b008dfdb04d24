"""The run state that lifecycle hooks receive, and the typed facade task loops call them through."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import pluggy

    from .config.experiment import Experiment


@attrs.define(eq=False)
class RunState:
    """What a running task shares with lifecycle hooks. Task loops update it in place."""

    experiment: Experiment
    work_dir: Path
    rank: int = 0
    world_size: int = 1
    epoch: int = 0
    """Epochs finished."""
    iteration: int = 0
    """Training iterations finished, over all epochs."""
    max_epochs: int = 0
    iterations_per_epoch: int = 0
    model: Any = None
    optimizer: Any = None
    extra: dict[str, Any] = attrs.field(factory=dict)
    """Room for task-specific state that hooks may want (the best metric so far, ...)."""
    stop_reason: str | None = None
    """Why the run stops before ``max_epochs`` (set by :meth:`request_stop`), or None."""

    def request_stop(self, reason: str) -> None:
        """Ask the training loop to stop after the current epoch, its evaluation and its checkpoint;
        the run then tests and ends as ``finished`` (early stopping). The first reason is kept;
        the main process's request is the one every process follows."""
        if self.stop_reason is None:
            self.stop_reason = reason

    @property
    def stop_requested(self) -> bool:
        return self.stop_reason is not None

    @property
    def is_main_process(self) -> bool:
        return self.rank == 0


class Lifecycle:
    """Typed calls of the lifecycle hooks; the kernel and task loops never touch ``pm.hook``."""

    def __init__(self, pm: pluggy.PluginManager):
        self._hook = pm.hook

    def run_start(self, run: RunState) -> None:
        self._hook.actioncore_run_start(run=run)

    def after_iteration(self, run: RunState, outputs: Mapping[str, float]) -> None:
        self._hook.actioncore_after_iteration(run=run, outputs=outputs)

    def after_epoch(self, run: RunState) -> None:
        self._hook.actioncore_after_epoch(run=run)

    def after_evaluation(self, run: RunState, split: str, metrics: Mapping[str, float]) -> None:
        self._hook.actioncore_after_evaluation(run=run, split=split, metrics=metrics)

    def checkpoint_saved(self, run: RunState, path: str | Path, tags: tuple[str, ...]) -> None:
        self._hook.actioncore_checkpoint_saved(run=run, path=str(path), tags=tuple(tags))

    def run_end(self, run: RunState, status: str, error: BaseException | None = None) -> None:
        self._hook.actioncore_run_end(run=run, status=status, error=error)
