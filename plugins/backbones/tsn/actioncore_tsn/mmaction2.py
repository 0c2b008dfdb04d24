"""MMAction2 checkpoints to ours."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actioncore.sdk import CheckpointError

_RENAMES: tuple[tuple[str, str], ...] = (
    ("backbone.", "backbone."),
    ("neck.", "neck."),
    ("cls_head.", "head."),
)
_DROPPED = ("data_preprocessor.",)


def convert_mmaction2(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Rename an MMAction2 1.x (or 0.x) TSN recognizer's state dict to our recognizer's keys.

    Our recognizer holds ``backbone`` and ``head`` where MMAction2's holds ``backbone`` and
    ``cls_head``; inside them the names are already MMAction2's, so only the prefix of the
    head changes. ``data_preprocessor.*`` buffers (normalisation constants, which we keep in
    the data pipeline instead) are dropped. A whole checkpoint (with ``state_dict`` and
    ``meta``) is accepted as well, and a ``module.`` prefix left by DataParallel is removed.

    :returns: a new dict; the tensors are shared, not copied.
    :raises CheckpointError: for keys outside backbone, neck, head and data preprocessor,
        which would mean the checkpoint is not a recognizer of this layout.
    """
    if isinstance(state_dict.get("state_dict"), Mapping):
        state_dict = state_dict["state_dict"]
    if state_dict and all(k.startswith("module.") for k in state_dict):
        state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}
    converted: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in state_dict.items():
        if key.startswith(_DROPPED):
            continue
        for old, new in _RENAMES:
            if key.startswith(old):
                converted[new + key.removeprefix(old)] = value
                break
        else:
            unknown.append(key)
    if unknown:
        shown = ", ".join(unknown[:6]) + (f" and {len(unknown) - 6} more" if len(unknown) > 6 else "")
        raise CheckpointError(
            f"not an MMAction2 recognizer state dict: {len(unknown)} keys outside backbone, "
            f"neck, cls_head and data_preprocessor: {shown}"
        )
    return converted
