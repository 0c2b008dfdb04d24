"""actioncore: a small video-understanding kernel whose models, data sets and tasks are plugins.

The public names load lazily, so that ``import actioncore`` (and ``actioncore --help``) stays
fast and does not import torch.
"""
from __future__ import annotations

from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("actioncore")
"""Marker for hook implementations in plugin modules: ``@actioncore.hookimpl``."""

_API = {
    "load_config": "actioncore.api",
    "build": "actioncore.api",
    "build_model": "actioncore.api",
    "components": "actioncore.api",
    "plugins": "actioncore.api",
    "run": "actioncore.api",
    "evaluate": "actioncore.api",
    "infer": "actioncore.api",
    "load_pretrained": "actioncore.api",
    "Experiment": "actioncore.config.experiment",
}

__all__ = ["hookimpl", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'actioncore' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
