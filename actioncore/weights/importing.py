"""A user's own checkpoint as a zoo entry (``actioncore weights import``), and the conversion to
our checkpoint layout (:mod:`actioncore.weights.convert`).

The file (ours, or MMAction2's: told apart by its keys unless ``source_format`` says) is converted
for the model the experiment builds, must load into it strictly, and is saved as one of our
checkpoints at the entry's ``converted`` cache path; the entry goes into the user catalog with the
``file://`` URL and sha256 of the imported file and the experiment's absolute path.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


from ..errors import CheckpointError, ConfigError
from ..config import load_config
from .cache import converted_file, file_lock
from .convert import bare_model, save_converted
from .download import file_sha256
from .files import load_into, load_weights_file, weights_in
from .imported import imported_weights, record_import
from .sources import convert_source
from .zoo import SOURCE_FORMATS, TASKS, ImportedWeightsEntry

_MMACTION2_KEYS = ("cls_head.", "data_preprocessor.", "module.cls_head.")


def detect_format(raw: Any, path: str | os.PathLike) -> str:
    """The layout of a file :func:`~actioncore.weights.files.load_weights_file` read: ours (one of
    our checkpoints, or a bare state dict in our names) or MMAction2's (an mmengine/mmcv checkpoint
    with ``state_dict``, or bare keys such as ``cls_head.``); 0.x when its ``meta`` says mmcv."""
    if not isinstance(raw, Mapping):
        raise CheckpointError(f"{path}: not a checkpoint: found a {type(raw).__name__}, not a mapping of tensors")
    from ..engine.checkpoint import FORMAT

    if raw.get("format") == FORMAT:
        return "actioncore"
    weights = weights_in(raw, path)
    if "state_dict" in raw or any(k.startswith(_MMACTION2_KEYS) for k in weights):
        meta = raw.get("meta")
        old = isinstance(meta, Mapping) and "mmcv_version" in meta and "mmengine_version" not in meta
        return "mmaction2-0.x" if old else "mmaction2-1.x"
    return "actioncore"


def import_checkpoint(source: str | os.PathLike, *, name: str, experiment: str | os.PathLike,
                      overrides: Sequence[str] = (), classes: str = "", dataset: str = "",
                      source_format: str = "auto", replace: bool = False) -> ImportedWeightsEntry:
    """Make ``source`` the zoo entry ``name``: converted, checked to fit, cached, catalogued.

    :param source_format: ``auto`` (by the file's keys) or one of
        :data:`~actioncore.weights.zoo.SOURCE_FORMATS`.
    :raises ConfigError: a name a plugin registers (or imported already, without ``replace``), an
        unknown class list or one whose size differs from the model's head, an unknown format.
    :raises CheckpointError: a file that is no checkpoint or does not fit the experiment's model.
    """
    from ..classes import class_names
    from ..plugin.host import current_host

    registry = current_host().registry
    if ("weights", name) in registry:
        raise ConfigError(f"weights '{name}' are {registry.get('weights', name).distribution}'s: "
                          "choose another --name for your checkpoint")
    if name in imported_weights() and not replace:
        raise ConfigError(f"weights '{name}' were imported already: pass --replace, or choose another --name")
    if source_format != "auto" and source_format not in SOURCE_FORMATS:
        raise ConfigError(f"--format must be auto or one of {', '.join(SOURCE_FORMATS)}, got '{source_format}'")
    source, experiment = Path(source).resolve(), Path(experiment).resolve()
    raw = load_weights_file(source)
    fmt = detect_format(raw, source) if source_format == "auto" else source_format
    resolved = load_config(experiment, list(overrides))
    model = bare_model(resolved, where=str(experiment))
    state = convert_source(model, weights_in(raw, source), source_format=fmt)
    load_into(model, state, source)
    task = resolved.task.type if resolved.task is not None else ""
    head = resolved.model.params.get("head")
    num_classes = getattr(head, "params", {}).get("num_classes", getattr(getattr(model, "head", None), "num_classes", None))
    if classes:
        expected = len(class_names(classes)) + (1 if task == "detection" else 0)  # AVA heads: + background
        if num_classes is not None and expected != num_classes:
            raise ConfigError(f"--classes {classes}: {expected} classes, but the model's head has {num_classes}")
    backbone = getattr(resolved.model.params.get("backbone"), "type", None)
    entry = ImportedWeightsEntry(
        name=name, architecture=backbone or resolved.model.type, task=task if task in TASKS else "recognition",
        dataset=dataset or classes or "custom", url=source.as_uri(), sha256=file_sha256(source),
        file_size=source.stat().st_size, source_format=fmt, experiment=str(experiment), overrides=tuple(overrides),
        classes=classes, num_classes=num_classes if isinstance(num_classes, int) else None,
        num_params=sum(p.numel() for p in model.parameters()), license="the user's own")
    target = converted_file(entry)
    with file_lock(target):
        save_converted(target, model=model, experiment=resolved, source=source)
    record_import(entry, replace=replace)
    return entry


__all__ = ["detect_format", "import_checkpoint"]
