"""A base for task plugins whose loops are the kernel's :class:`~actioncore.engine.trainer.Trainer`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config.experiment import Experiment
from .trainer import TaskAdapter, Trainer


class TrainerTask:
    """Implements ``run`` and ``evaluate`` with the kernel's trainer; subclasses give the adapter.

    ``write_predictions`` and ``infer`` are the task's own: only it knows what a prediction is.
    """

    def adapter(self, experiment: Experiment) -> TaskAdapter:
        raise NotImplementedError

    def run(self, experiment: Experiment, *, resume: bool = False) -> dict[str, float]:
        return Trainer(experiment, self.adapter(experiment)).fit(resume=resume)

    def evaluate(self, experiment: Experiment, checkpoint: str | Path, *, split: str = "test",
                 out: str | Path | None = None) -> dict[str, float]:
        metrics, outputs = Trainer(experiment, self.adapter(experiment)).evaluate(checkpoint, split)
        if out is not None and os.environ.get("RANK", "0") == "0":
            self.write_predictions(experiment, split, outputs, Path(out))
        return metrics

    def write_predictions(self, experiment: Experiment, split: str, outputs: dict[str, Any], out: Path) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot write per-sample predictions")
