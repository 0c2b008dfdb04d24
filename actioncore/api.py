"""The Python API: what ``import actioncore`` offers besides ``hookimpl``."""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config.build import instantiate
from .config import load_config as _load_config
from .config.structure import ComponentSpec, component_spec
from .config.experiment import Experiment
from .errors import CheckpointError, ConfigError, PluginError
from .plugin.host import current_host
from .plugin.registry import Component
from .runlog import run_log
from .types import Model, component_marker

__all__ = ["build", "build_model", "components", "evaluate", "infer", "load_config", "load_pretrained", "plugins",
           "run"]


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

    Modules that name a ``pretrained`` file (or zoo name) get its weights once the whole model is
    built (:func:`actioncore.weights.pretrained.load_pretrained_files`); then ``init`` (a checkpoint or
    zoo name) loads the whole model, its head left at initialisation for another class count
    (:func:`actioncore.weights.init.init_model`). A file that is missing or does not fit raises
    :class:`~actioncore.errors.CheckpointError` naming it.
    """
    host = current_host()
    if isinstance(model_config, Experiment):
        if model_config.model is None:
            raise ConfigError("the experiment has no [model] section")
        model_config = model_config.model
    spec = model_config if isinstance(model_config, ComponentSpec) else component_spec(
        host.registry, dict(model_config), "model", "model", extra=dict(component_marker(Model).extra))
    model = _with_pretrained(instantiate(spec, host.registry, "model"))
    if spec.extra.get("init"):
        from .weights.init import init_model

        init_model(model, spec.extra["init"])
    return model


def _with_pretrained(built: Any) -> Any:
    """``built`` with the pretrained weights of its modules loaded, if it is a torch module."""
    import sys

    if "torch" not in sys.modules:  # nothing torch-made was built
        return built
    from torch import nn

    from .weights.pretrained import load_pretrained_files

    return load_pretrained_files(built) if isinstance(built, nn.Module) else built


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


def _adapter_with_weights(experiment: Experiment, checkpoint: str | Path, *, step: str, no_model: str,
                          missing: str, error: type[Exception] = PluginError) -> tuple[Any, Any]:
    """The task adapter of ``experiment`` and its model holding ``checkpoint``'s weights, in eval
    mode, for a command that asks the adapter for ``step`` (``export_example``, ``demo``, ...).

    :raises ConfigError: ``no_model`` when the experiment has no ``[model]``.
    :raises error: ``task 'T' (from DIST) <missing>`` when the task's adapter has no ``step``.
    """
    from .engine.trainer import load_weights

    if experiment.model is None:
        raise ConfigError(no_model)
    adapter = _task(experiment, "adapter").adapter(experiment)
    if not callable(getattr(adapter, step, None)):
        owner = current_host().registry.get("task", experiment.task.type).distribution
        raise error(f"task '{experiment.task.type}' (from {owner}) {missing}")
    model = adapter.build_model(experiment)
    load_weights(model, checkpoint)
    return adapter, model.eval()


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


def evaluate(experiment: Experiment | str | Path, checkpoint: str | Path | None = None, *,
             split: str = "test", out: str | Path | None = None, weights: str | None = None) -> dict[str, float]:
    """Evaluate a checkpoint, or the zoo weights called ``weights``, on a split; returns a flat
    ``{metric: number}`` map.

    ``out`` also writes the per-sample predictions there as JSON.
    """
    experiment = _experiment(experiment)
    task = _task(experiment, "evaluate")
    options = {} if out is None else {"out": out}
    with _named(weights):
        return task.evaluate(experiment, _checkpoint(checkpoint, weights), split=split, **options)


def infer(experiment: Experiment | str | Path | None, checkpoint: str | Path | None,
          inputs: Sequence[str | Path], *, topk: int = 5, weights: str | None = None,
          clips: int | None = None) -> list[dict[str, Any]]:
    """Predict for video files or frame folders; one ``{input, predictions}`` dict per input.

    With ``weights`` (a zoo name) instead of ``checkpoint``, the experiment may be None (the
    entry's own is used) and predictions are named from the entry's class list. The task runs
    the model on ``runtime.device``. ``clips`` overrides the test pipeline's ``num_clips``: that
    many clips are scored per video and averaged (default: the pipeline's own).
    """
    entry = None
    if weights is not None:
        from .weights.catalog import find_weights
        from .weights.resolve import entry_experiment

        entry, _ = find_weights(weights)
        experiment = entry_experiment(entry) if experiment is None else experiment
    if experiment is None:
        raise ConfigError("infer needs an experiment, or zoo weights that name one")
    experiment = _experiment(experiment)
    if clips is not None:
        from .config.views import inference_split_name, with_num_clips

        experiment = with_num_clips(experiment, clips, split=inference_split_name(experiment))
    task = _task(experiment, "infer")
    with _named(weights):
        results = task.infer(experiment, _checkpoint(checkpoint, weights), list(inputs), topk=topk)
    if entry is not None and entry.classes:
        from .classes import class_names

        _name_predictions(results, class_names(entry.classes))
    return results


def load_pretrained(name: str, *, progress: bool = True) -> Any:
    """The zoo weights called ``name`` as a ready model: ``.model`` (eval mode), ``.transforms``
    (a video path to the model's input), ``.classes``, ``.entry`` (see
    :class:`actioncore.weights.named.Pretrained`). Fetched and converted on first use."""
    from .weights.named import load_named

    return load_named(name, progress=progress)


def _checkpoint(checkpoint: str | Path | None, weights: str | None) -> str | Path:
    """The checkpoint to load: the file given, or the converted file of the zoo name."""
    if (checkpoint is None) == (weights is None):
        raise ConfigError("give a checkpoint file or a weights name (one of them)")
    if weights is None:
        return checkpoint
    from .weights.resolve import named_weights

    return named_weights(weights)


@contextlib.contextmanager
def _named(weights: str | None) -> Iterator[None]:
    """Errors of a checkpoint that came from a zoo name say so (the converted file's path alone
    would not tell a user which of their arguments does not fit)."""
    try:
        yield
    except CheckpointError as exc:
        if weights is None:
            raise
        raise CheckpointError(f"weights '{weights}': {exc}") from None


def _name_predictions(results: list[dict[str, Any]], names: list[str]) -> None:
    """Name each prediction's integer label from ``names`` (a zoo entry's class list)."""
    for result in results:
        for prediction in result.get("predictions", []):
            label = prediction.get("label") if isinstance(prediction, dict) else None
            if isinstance(label, int) and 0 <= label < len(names):
                prediction["name"] = names[label]
