"""BMN, the Boundary-Matching Network (Lin et al., ICCV 2019), as MMAction2 1.2.0 builds it.

``[B, feat_dim, T]`` features go through

- the base module (two grouped 1-D convolutions, ``x_1d_b``),
- the temporal evaluation module: start and end probabilities per step (``x_1d_s``, ``x_1d_e``),
- the proposal evaluation module: a 1-D convolution (``x_1d_p``), the boundary-matching layer,
  a 3-D convolution over its ``num_samples`` points (``x_3d_p``) and 2-D convolutions
  (``x_2d_p``) giving the ``[B, 2, D, S]`` boundary-matching confidence map (channel 0: IoU
  regression, channel 1: classification) for the proposal of duration ``d + 1`` from step ``s``.

Module names are MMAction2's, so its checkpoints load unchanged (``actioncore convert mmaction2``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from actioncore.sdk.weights import rename_mmaction2
from actioncore.sdk.layers import Conv2d, Conv3d
from actioncore_localization import bmn_targets_batch
from actioncore_localization import post_process

from .bm_layer import BoundaryMatchingLayer, valid_proposals
from .loss import bmn_loss
from .proposals import candidate_proposals

BMNOutputs = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""(confidence map ``[B, 2, D, S]``, start ``[B, T]``, end ``[B, T]``)."""


def _grouped_conv(channels_in: int, channels_out: int, groups: int) -> list[nn.Module]:
    return [nn.Conv1d(channels_in, channels_out, kernel_size=3, padding=1, groups=groups), nn.ReLU(inplace=True)]


class BMN(nn.Module):
    """The Boundary-Matching Network; the ``localization`` task trains and evaluates it."""

    input_layout = "[batch, feat_dim, temporal_dim]: per-video features rescaled to temporal_dim steps"
    export_outputs = {
        "confidence_map": "[batch, 2, D, S] boundary-matching confidences of the proposal of duration d + 1 from "
                          "step s (channel 0: IoU regression, 1: classification)",
        "start": "[batch, temporal_dim] start probabilities", "end": "[batch, temporal_dim] end probabilities"}
    """What ``actioncore export`` names the outputs of ``forward`` (in order) and its input."""

    def __init__(self, *, temporal_dim: int = 100, boundary_ratio: float = 0.5, num_samples: int = 32,
                 num_samples_per_bin: int = 3, feat_dim: int = 400, soft_nms_alpha: float = 0.4,
                 soft_nms_low_threshold: float = 0.5, soft_nms_high_threshold: float = 0.9,
                 post_process_top_k: int = 100, feature_extraction_interval: int = 16,
                 hidden_dim_1d: int = 256, hidden_dim_2d: int = 128, hidden_dim_3d: int = 512,
                 tem_loss_weight: float = 1.0, pem_reg_loss_weight: float = 10.0,
                 pem_cls_loss_weight: float = 1.0):
        super().__init__()
        if hidden_dim_1d % 4 or feat_dim % 4:
            raise ValueError(f"feat_dim ({feat_dim}) and hidden_dim_1d ({hidden_dim_1d}) must be multiples of 4 "
                             "(the base module's convolutions have 4 groups)")
        if temporal_dim < 3:
            raise ValueError(f"temporal_dim must be at least 3, got {temporal_dim}")
        self.temporal_dim = temporal_dim
        self.feat_dim = feat_dim
        self.soft_nms = dict(soft_nms_alpha=soft_nms_alpha, soft_nms_low_threshold=soft_nms_low_threshold,
                             soft_nms_high_threshold=soft_nms_high_threshold, post_process_top_k=post_process_top_k,
                             feature_extraction_interval=feature_extraction_interval)
        self.loss_weights = dict(weight_tem=tem_loss_weight, weight_pem_reg=pem_reg_loss_weight,
                                 weight_pem_cls=pem_cls_loss_weight)
        h1, h2, h3 = hidden_dim_1d, hidden_dim_2d, hidden_dim_3d

        self.x_1d_b = nn.Sequential(*_grouped_conv(feat_dim, h1, 4), *_grouped_conv(h1, h1, 4))
        self.x_1d_s = nn.Sequential(*_grouped_conv(h1, h1, 4), nn.Conv1d(h1, 1, kernel_size=1), nn.Sigmoid())
        self.x_1d_e = nn.Sequential(*_grouped_conv(h1, h1, 4), nn.Conv1d(h1, 1, kernel_size=1), nn.Sigmoid())
        self.x_1d_p = nn.Sequential(*_grouped_conv(h1, h1, 1))
        self.bm_layer = BoundaryMatchingLayer(temporal_dim=temporal_dim, num_samples=num_samples,
                                              num_samples_per_bin=num_samples_per_bin, boundary_ratio=boundary_ratio)
        self.x_3d_p = nn.Sequential(Conv3d(h1, h3, kernel_size=(num_samples, 1, 1)), nn.ReLU(inplace=True))
        self.x_2d_p = nn.Sequential(
            Conv2d(h3, h2, kernel_size=1), nn.ReLU(inplace=True),
            Conv2d(h2, h2, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            Conv2d(h2, h2, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            Conv2d(h2, 2, kernel_size=1), nn.Sigmoid())
        self.register_buffer("bm_mask", valid_proposals(temporal_dim))

    @staticmethod
    def from_mmaction2(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """MMAction2's BMN weights: only the sample mask lives in a submodule here."""
        return {("bm_layer.sample_mask" if key == "sample_mask" else key): value
                for key, value in rename_mmaction2(state).items()}

    def forward(self, features: torch.Tensor) -> BMNOutputs:
        if features.dim() != 3 or features.shape[1:] != (self.feat_dim, self.temporal_dim):
            raise ValueError(f"BMN expects [B, {self.feat_dim}, {self.temporal_dim}] features, "
                             f"got {list(features.shape)}")
        base = self.x_1d_b(features)
        start = self.x_1d_s(base).squeeze(1)
        end = self.x_1d_e(base).squeeze(1)
        confidence = self.bm_layer(self.x_1d_p(base))
        confidence = self.x_2d_p(self.x_3d_p(confidence).squeeze(2))
        return confidence, start, end

    def loss(self, outputs: BMNOutputs, labels: Sequence[Any]) -> dict[str, torch.Tensor]:
        """BMN's loss against targets made from each label's ``gt_bbox()``."""
        confidence, start, end = outputs
        gt_iou_map, gt_start, gt_end = bmn_targets_batch(labels, self.temporal_dim, device=start.device)
        return bmn_loss(confidence.float(), start.float(), end.float(), gt_iou_map, gt_start, gt_end,
                        self.bm_mask, **self.loss_weights)

    def proposals(self, outputs: BMNOutputs, labels: Sequence[Any]) -> list[np.ndarray]:
        """Per video, soft-NMS'd ``[N, 3]`` rows ``(start_s, end_s, score)``, best first."""
        confidence, start, end = (t.detach().float().cpu().numpy() for t in outputs)
        return [post_process(candidate_proposals(start[i], end[i], confidence[i, 0], confidence[i, 1]), label,
                             **self.soft_nms)
                for i, label in enumerate(labels)]
