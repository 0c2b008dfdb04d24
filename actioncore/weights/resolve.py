"""From a zoo name to weights a model can load: fetched, converted on first use, cached.

A zoo entry's source file (MMAction2's, torchvision's, ours) is fetched into the cache
(:func:`~actioncore.weights.download.fetch`) and converted once, for the model of the example
experiment the entry names, into one of our checkpoints at
:func:`~actioncore.weights.cache.converted_file`; every later use (``--weights NAME``,
``pretrained = "NAME"``, ``[model] init = "NAME"``, :func:`actioncore.load_pretrained`) reads
that file. The conversion runs under the cache's file lock and the checkpoint is written
atomically, so two processes (the ranks of one run) convert once and never see half a file.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from ..classes import class_list_file
from ..config import Experiment, load_config
from ..errors import ConfigError
from ..plugin.host import current_host
from ..runlog import LOGGER_NAME
from .cache import converted_file, file_lock
from .catalog import KIND, find_weights
from .convert import convert_checkpoint
from .download import fetch
from .zoo import WeightsEntry, experiment_file

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt", ".bin", ".pkl", ".tar")
"""A ``pretrained`` or ``init`` value ending like this is a file, never a zoo name."""


def entry_experiment(entry: WeightsEntry, *, overrides: Sequence[str] = ()) -> Experiment:
    """The example experiment ``entry`` fits, with its overrides (then ``overrides``): the model
    its weights load into, the test pipeline its inputs go through.

    :raises ConfigError: for an entry that names no experiment, quoting why (its ``fits``).
    """
    if not entry.experiment:
        raise ConfigError(f"weights '{entry.name}' name no experiment that builds their model, so they cannot be "
                          f"used by name: {entry.fits}")
    with resources.as_file(experiment_file(entry)) as path:
        experiment = load_config(path, [*entry.overrides, *overrides])
        if entry.classes and experiment.task is not None and "classes" in experiment.task.params:
            # the example's class file lies in a data folder the user may not have; the entry's
            # class list ships with the package and is the one the weights were trained on
            names = class_list_file(entry.classes)
            experiment = load_config(path, [*entry.overrides, f"task.classes={json.dumps(str(names))}", *overrides])
        return experiment


def converted_weights(entry: WeightsEntry, *, progress: bool = True) -> Path:
    """Our checkpoint of ``entry``'s weights, fetched and converted on first use.

    :raises CheckpointError: offline with nothing cached (naming the URL and where to put the
        file), a failed download, or a source file that does not fit the entry's experiment.
    """
    target = converted_file(entry)
    if target.is_file():
        return target
    experiment = entry_experiment(entry)
    source = fetch(entry, progress=progress)
    with file_lock(target):
        if not target.is_file():  # another process may have converted it while we waited
            convert_checkpoint(experiment, source, target, source_format=entry.source_format,
                               where=f"weights '{entry.name}' ({experiment_file(entry)})")
            logging.getLogger(LOGGER_NAME).info("converted weights '%s' (%s) to %s", entry.name, source, target)
    return target


def named_weights(name: str, *, progress: bool = True) -> Path:
    """:func:`converted_weights` of the entry called ``name``; an unknown name is a ConfigError
    listing close matches."""
    entry, _ = find_weights(name)
    return converted_weights(entry, progress=progress)


def weights_path(value: str | os.PathLike[str], *, key: str) -> Path:
    """A weights file given as a path or a zoo name (``pretrained``, ``init``): an existing file is
    itself, a registered name its converted checkpoint, anything else that looks like a file
    (a folder in it, a checkpoint suffix) the path, left for the reader to report as missing.

    :raises ConfigError: for a value that is neither a file nor a known name, with close
        matches, naming ``key``.
    """
    text = os.fspath(value)
    path = Path(text).expanduser()
    if path.exists():
        return path
    named = (KIND, text) in current_host().registry
    if not named and ("/" in text or os.sep in text or path.suffix.lower() in CHECKPOINT_SUFFIXES):
        return path
    try:
        entry, _ = find_weights(text)
    except ConfigError as exc:
        raise ConfigError(f"{key} = '{text}': no such file, and {exc}") from None
    return converted_weights(entry)


__all__ = ["CHECKPOINT_SUFFIXES", "converted_weights", "entry_experiment", "named_weights", "weights_path"]
