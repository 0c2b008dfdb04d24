"""SSN's head (MMAction2 0.24's ``SSNHead``): activity, completeness and regression classifiers.

- ``activity_fc``: course feature (``in_channels``) -> ``num_classes + 1`` (background first);
- ``completeness_fc``: the STPP feature (``parts * in_channels``) -> ``num_classes``;
- ``regressor_fc``: the STPP feature -> ``2 * num_classes`` (centre, size per class).

At test time the three are applied to every sampled frame at once (0.24's ``prepare_test_fc``):
the completeness and regression weights are cut into one ``in_channels`` block per STPP part,
their biases divided by the number of parts, so that pooling the per-frame scores over the parts
and summing gives the classifier's output on the pooled features.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .stpp import StageConfig, num_parts, stpp_train


class SSNHead(nn.Module):
    def __init__(self, *, num_classes: int = 20, in_channels: int = 2048,
                 stpp_stage: Sequence[StageConfig] = (1, 1, 1), num_segments: Sequence[int] = (2, 5, 2),
                 use_regression: bool = True, dropout_ratio: float = 0.0, init_std: float = 0.001):
        super().__init__()
        if len(stpp_stage) != 3 or len(num_segments) != 3:
            raise ValueError(f"stpp_stage {stpp_stage} and num_segments {num_segments} need three stages "
                             "(starting, course, ending)")
        self.num_classes = num_classes
        self.stpp_stage = tuple(stpp_stage)
        self.num_segments = tuple(int(n) for n in num_segments)
        self.parts = num_parts(stpp_stage)
        self.use_regression = use_regression
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        self.activity_fc = nn.Linear(in_channels, num_classes + 1)
        self.completeness_fc = nn.Linear(self.parts * in_channels, num_classes)
        self.regressor_fc = nn.Linear(self.parts * in_channels, 2 * num_classes) if use_regression else None
        for fc in (self.activity_fc, self.completeness_fc, self.regressor_fc):
            if fc is not None:
                nn.init.normal_(fc.weight, std=init_std)
                nn.init.zeros_(fc.bias)

    def forward(self, features: torch.Tensor, scale_factors: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Training: frame features ``[P * 9, C]`` -> ``(activity [P, K+1], completeness [P, K],
        regression [P, K, 2] or None)``."""
        course, stpp = stpp_train(features, scale_factors, stpp_stage=self.stpp_stage, num_segments=self.num_segments)
        if self.dropout is not None:
            course, stpp = self.dropout(course), self.dropout(stpp)
        regression = None
        if self.regressor_fc is not None:
            regression = self.regressor_fc(stpp).view(-1, self.num_classes, 2)
        return self.activity_fc(course), self.completeness_fc(stpp), regression

    def _per_part(self, fc: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
        in_channels = self.activity_fc.in_features
        weight = fc.weight.view(fc.out_features, self.parts, in_channels).transpose(0, 1).reshape(-1, in_channels)
        bias = fc.bias.view(1, -1).expand(self.parts, -1).reshape(-1) / self.parts
        return weight, bias

    def test_scores(self, features: torch.Tensor) -> torch.Tensor:
        """Per-frame scores ``[T, (K+1) + parts * K (+ parts * 2K)]`` from frame features ``[T, C]``."""
        weights, biases = [self.activity_fc.weight], [self.activity_fc.bias]
        for fc in (self.completeness_fc, self.regressor_fc):
            if fc is not None:
                weight, bias = self._per_part(fc)
                weights.append(weight)
                biases.append(bias)
        return nn.functional.linear(features, torch.cat(weights), torch.cat(biases))
