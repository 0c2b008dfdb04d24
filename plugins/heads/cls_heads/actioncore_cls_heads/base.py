"""The base of every head here: checked sizes, optional global pooling, dropout, a linear classifier."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

_POOLS: dict[tuple[str | None, int], type[nn.Module]] = {
    ("avg", 2): nn.AdaptiveAvgPool2d, ("avg", 3): nn.AdaptiveAvgPool3d,
    ("max", 2): nn.AdaptiveMaxPool2d, ("max", 3): nn.AdaptiveMaxPool3d,
}

LinearSpec = tuple[int, int] | tuple[int, int, bool]
"""``(in_features, out_features)`` or ``(in_features, out_features, bias)`` of a linear layer."""


class ClsHead(nn.Module):
    """Features to class scores ``[N, num_classes]``, the part MMAction2's classification heads share.

    Every head checks ``num_classes`` and its dropout the same way, pools globally (or not), applies
    dropout and ends in a linear classifier whose weights start normal (bias 0). A subclass says
    what differs in class attributes (its ``name`` for messages, the pooling it accepts), lists its
    linear layers in ``linears`` when they are not the one ``fc_cls``, and writes ``forward`` from
    :meth:`pooled` and :meth:`classify`; its own keyword parameters, not these, are its config
    schema.

    :param num_classes: number of classes.
    :param in_channels: channels of the backbone's features.
    :param dropout_ratio: dropout before the classifier; 0 turns it off.
    :param init_std: standard deviation of every linear layer's normal initial weights (biases 0).
    :param spatial_type: global pooling over the last ``pool_dims`` axes: ``avg``, ``max``, or
        ``none`` / None for features that need none; one of the subclass's ``spatial_types``.
    :param linears: the head's linear layers, ``state-dict name -> (in_features, out_features)``
        or ``(in_features, out_features, bias)``, in order, the last one the classifier; by
        default ``fc_cls`` from ``in_channels`` to ``num_classes``. All are built, then all are
        initialised, in this order, so that a head keeps its state-dict names, its parameter order
        (saved optimizer states rely on it) and the initial weights a seed gives (seeded runs do).
    """

    name: ClassVar[str] = "head"
    """Prefix of error messages, the head's registered name."""
    pool_dims: ClassVar[int] = 3
    """Trailing axes pooled: 2 (H, W of frames) or 3 (T, H, W of clips)."""
    spatial_types: ClassVar[tuple[str | None, ...]] = (None,)
    """Values ``spatial_type`` may take."""
    dropout_param: ClassVar[str] = "dropout_ratio"
    """The subclass's name for ``dropout_ratio``, for error messages."""
    truncated_init: ClassVar[bool] = False
    """Truncated normal (at +-2) instead of normal initial weights (ViT heads)."""

    def __init__(self, *, num_classes: int, in_channels: int, dropout_ratio: float, init_std: float,
                 spatial_type: str | None = None, linears: Mapping[str, LinearSpec] | None = None):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"{self.name} num_classes must be positive, got {num_classes}")
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f"{self.name} {self.dropout_param} must be in [0, 1), got {dropout_ratio}")
        self.check_choice("spatial_type", spatial_type, self.spatial_types)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.spatial_type = spatial_type
        pool = _POOLS.get((spatial_type, self.pool_dims))  # none for "none" / None
        self.pool = pool(1) if pool is not None else None
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        linears = linears or {"fc_cls": (in_channels, num_classes)}
        for key, spec in linears.items():
            self.add_module(key, nn.Linear(*spec))
        self.classifier_name = list(linears)[-1]
        for key in linears:
            self.init_linear(getattr(self, key), init_std)

    def check_choice(self, param: str, value: Any, choices: tuple[Any, ...]) -> None:
        """Raise a ValueError naming the head and the allowed values when ``value`` is not one."""
        if value not in choices:
            shown = [repr(c) for c in choices if c is not None] + ["absent"] * (None in choices)
            allowed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
            raise ValueError(f"{self.name} {param} must be {allowed}, got {value!r}")

    def init_linear(self, layer: nn.Linear, std: float) -> None:
        """Normal (or truncated normal) weights of ``std`` and zero bias, as MMAction2's
        ``normal_init`` / ``trunc_normal_init``; nothing to do on the meta device."""
        if layer.weight.is_meta:
            return
        if self.truncated_init:
            nn.init.trunc_normal_(layer.weight, std=std, a=-2.0, b=2.0)
        else:
            nn.init.normal_(layer.weight, mean=0.0, std=std)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)

    @property
    def classifier(self) -> nn.Linear:
        """The last linear layer: the class scores (TRN's: the frames' projections)."""
        return getattr(self, self.classifier_name)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` after the global pooling ``spatial_type`` chose (unchanged without one)."""
        return self.pool(x) if self.pool is not None else x

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout (in training), then the classifier on ``x`` flattened to ``[N, features]``."""
        if self.dropout is not None:
            x = self.dropout(x)
        return self.classifier(x.flatten(1))
