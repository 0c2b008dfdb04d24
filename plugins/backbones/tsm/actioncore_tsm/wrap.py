"""Modules that wrap a part of actioncore-tsn's ResNet: TSM's shift and temporal pool, TIN's
interlace, TANet's TA-block, TSM-NL's non-local block.

Each names the module it wraps in a ``wrapped`` class attribute (MMAction2's names: ``net``,
``net2``, ``block``), so that code which needs the ResNet's own blocks and convolutions (CMR's
motion enhancement, loading ImageNet weights) finds them with :func:`unwrap` whatever wraps them;
a wrapper's other children are modules it adds.
"""
from __future__ import annotations

from torch import nn


def unwrap(module: nn.Module) -> nn.Module:
    """The ResNet module inside ``module``'s wrappers (``module`` itself if it wraps nothing)."""
    while (inner := getattr(module, "wrapped", None)) is not None:
        module = getattr(module, inner)
    return module
