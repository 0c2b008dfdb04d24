"""The Python API: what ``import actioncore`` offers besides ``hookimpl``."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config.build import instantiate
from .config import load_config as _load_config
from .config.structure import ComponentSpec, component_spec
from .config.experiment import Experiment
from .errors import ConfigError, PluginError
from .plugin.host import current_host
from .plugin.registry import Component
from .runlog import run_log

__all__ = ["build", "build_model", "components", "evaluate", "infer", "load_config", "plugins", "run"]


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> Experiment:
    """Read an experiment file with its includes and ``"a.b.c=value"`` overrides."""
    return _load_config(path, overrides)


def build(kind: str, type: str, /, **params: Any) -> Any:
    """Build a registered component from keyword parameters, checked like a TOML table.

    ``build("backbone", "resnet", depth=18)``; nested components may be tables or built objects.
    A model part comes with its ``pretrained`` weights loaded, as from :func:`build_model`.
    """
    host = current_host()
    spec = component_spec(host.registry, {"type": type, **params}, kind, kind)
    return _with_pretrained(instantiate(spec, host.registry, kind))


def build_model(model_config: Experiment | ComponentSpec | Mapping[str, Any]) -> Any:
    """Build the model of an experiment, a model spec, or a ``[model]`` table given as a dict.

    Modules that name a ``pretrained`` file get its weights once the whole model is built
    (:func:`actioncore.weights.pretrained.load_pretrained`); a file that is missing or does not fit
    raises :class:`~actioncore.errors.CheckpointError` naming it.
    """
    host = current_host()
    if isinstance(model_config, Experiment):
        if model_config.model is None:
            raise ConfigError("the experiment has no [model] section")
        model_config = model_config.model
    spec = model_config if isinstance(model_config, ComponentSpec) else component_spec(
        host.registry, dict(model_config), "model", "model")
    return _with_pretrained(instantiate(spec, host.registry, "model"))


def _with_pretrained(built: Any) -> Any:
    """``built`` with the pretrained weights of its modules loaded, if it is a torch module."""
    import sys

    if "torch" not in sys.modules:  # nothing torch-made was built
        return built
    from torch import nn

    from .weights.pretrained import load_pretrained

    return load_pretrained(built) if isinstance(built, nn.Module) else built


def components(kind: str | None = None) -> list[Component]:
    """Registered components (of one kind, or all), each with the distribution that provides it."""
    return current_host().registry.items(kind)


def plugins() -> dict[str, Any]:
    """Loaded plugins with what they register, plus failures: what ``actioncore plugins`` shows."""
    return current_host().describe()


def _experiment(experiment: Experiment | str | Path) -> Experiment:
    return experiment if isinstance(experiment, Experiment) else load_config(experiment)


def _task(experiment: Experiment, method: str) -> Any:
    host = current_host()
    if experiment.task is None:
        raise ConfigError(f"the experiment has no [task] table: name the task plugin that should {method} it "
                          f"(available tasks: {', '.join(host.registry.names('task')) or 'none installed'})")
    task = instantiate(experiment.task, host.registry, "task")
    if not callable(getattr(task, method, None)):
        owner = host.registry.get("task", experiment.task.type).distribution
        raise PluginError(f"task '{experiment.task.type}' (from {owner}) has no '{method}' step "
                          "for this experiment")
    return task


def run(experiment: Experiment | str | Path, *, resume: bool = False,
        allow_changes: bool = False) -> dict[str, float]:
    """Train the experiment with its task plugin; returns the final metrics.

    ``resume`` continues from the work dir's latest checkpoint, which must have been trained with
    the same experiment unless ``allow_changes`` (then the changed keys are logged and take effect).
    """
    experiment = _experiment(experiment)
    task = _task(experiment, "run")
    with run_log(Path(experiment.runtime.work_dir), current_host()):
        if not allow_changes:
            return task.run(experiment, resume=resume)
        try:
            return task.run(experiment, resume=resume, allow_changes=True)
        except TypeError as exc:
            if "allow_changes" not in str(exc):
                raise
            raise PluginError(f"task '{experiment.task.type}' cannot resume under a changed experiment "
                              "(its run() takes no allow_changes)") from None


def evaluate(experiment: Experiment | str | Path, checkpoint: str | Path, *,
             split: str = "test", out: str | Path | None = None) -> dict[str, float]:
    """Evaluate a checkpoint on a split; returns a flat ``{metric: number}`` map.

    ``out`` also writes the per-sample predictions there as JSON.
    """
    experiment = _experiment(experiment)
    task = _task(experiment, "evaluate")
    if out is None:
        return task.evaluate(experiment, checkpoint, split=split)
    return task.evaluate(experiment, checkpoint, split=split, out=out)


def infer(experiment: Experiment | str | Path, checkpoint: str | Path,
          inputs: Sequence[str | Path], *, topk: int = 5) -> list[dict[str, Any]]:
    """Predict for video files or frame folders; one ``{input, predictions}`` dict per input."""
    experiment = _experiment(experiment)
    return _task(experiment, "infer").infer(experiment, checkpoint, list(inputs), topk=topk)
