"""``[model] init``: start a whole model from a checkpoint or a zoo name, to fine-tune it.

Fine-tuning a Kinetics-400 recognizer on a data set of 12 classes keeps every tensor but the
classifier's: those have another shape, so the head stays at its initialisation (MMAction2's
``load_from`` with a new ``num_classes``, torchvision's "replace ``fc``"), and one log line says
which keys were left. Anything else that does not fit (a missing block, a layer of another width,
a tensor the model lacks) is a :class:`CheckpointError`: a silently half-loaded backbone trains
into a worse model without anyone noticing.
"""
from __future__ import annotations

import logging

from torch import nn

from ..errors import CheckpointError
from ..runlog import LOGGER_NAME
from .files import fit_problems, read_weights
from .resolve import weights_path

HEAD_PREFIX = "head."
"""Where a recognizer keeps its classifier; only its tensors may differ in shape."""


def init_model(model: nn.Module, source: str) -> list[str]:
    """Load ``source`` (one of our checkpoints, a bare state dict, or a zoo name) into ``model``;
    returns the keys of the head left at their initialisation because their shape differs.

    :raises CheckpointError: naming the file, when tensors outside the head are missing, extra,
        or of another shape.
    """
    path = weights_path(source, key="model.init")
    state = read_weights(path)
    own = model.state_dict()
    left = {k: list(state.pop(k).shape) for k in list(own)
            if k in state and state[k].shape != own[k].shape and k.startswith(HEAD_PREFIX)}
    problems = fit_problems({k: v for k, v in own.items() if k not in left}, state, optional=("num_batches_tracked",))
    if problems:
        raise CheckpointError(f"{path}: [model] init = '{source}' does not fit the model: {problems} "
                              f"(only {HEAD_PREFIX}* tensors may differ, for another class count)")
    model.load_state_dict(state, strict=False)
    if left:
        first = next(iter(left))
        logging.getLogger(LOGGER_NAME).info(
            "model.init %s: loaded %d tensors; the head is left at its initialisation (%d classes in the "
            "weights, %d in the model): %s", source, len(state), left[first][0], own[first].shape[0],
            ", ".join(left))
    return list(left)
