"""The hooks a plugin may implement.

A plugin is a module (named by an entry point in the ``actioncore`` group) holding functions
marked with :data:`actioncore.hookimpl` whose names match the specifications below.

Registration hooks (``actioncore_backbones`` ... ``actioncore_converters``, ``actioncore_synth``,
``actioncore_weights``) each return a mapping ``name -> factory`` (``name -> WeightsEntry`` for weights). A factory is a class or function whose keyword parameters, with their type
annotations and defaults, are the component's config schema. The kernel calls every
implementation of a registration hook on its own, so that each name is attributed to the
distribution that registered it and a hook that raises takes down only its own plugin.

Lifecycle hooks are called by task loops (the recognition loop, the skeleton loop, ...) through
:class:`actioncore.lifecycle.Lifecycle`, so that loggers, callbacks and profilers are plugins too.
They return nothing; an exception in one propagates and stops the run, because a callback that
silently fails (a logger that stops writing, an early-stopping rule that is skipped) loses work.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from .lifecycle import RunState

hookspec = pluggy.HookspecMarker("actioncore")

Factory = Callable[..., Any]
"""A class or function building a component from typed keyword arguments."""

# --------------------------------------------------------------------------------------------
# Registration hooks: what a plugin provides. Called once per plugin when the kernel first
# needs the registry (``actioncore components``, building a config, ``actioncore.build``).
# --------------------------------------------------------------------------------------------


@hookspec
def actioncore_backbones() -> Mapping[str, Factory]:
    """Register backbones: networks from a clip tensor to a feature map.

    Who implements this: model plugins (``actioncore-tsn``, ``actioncore-slowfast``, ...).

    :returns: ``{name: factory}``; each factory returns an ``nn.Module``. A name is used as
        ``[model.backbone] type = "name"`` and must be unique across installed distributions.
    """


@hookspec
def actioncore_heads() -> Mapping[str, Factory]:
    """Register heads: modules from backbone (or neck) features to task outputs.

    Who implements this: head plugins (``actioncore-cls-heads``: the classification heads several
    backbones share) and model plugins, for heads that fit only their own backbone.

    :returns: ``{name: factory}``; used as ``[model.head] type = "name"``.
    """


@hookspec
def actioncore_necks() -> Mapping[str, Factory]:
    """Register necks: optional modules between backbone and head (TPN, temporal pooling).

    Who implements this: model plugins.

    :returns: ``{name: factory}``; used as ``[model.neck] type = "name"``.
    """


@hookspec
def actioncore_models() -> Mapping[str, Factory]:
    """Register model compositions: the module that wires backbone, neck and head together.

    Who implements this: task plugins (``recognizer2d``, ``recognizer3d``) and models that are
    one piece (BMN). The kernel registers ``sequential`` (head of neck of backbone), used when
    ``[model]`` names no ``type``.

    :returns: ``{name: factory}``; used as ``[model] type = "name"``. A factory's parameters
        annotated with :data:`actioncore.types.Backbone` (``Neck``, ``Head``) receive the built
        sub-components of ``[model.backbone]`` (``[model.neck]``, ``[model.head]``).
    """


@hookspec
def actioncore_datasets() -> Mapping[str, Factory]:
    """Register datasets: annotation formats that yield samples for a pipeline.

    Who implements this: dataset plugins (``actioncore-lists``) and task plugins with
    their own formats (AVA, ActivityNet, pose pickles).

    :returns: ``{name: factory}``; used as ``[data.train] type = "name"``. The factory takes
        ``ann_file``, ``root`` and ``pipeline`` keywords besides its own.
    """


@hookspec
def actioncore_transforms() -> Mapping[str, Factory]:
    """Register pipeline steps: samplers, ``decode``, crops, flips, formatting.

    Who implements this: the kernel (its built-in steps) and any plugin with its own steps.

    :returns: ``{name: factory}``; used as ``{type = "name", ...}`` items of a ``pipeline``.
    """


@hookspec
def actioncore_decoders() -> Mapping[str, Factory]:
    """Register video decoders: objects that open a file and read frames by index.

    Who implements this: the kernel (``pyav``, ``frame_folder``) and decoder plugins
    (torchcodec, decord).

    :returns: ``{name: factory}``; chosen once per experiment as ``data.decoder = "name"``.
    """


@hookspec
def actioncore_tasks() -> Mapping[str, Factory]:
    """Register tasks: training, evaluation and inference loops for one problem family.

    Who implements this: task plugins (``recognition``, ``skeleton``, ``localization``,
    ``detection``).

    :returns: ``{name: factory}``; used as ``[task] type = "name"``. The built object runs
        the experiment (see the :class:`actioncore.sdk.Task` protocol).
    """


@hookspec
def actioncore_metrics() -> Mapping[str, Factory]:
    """Register metrics: functions of predictions and targets to named numbers.

    Who implements this: task plugins and metric plugins.

    :returns: ``{name: factory}``; used in a task's ``metrics`` list.
    """


@hookspec
def actioncore_converters() -> Mapping[str, Factory]:
    """Register data converters: one-time imports of other toolboxes' annotation files.

    Who implements this: dataset and task plugins whose formats MMAction2 ships as pickles
    (pose annotation lists, AVA person proposals) or in other unsafe or slow layouts.

    :returns: ``{name: factory}``; run as ``actioncore data convert NAME IN OUT``. The factory
        is called as ``factory(source: Path, target: Path, *, trust_pickle: bool)`` and returns
        a JSON-able report of what it wrote. It loads a pickle only through
        :func:`actioncore.data.pickles.load_trusted_pickle`, which refuses unless
        ``trust_pickle`` is true, and raises :class:`~actioncore.errors.DataError` on bad input.
    """


@hookspec
def actioncore_synth() -> Mapping[str, Factory]:
    """Register embedded data sets: generators of small synthetic data in a plugin's own format.

    Who implements this: the kernel (``recognition``, ``rawframes``: its quickstart data) and
    plugins whose data formats need data of their own to train on (``skeleton`` pose stores in
    ``actioncore-pose``, ``localization`` feature sequences, ``detection`` AVA keyframes).

    :returns: ``{name: factory}``; run as ``actioncore data synth NAME --out DIR [--seed S]``
        (listed by ``actioncore data synth --list``) and as
        :func:`actioncore.sdk.data.synthesize`. The factory is called as
        ``factory(out: Path, *, seed: int = 0, **options)`` and returns an
        :class:`actioncore.sdk.data.SynthReport`. Its options are typed keyword-only parameters
        with defaults (``size: str = "default"`` is the one the command line passes, as
        ``--size``). The output must be a pure function of seed and options; the folder is
        claimed with :func:`actioncore.sdk.data.prepare_out` and its README starts with
        :data:`actioncore.sdk.data.SYNTH_MARKER`. Bad options raise
        :class:`~actioncore.errors.DataError`.

    When it runs: like every registration hook, once when the registry is first needed; a
    generator itself runs only when its data set is asked for.
    """


@hookspec
def actioncore_weights() -> Mapping[str, Any]:
    """Register known pretrained checkpoints (the model zoo): data, not code.

    Who implements this: model plugins, for the checkpoints of other toolboxes (MMAction2's model
    index, torchvision's weights enums) and of ours that their architectures reproduce.

    :returns: ``{name: entry}`` where each value is an :class:`actioncore.sdk.weights.WeightsEntry`
        whose ``name`` is its key: the URL and hash of the file, its source format, the example
        experiment it fits, its class list, preprocessing, reported metrics and license. A plugin
        keeps them in a data file of its package and returns
        :func:`actioncore.sdk.weights.weights_from_package` ``(__package__)``; it never touches
        the network here. Listed by ``actioncore weights list`` and ``actioncore components
        weights``; a value that is not an entry, or a key that is not the entry's name, fails the
        plugin's registration naming it.

    When it runs: like every registration hook, once when the registry is first needed; files
    are downloaded only when a name is used.
    """


# --------------------------------------------------------------------------------------------
# Lifecycle hooks: called by task loops, in rank 0 and every other rank alike; an
# implementation that writes files should check ``run.is_main_process``.
# --------------------------------------------------------------------------------------------


@hookspec
def actioncore_run_start(run: RunState) -> None:
    """Called once after the model, data and optimizer are built, before the first iteration.

    Who implements this: loggers (open files, write the header), callbacks that inspect the
    model.

    :param run: the live run state; ``run.experiment`` is the resolved experiment.
    """


@hookspec
def actioncore_after_iteration(run: RunState, outputs: Mapping[str, float]) -> None:
    """Called after every training iteration (after the optimizer step).

    Who implements this: loggers and profilers. Keep it cheap: it runs on the hot path.

    :param run: the run state; ``run.iteration`` counts iterations done so far.
    :param outputs: scalar values of this iteration (``loss``, ``lr``, ``data_time``, ...).
    """


@hookspec
def actioncore_after_epoch(run: RunState) -> None:
    """Called after each training epoch, before any evaluation scheduled for it.

    Who implements this: loggers, early-stopping rules, schedulers outside the optimizer.

    Any lifecycle hook may end training early with ``run.request_stop("why")``: the loop finishes
    the current epoch (its evaluation and a checkpoint), skips the remaining epochs, evaluates the
    test split and ends the run as ``"finished"`` (``run.stop_reason`` says why; a ``--resume``
    of that checkpoint does not train further). Only the main process's request counts.

    :param run: the run state; ``run.epoch`` counts epochs done so far.
    """


@hookspec
def actioncore_after_evaluation(run: RunState, split: str, metrics: Mapping[str, float]) -> None:
    """Called after an evaluation pass over a split, on every rank, with the gathered metrics.

    Who implements this: loggers, best-checkpoint rules, early stopping (``run.request_stop``,
    see :func:`actioncore_after_epoch`).

    :param run: the run state; ``run.epoch`` is the epoch just evaluated (0 for ``actioncore test``).
    :param split: ``"val"`` or ``"test"``.
    :param metrics: flat ``{name: number}`` computed over the whole split exactly once.
    """


@hookspec
def actioncore_checkpoint_saved(run: RunState, path: str, tags: tuple[str, ...]) -> None:
    """Called on the main process after a checkpoint file has been written and renamed in place.

    Who implements this: uploaders, loggers.

    :param run: the run state at the time of saving.
    :param path: the final path of the checkpoint.
    :param tags: what it is, e.g. ``("epoch_3", "latest")`` or ``("best",)``.
    """


@hookspec
def actioncore_run_end(run: RunState, status: str, error: BaseException | None) -> None:
    """Called once when a run ends, whether it finished, failed or was interrupted.

    Who implements this: loggers (flush and close), notifiers.

    :param run: the run state as it was when the run ended.
    :param status: ``"finished"``, ``"failed"`` or ``"interrupted"``.
    :param error: the exception that ended the run, or None.
    """


REGISTRATION_HOOKS: dict[str, str] = {
    "backbone": "actioncore_backbones",
    "head": "actioncore_heads",
    "neck": "actioncore_necks",
    "model": "actioncore_models",
    "dataset": "actioncore_datasets",
    "transform": "actioncore_transforms",
    "decoder": "actioncore_decoders",
    "task": "actioncore_tasks",
    "metric": "actioncore_metrics",
    "converter": "actioncore_converters",
    "synth": "actioncore_synth",
    "weights": "actioncore_weights",
}
"""Component kind -> the registration hook that provides it."""

KINDS: tuple[str, ...] = tuple(REGISTRATION_HOOKS)
