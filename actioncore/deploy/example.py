"""What a task adapter tells ``actioncore export``: the module to export and how to feed it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from torch import nn


def _shape(value: Any) -> tuple[int, ...]:
    shape = tuple(int(d) for d in value)
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"an input shape needs positive sizes, got {list(value)}")
    return shape


@attrs.frozen(kw_only=True)
class ExportExample:
    """The inference forward of a task's model, as ``actioncore test`` / ``infer`` run it.

    ``module(x)`` takes one float32 tensor of ``input_shape`` (batch first, as the experiment's
    test pipeline makes it, already normalised) and returns a tensor or a tuple of tensors, one
    per entry of ``outputs`` (name -> what it holds, for the deployment's JSON sidecar). The rest
    tells a deployment how to make the input: ``layout`` (the dimensions in words) and
    ``preprocessing`` (mean/std, channel order, ...), and how to read the output: ``classes``.
    """

    module: nn.Module
    input_shape: tuple[int, ...] = attrs.field(converter=_shape)
    input_name: str = "inputs"
    outputs: Mapping[str, str] = attrs.field(factory=lambda: {"scores": "class scores"})
    layout: str | None = None
    preprocessing: Mapping[str, Any] = attrs.field(factory=dict)
    classes: list[str] | None = None
