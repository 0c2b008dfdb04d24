"""The plugin API: everything a plugin may import from the kernel.

A plugin imports ``actioncore`` (for :data:`actioncore.hookimpl` and the user API of SPEC §4),
this package and, in its tests, :mod:`actioncore.testing`. Every other module of the kernel is
internal and may change between releases; CI checks that no plugin imports one
(``tests/test_layering.py``, with import-linter). The names are grouped by job:

==========================  ===============================================================
``actioncore.sdk``          hook marker, errors, component markers, build helpers, the
                            :class:`Task` protocol, :class:`RunState`, the run logger
``actioncore.sdk.data``     the sample, dataset and pipeline types a dataset or step uses;
                            the helpers of embedded data set generators (``SynthReport``, ...)
``actioncore.sdk.layers``   shared model layers: convolutions, ``ConvModule``, norm configs,
                            initialisers, non-local blocks, the frozen-stages/norm-eval mixin
``actioncore.sdk.weights``  reading checkpoints, renaming other toolboxes' weights, and
                            ``pretrained`` files (``PretrainedMixin``, loaded by ``build_model``)
``actioncore.sdk.engine``   the kernel's training loop for task plugins (``TrainerTask``)
``actioncore.sdk.vis``      drawing (Pillow), video in/out (PyAV) and sliding windows for a
                            task's ``demo``; ``ExplainExample`` for Grad-CAM (``explain``)
``actioncore.testing``      the pytest plugin and contract checks for a plugin's tests
==========================  ===============================================================

Names here load lazily, so that a plugin's hook module can import this package without
importing torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .. import hookimpl

_NAMES = {
    # hooks and errors
    "Factory": "actioncore.hookspecs",
    "ActionCoreError": "actioncore.errors",
    "ConfigError": "actioncore.errors",
    "PluginError": "actioncore.errors",
    "DataError": "actioncore.errors",
    "CheckpointError": "actioncore.errors",
    "TrainingError": "actioncore.errors",
    "ExportError": "actioncore.errors",
    # markers of factory parameters that take another component
    "Backbone": "actioncore.types",
    "Neck": "actioncore.types",
    "Head": "actioncore.types",
    "Model": "actioncore.types",
    "Dataset": "actioncore.types",
    "Transform": "actioncore.types",
    "Decoder": "actioncore.types",
    "Metric": "actioncore.types",
    "Converter": "actioncore.types",
    # experiments, building, running
    "Experiment": "actioncore.config.experiment",
    "build": "actioncore.api",
    "build_model": "actioncore.api",
    "build_spec": "actioncore.sdk._build",
    "Sequential": "actioncore.builtin.models",
    "component_spec": "actioncore.sdk._build",
    "Task": "actioncore.engine.task",
    "RunState": "actioncore.lifecycle",
    "get_logger": "actioncore.sdk._build",
}

__all__ = ["hookimpl", *_NAMES]

if TYPE_CHECKING:
    from ..api import build, build_model
    from ..builtin.models import Sequential
    from ..config.experiment import Experiment
    from ..engine.task import Task
    from ..errors import (ActionCoreError, CheckpointError, ConfigError, DataError, ExportError, PluginError,
                          TrainingError)
    from ..hookspecs import Factory
    from ..lifecycle import RunState
    from ..types import Backbone, Converter, Dataset, Decoder, Head, Metric, Model, Neck, Transform
    from ._build import build_spec, component_spec, get_logger


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'actioncore.sdk' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
