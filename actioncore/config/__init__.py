"""Experiment configuration: TOML files read into typed attrs objects and written back."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import tomli_w

from ..errors import ConfigError
from ..plugin.host import PluginHost, current_host
from ..plugin.registry import ComponentRegistry
from ..plugin.requirements import check_requirements
from .structure import ComponentSpec, format_path, iter_errors, make_converter
from .experiment import Experiment
from .loading import Origins, apply_override, origin_of, read_experiment

__all__ = ["ComponentSpec", "Experiment", "dump_experiment", "experiment_to_dict", "load_config",
           "structure_experiment"]


def load_config(path: str | Path, overrides: Iterable[str] = (), *,
                host: PluginHost | None = None) -> Experiment:
    """Read an experiment file, its includes and ``a.b.c=value`` overrides into an :class:`Experiment`.

    Raises :class:`~actioncore.errors.ConfigError` naming the file and key path of every
    mistake, and :class:`~actioncore.errors.PluginError` when a required plugin is missing.
    """
    host = host or current_host()
    table, origins = read_experiment(path)
    for override in overrides:
        apply_override(table, origins, override)
    require = table.get("plugins", {}).get("require", []) if isinstance(table.get("plugins"), dict) else []
    if isinstance(require, list) and all(isinstance(r, str) for r in require):
        check_requirements(require, host, str(path))
    experiment = structure_experiment(table, host.registry, origins, source=str(path))
    if not experiment.runtime.work_dir:
        experiment.runtime.work_dir = f"work_dirs/{Path(path).stem}"
    return experiment


def structure_experiment(table: dict[str, Any], registry: ComponentRegistry,
                         origins: Origins | None = None, source: str = "<experiment>") -> Experiment:
    """Structure a plain (TOML-shaped) table into an :class:`Experiment`, or raise ConfigError."""
    try:
        return make_converter(registry).structure(table, Experiment)
    except Exception as exc:
        problems = list(iter_errors(exc))
        lines = []
        for path, message in problems:
            where = origin_of(origins, path) if origins else ""
            key = format_path(path) or "(top level)"
            lines.append(f"{where or source}: {key}: {message}")
        if len(lines) == 1:
            raise ConfigError(lines[0]) from None
        raise ConfigError(f"{len(lines)} problems in {source}:\n" + "\n".join(f"  {l}" for l in lines)) from None


def drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [drop_none(v) for v in value]
    return value


def experiment_to_dict(experiment: Experiment, registry: ComponentRegistry | None = None) -> dict[str, Any]:
    """The experiment as plain TOML-shaped data (None values left out: TOML has no null)."""
    conv = make_converter(registry or current_host().registry)
    return drop_none(conv.unstructure(experiment))


def dump_experiment(experiment: Experiment, registry: ComponentRegistry | None = None) -> str:
    """The experiment as TOML text that :func:`load_config` reads back to an equal object."""
    return tomli_w.dumps(experiment_to_dict(experiment, registry))
