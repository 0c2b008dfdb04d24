"""The kernel's training loop, for task plugins that do not write their own.

A task plugin subclasses :class:`TrainerTask` and returns a :class:`TaskAdapter` (how a batch
becomes a loss and how outputs become metrics); the trainer does the rest: DDP, AMP, gradient
accumulation, schedules, checkpoints, exact resume, lifecycle hooks.

:func:`resolve_device` turns ``runtime.device`` (``auto``, ``cpu``, ``cuda[:N]``) into the
``torch.device`` a task's own loops (``infer``) run on, as the trainer does.
"""
from ..deploy.example import ExportExample
from ..engine.task import Task, TrainerTask
from ..engine.distributed import resolve_device
from ..engine.trainer import TaskAdapter, Trainer, load_weights
from ..lifecycle import RunState

__all__ = ["ExportExample", "RunState", "Task", "TaskAdapter", "Trainer", "TrainerTask", "load_weights", "resolve_device"]
