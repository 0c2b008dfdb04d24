"""Recognizers: backbone (+ neck) + head, with MMAction2's test-time averaging over views.

Inputs are the normalised float batches the task prepares on the device:

- 2D (``format_shape`` NCHW): ``[B, N, C, H, W]`` with N = crops x clips x frames; the head gets
  ``[B*N, C', h, w]`` features and ``num_segs = N`` (TSN-style consensus over segments).
- 3D (NCTHW): ``[B, V, C, T, H, W]`` with V = crops x clips views; the head scores each view.

A head returning more rows than the batch (one per view) is averaged per sample, by score or by
softmax probability (``average_clips``), as MMAction2's ``average_clip`` does.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from actioncore.sdk.weights import convert_parts
from actioncore.sdk import Backbone, Head, Neck

AverageClips = Literal["score", "prob"]


def average_views(scores: torch.Tensor, batch: int, mode: AverageClips | None) -> torch.Tensor:
    """``[B*V, K]`` per-view scores -> ``[B, K]``."""
    views = scores.shape[0] // batch
    scores = scores.view(batch, views, -1)
    if mode == "prob":
        scores = scores.softmax(dim=-1)
    return scores.mean(dim=1)


class _Recognizer(nn.Module):
    def __init__(self, *, backbone: Backbone, head: Head, neck: Neck | None = None,
                 average_clips: AverageClips | None = "prob"):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.average_clips = average_clips

    def from_mmaction2(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2 recognizer weights renamed for this model (see ``actioncore convert``)."""
        return convert_parts(self, state)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.backbone(x)
        return self.neck(x) if self.neck is not None else x

    def average(self, scores: torch.Tensor, batch: int) -> torch.Tensor:
        if self.training:  # the loss needs logits: views (if any) are averaged by score
            return scores if scores.shape[0] == batch else average_views(scores, batch, "score")
        return average_views(scores, batch, self.average_clips)


class Recognizer2D(_Recognizer):
    """Frames through a 2D backbone; the head fuses the ``N`` frames of each sample.

    With a neck (TPN), the backbone's per-frame maps (one per ``out_indices`` stage) are
    regrouped into clips ``[N * views, C, T, H, W]`` (see :meth:`features`), as MMAction2's
    ``Recognizer2D`` feeds its neck; the head then scores each clip, and the clips of a sample
    are averaged like views.
    """

    def features(self, x: torch.Tensor, *, segments: int | None = None) -> torch.Tensor:
        """Backbone (and neck) features of frames ``[N * segments, C, H, W]``.

        The neck's clips have the backbone's ``num_segments`` frames (MMAction2 uses it in
        testing, with several clips and crops per sample, and the sample's frames in training,
        the same number with its samplers); a backbone without one gives ``segments``."""
        x = self.backbone(x)
        if self.neck is None:
            return x
        levels = x if isinstance(x, (tuple, list)) else (x,)
        frames = getattr(self.backbone, "num_segments", None) or segments or levels[0].shape[0]
        if levels[0].shape[0] % frames:
            raise ValueError(f"recognizer2d: {levels[0].shape[0]} frames are not a multiple of the "
                             f"backbone's num_segments = {frames}")
        return self.neck([level.reshape(-1, frames, *level.shape[1:]).transpose(1, 2) for level in levels])

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, segments = inputs.shape[:2]
        features = self.features(inputs.flatten(0, 1), segments=segments)
        if self.neck is not None:  # clip features: one score row per clip, averaged per sample
            return self.average(self.head(features), batch)
        return self.average(self.head(features, num_segs=segments), batch)


class Recognizer3D(_Recognizer):
    """Clips through a 3D backbone; each view scored, then averaged per sample."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch = inputs.shape[0]
        if inputs.dim() == 6:
            inputs = inputs.flatten(0, 1)
        return self.average(self.head(self.features(inputs)), batch)
