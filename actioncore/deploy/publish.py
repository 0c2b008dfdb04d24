"""``actioncore publish``: a training checkpoint cut down to what ``test`` and ``infer`` need.

As MMAction2's ``tools/misc/publish_model.py``: the optimizer state goes (with the scaler, the RNG
states and the resume position), the file is written once and named after its own content,
``OUT-<first 8 hex digits of its sha256>.pth``, so a download can be checked against its name.
What stays: the weights, the resolved experiment and the plugin versions that trained it, and
where it came from (file, epoch, iteration, best metric), so ``actioncore test`` and ``infer``
load it like any checkpoint.
"""
from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import torch

from ..engine.checkpoint import FORMAT, FORMAT_VERSION, atomic_path, load_checkpoint, model_weights

KEPT = ("actioncore_version", "plugins", "experiment", "converted_from")
"""Plain-data keys of a checkpoint that a published one keeps besides the weights."""
PROVENANCE = ("epoch", "iteration", "best")
HASH_DIGITS = 8


def published_name(out: str | os.PathLike[str], sha256: str) -> Path:
    """``OUT`` (``.pth`` or not) -> ``OUT-<sha8>.pth``."""
    out = Path(out)
    return out.with_name(f"{out.name.removesuffix('.pth')}-{sha256[:HASH_DIGITS]}.pth")


def publish_checkpoint(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the weights-only checkpoint of ``source``; returns its path, sha256 and sizes."""
    source = Path(source)
    state = load_checkpoint(source)
    weights = model_weights(state, source)
    published: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION,
                                 **{k: state[k] for k in KEPT if k in state}}
    published["published_from"] = {"file": source.name, **{k: state.get(k) for k in PROVENANCE if k in state}}
    published["model"] = weights
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    target = published_name(out, sha256)
    with atomic_path(target, what="the published checkpoint") as tmp:
        tmp.write_bytes(data)
    dropped = sorted(k for k in state if k not in published and k not in PROVENANCE and k != "state_dict"
                     and not isinstance(state[k], torch.Tensor))  # a bare state dict drops nothing
    return {"path": str(target), "sha256": sha256, "size_bytes": len(data), "source": str(source),
            "source_size_bytes": source.stat().st_size, "tensors": len(weights), "dropped": dropped}
