"""What a task is (:class:`Task`), and a base for tasks whose loop is the kernel's trainer."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..config.experiment import Experiment
from .trainer import TaskAdapter, Trainer


@runtime_checkable
class Task(Protocol):
    """What a registered task (``[task] type = "..."``) does; :func:`actioncore.run`,
    :func:`actioncore.evaluate` and :func:`actioncore.infer` call these on the built task.

    A task may leave out ``evaluate`` or ``infer`` (BSN's proposal generation only runs): the
    kernel then says that the task has no such step. Implementations are registered through
    ``actioncore_tasks`` and built from the ``[task]`` table, whose keys are their parameters.
    """

    def run(self, experiment: Experiment, *, resume: bool = False) -> dict[str, float]:
        """Train (or otherwise run) the experiment; returns the final metrics, flat. A task that
        can resume under a changed experiment also takes ``allow_changes: bool = False``."""

    def evaluate(self, experiment: Experiment, checkpoint: str | Path, *, split: str = "test",
                 out: str | Path | None = None) -> dict[str, float]:
        """Metrics of a checkpoint on one split; ``out`` also writes per-sample predictions."""

    def infer(self, experiment: Experiment, checkpoint: str | Path, inputs: Sequence[str], *,
              topk: int = 5) -> list[dict[str, Any]]:
        """Predictions for inputs outside any annotation file, one dict per input."""


class TrainerTask:
    """Implements ``run`` and ``evaluate`` with the kernel's trainer; subclasses give the adapter.

    ``write_predictions`` and ``infer`` are the task's own: only it knows what a prediction is.
    """

    def adapter(self, experiment: Experiment) -> TaskAdapter:
        raise NotImplementedError

    def run(self, experiment: Experiment, *, resume: bool = False, allow_changes: bool = False) -> dict[str, float]:
        return Trainer(experiment, self.adapter(experiment)).fit(resume=resume, allow_changes=allow_changes)

    def evaluate(self, experiment: Experiment, checkpoint: str | Path, *, split: str = "test",
                 out: str | Path | None = None) -> dict[str, float]:
        metrics, outputs = Trainer(experiment, self.adapter(experiment)).evaluate(checkpoint, split)
        if out is not None and os.environ.get("RANK", "0") == "0":
            self.write_predictions(experiment, split, outputs, Path(out))
        return metrics

    def write_predictions(self, experiment: Experiment, split: str, outputs: dict[str, Any], out: Path) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot write per-sample predictions")
