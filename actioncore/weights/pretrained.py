"""Pretrained weights, loaded once a model is built: building a module reads no file.

A module whose constructor takes a weights file (the ``pretrained`` key of an experiment's
backbone table, with ``pretrained2d`` and the like where a model has them) only records it.
:func:`load_pretrained_files` loads it afterwards; :func:`actioncore.build_model` and
:func:`actioncore.build` run it on what they build, so every task, ``infer`` and ``bench`` get
models with their weights, while constructing a module class directly (in tests) does no I/O.

A model plugin opts a module class in by deriving from :class:`PretrainedMixin` (instead of
``nn.Module``): its constructor sets ``self.pretrained`` (the path, or None), and it overrides
:meth:`~PretrainedMixin.filter_pretrained` where the file is not already its own state dict,
as timm's ``checkpoint_filter_fn``: renaming another toolbox's keys, inflating 2D kernels, leaving
some tensors at their initialisation. The mappings live with the models they belong to.

:func:`load_pretrained_files` walks the model's modules, inner ones first (so that a whole SlowFast
checkpoint given to the backbone overrides the 2D ImageNet weights its pathways inflate), reads
each file once (:func:`~actioncore.weights.files.read_weights`: ``weights_only``, our checkpoints,
MMAction2's and bare state dicts), hands the tensors to the module's filter and loads the result
strictly: every tensor of the module must be there with its shape (``num_batches_tracked`` may
be absent, as in old torchvision files), nothing else may be. A problem is a
:class:`CheckpointError` that names the file, what does not fit, and the module.

``pretrained`` may also be a zoo weights name (``pretrained = "tsn_..._kinetics400-rgb"``): a value
that is not an existing file but a registered name reads the name's converted checkpoint
(:func:`~actioncore.weights.resolve.weights_path`), whose ``backbone.*`` tensors the default
filter takes.
"""
from __future__ import annotations

import os
import weakref

import torch
from torch import nn

from .files import backbone_weights, fit_problems, read_weights
from ..errors import CheckpointError

__all__ = ["PretrainedMixin", "load_pretrained_files"]

_loaded: weakref.WeakSet[nn.Module] = weakref.WeakSet()
"""Modules whose file is loaded: a module built with its weights and then passed to another build
(``build("model", "sequential", backbone=...)``) keeps the weights it has."""


class PretrainedMixin(nn.Module):
    """A module that may start from a weights file: set ``self.pretrained`` in the constructor.

    ``filter_pretrained`` receives the file's tensors, as :func:`read_weights` returns them, and
    returns this module's state dict: every key of ``self.state_dict()`` (a tensor to keep at its
    initialisation is returned as ``self.state_dict()`` has it) and nothing else. It raises
    :class:`CheckpointError` for a file that does not fit, with a message that the loader
    prefixes with the file's path. The default takes a recognizer checkpoint's ``backbone.*``
    tensors, or a bare state dict, as they are (:func:`~actioncore.weights.files.backbone_weights`).
    """

    pretrained: str | os.PathLike[str] | None = None

    def filter_pretrained(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return backbone_weights(state)


def load_pretrained_files(model: nn.Module) -> nn.Module:
    """Load the ``pretrained`` file of every :class:`PretrainedMixin` module in ``model`` (inner
    modules first, each file read once, each module once); returns ``model``."""
    files: dict[str, dict[str, torch.Tensor]] = {}
    for name, module in reversed(list(model.named_modules())):
        if not isinstance(module, PretrainedMixin) or module.pretrained is None or module in _loaded:
            continue
        path = os.fspath(module.pretrained)
        if path not in files:
            from .resolve import weights_path  # a zoo name: its converted checkpoint

            files[path] = read_weights(weights_path(path, key=f"{name or type(module).__name__}.pretrained"))
        try:
            state = module.filter_pretrained(dict(files[path]))
            problems = fit_problems(module.state_dict(), state, optional=("num_batches_tracked",))
            if problems:
                raise CheckpointError(f"does not fit {type(module).__name__}: {problems}")
        except CheckpointError as exc:
            where = f" (the pretrained file of module '{name}')" if name else ""
            raise CheckpointError(f"{path}: {exc}{where}") from None
        module.load_state_dict(state, strict=False)
        _loaded.add(module)
    return model
