"""The two-stage spatio-temporal action detector of MMAction2's AVA configs (its ``FastRCNN`` with
``AVARoIHead``), on given person boxes: no region proposal network, no box regression.

A clip goes through a zoo backbone (SlowOnly, SlowFast, ...); each person box of the keyframe is
cut out of the feature map (:class:`~.roi_extractor.SingleRoIExtractor3D`), optionally related to
its context (ACRN) or to the long-term feature bank (LFB) by a shared head, and scored for every
action by the box head (multi-label sigmoid).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from actioncore.sdk.weights import convert_parts
from actioncore.sdk import Backbone, Head

from .bbox_head import spatial_pool, temporal_pool
from .roi_extractor import RoIExtractorConfig, SingleRoIExtractor3D

Meta = Sequence[Mapping[str, Any]]

# MMAction2 detector keys -> ours (its backbone names are already ours).
_MMACTION2_PREFIXES = (("roi_head.bbox_head.", "head."), ("roi_head.shared_head.", "shared_head."))


def whole_frame_rois(inputs: torch.Tensor) -> torch.Tensor:
    """One RoI per clip covering the whole frame: ``[N, 5]``."""
    n, height, width = inputs.shape[0], inputs.shape[-2], inputs.shape[-1]
    rois = inputs.new_zeros(n, 5)
    rois[:, 0] = torch.arange(n, dtype=inputs.dtype, device=inputs.device)
    rois[:, 3], rois[:, 4] = width, height
    return rois


class AVADetector(nn.Module):
    """Action logits for person boxes: ``model(inputs, rois, meta=None) -> [R, num_classes]``.

    ``inputs`` are clips ``[N, C, T, H, W]`` (a SlowFast backbone samples its two pathways
    itself); ``rois`` ``[R, 5]`` hold the clip index in the batch and ``x1, y1, x2, y2`` in input
    pixels; ``meta`` gives each RoI's ``{"video_id", "timestamp"}`` (needed by LFB only).
    Without ``rois``, each clip is one RoI covering the whole frame (what ``actioncore info``
    counts FLOPs for). Scores are ``model.scores(logits)``; :meth:`loss` is the box head's.

    :param backbone: any zoo backbone returning ``[N, C, t, h, w]`` or a tuple of such
        (SlowOnly: ``resnet3d`` with ``spatial_strides = [1, 2, 2, 1]``; ``resnet3d_slowfast``).
    :param head: the box head (``ava_bbox``).
    :param roi_extractor: RoI feature extraction (:class:`RoIExtractorConfig`).
    :param shared_head: between extractor and box head: ``acrn`` or ``fbo`` (LFB), or none.
    """

    def __init__(self, *, backbone: Backbone, head: Head,
                 roi_extractor: RoIExtractorConfig = RoIExtractorConfig(),  # noqa: B008 (frozen)
                 shared_head: Head | None = None):
        super().__init__()
        self.backbone = backbone
        self.roi_extractor = SingleRoIExtractor3D(roi_extractor)
        self.shared_head = shared_head
        self.head = head
        # LFB's bank holds RoI features pooled as MMAction2's LFBInferHead pools them.
        self.bank_temporal_pool = temporal_pool("avg")
        self.bank_spatial_pool = spatial_pool("max")

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    def roi_maps(self, inputs: torch.Tensor, rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RoI features ``[R, C, t, s, s]`` and the context map they were cut from."""
        return self.roi_extractor(self.backbone(inputs), rois)

    def forward(self, inputs: torch.Tensor, rois: torch.Tensor | None = None,
                meta: Meta | None = None) -> torch.Tensor:
        if rois is None:
            rois = whole_frame_rois(inputs)
        features, context = self.roi_maps(inputs, rois)
        if self.shared_head is not None:
            features = self.shared_head(features, context=context, rois=rois, meta=meta)
        return self.head(features)

    def roi_features(self, inputs: torch.Tensor, rois: torch.Tensor,
                     meta: Meta | None = None) -> torch.Tensor:
        """``[R, C]`` features for LFB's bank: each RoI's features averaged over time and
        max-pooled over the RoI grid (MMAction2's ``LFBInferHead``), before any shared head.
        The detection task's ``feature_bank`` pass calls it in eval mode and stores the rows
        per (video, timestamp) (:class:`~.feature_bank.FeatureBank`)."""
        features, _ = self.roi_maps(inputs, rois)
        return self.bank_spatial_pool(self.bank_temporal_pool(features)).flatten(1)

    def scores(self, logits: torch.Tensor) -> torch.Tensor:
        return self.head.scores(logits)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        """``loss`` (and recall/precision numbers) for multi-hot ``targets [R, num_classes]``."""
        return self.head.loss(logits, targets)

    def from_mmaction2(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """An MMAction2 ``FastRCNN`` detector's weights renamed for this model
        (``roi_head.bbox_head.*`` -> ``head.*``, ``roi_head.shared_head.*`` -> ``shared_head.*``)."""
        renamed = {}
        for key, value in state.items():
            for theirs, ours in _MMACTION2_PREFIXES:
                if key.removeprefix("module.").startswith(theirs):
                    key = ours + key.removeprefix("module.")[len(theirs):]
                    break
            renamed[key] = value
        return convert_parts(self, renamed, parts=("backbone", "shared_head", "head"))
