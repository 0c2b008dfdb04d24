"""The default model composition: a head over an optional neck over a backbone."""
from __future__ import annotations

import torch
from torch import nn

from ..weights.mmaction2 import convert_parts
from ..types import Backbone, Head, Neck


class Sequential(nn.Module):
    """``head(neck(backbone(x)))``: what ``[model]`` builds when it names no ``type``.

    Task plugins register richer compositions (a recognizer with test-time clip averaging, a
    detector with RoI heads); this one is enough for feature extractors and simple classifiers.
    """

    def __init__(self, *, backbone: Backbone, head: Head, neck: Neck | None = None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head

    def from_mmaction2(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2 weights renamed for this model, each part's own conversion included."""
        return convert_parts(self, state)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        features = self.backbone(inputs)
        if self.neck is not None:
            features = self.neck(features)
        return self.head(features)
