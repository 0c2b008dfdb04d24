"""BSN's proposal evaluation module (PEM): a confidence for each proposal from its BSP feature."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from actioncore.sdk import ConfigError
from actioncore_bsn_pgm import ProposalTable
from actioncore_localization import post_process

from .losses import proposal_iou_loss


def proposals_of(label: Any) -> ProposalTable:
    """A sample's PGM proposals, which only ``bsn_proposals`` data (``load_bsn_proposals``) carries."""
    table = getattr(label, "proposals", None)
    if not isinstance(table, ProposalTable):
        raise ConfigError("bsn_pem needs PGM proposals with each sample: use [data.*] type = \"bsn_proposals\" "
                          "with a load_bsn_proposals step in its pipeline")
    return table


class PEM(nn.Module):
    """Two fully connected layers from a ``pem_feat_dim`` boundary-sensitive proposal feature to
    the proposal's expected IoU with the ground truth (BSN, 3.4).

    ``fc1`` (ReLU) and ``fc2`` (sigmoid), each pre-activation scaled by ``fc*_ratio`` as in
    MMAction2. Trained on the reference IoU of each proposal (``proposal_iou_loss``: every
    proposal above ``pem_high_temporal_iou_threshold``, and ``pem_u_ratio_m`` / ``pem_u_ratio_l``
    times as many drawn from the medium and low ones). At test time a proposal scores
    ``confidence x start probability x end probability``; the soft-NMS settings
    (``soft_nms_alpha``, ``soft_nms_low_threshold``, ``soft_nms_high_threshold``,
    ``post_process_top_k``) and ``feature_extraction_interval`` (frames per feature step, which
    sets the seconds a normalised proposal spans) are used by that post-processing.
    """

    input_layout = "[batch, top_k, pem_feat_dim]: the boundary-sensitive features of a video's PGM proposals"
    export_outputs = {"confidences": "[batch, top_k] proposal confidences in (0, 1)"}
    """What ``actioncore export`` names the output of ``forward`` and its input."""

    def __init__(self, *, pem_feat_dim: int = 32, pem_hidden_dim: int = 256, pem_u_ratio_m: float = 1.0,
                 pem_u_ratio_l: float = 2.0, pem_high_temporal_iou_threshold: float = 0.6,
                 pem_low_temporal_iou_threshold: float = 0.2, soft_nms_alpha: float = 0.75,
                 soft_nms_low_threshold: float = 0.65, soft_nms_high_threshold: float = 0.9,
                 post_process_top_k: int = 100, feature_extraction_interval: int = 16,
                 fc1_ratio: float = 0.1, fc2_ratio: float = 0.1, output_dim: int = 1):
        super().__init__()
        if output_dim != 1:
            raise ValueError(f"output_dim: PEM predicts one confidence per proposal, got {output_dim}")
        self.feat_dim = pem_feat_dim
        self.u_ratio_m = pem_u_ratio_m
        self.u_ratio_l = pem_u_ratio_l
        self.high_iou_threshold = pem_high_temporal_iou_threshold
        self.low_iou_threshold = pem_low_temporal_iou_threshold
        self.soft_nms_alpha = soft_nms_alpha
        self.soft_nms_low_threshold = soft_nms_low_threshold
        self.soft_nms_high_threshold = soft_nms_high_threshold
        self.post_process_top_k = post_process_top_k
        self.feature_extraction_interval = feature_extraction_interval
        self.fc_ratios = (fc1_ratio, fc2_ratio)
        self.fc1 = nn.Linear(pem_feat_dim, pem_hidden_dim)
        self.fc2 = nn.Linear(pem_hidden_dim, output_dim)

    def forward(self, bsp_features: torch.Tensor) -> torch.Tensor:
        """``[..., pem_feat_dim]`` proposal features (``[B, top_k, pem_feat_dim]`` from the
        ``load_bsn_proposals`` step) -> ``[...]`` confidences in (0, 1)."""
        ratio1, ratio2 = self.fc_ratios
        x = F.relu(ratio1 * self.fc1(bsp_features))
        return torch.sigmoid(ratio2 * self.fc2(x)).squeeze(-1)

    def loss(self, confidences: torch.Tensor, labels: Sequence[Any]) -> dict[str, torch.Tensor]:
        """The IoU regression loss over the real proposals of the batch (padding rows left out)."""
        predicted, reference = [], []
        for row, label in zip(confidences, labels):
            table = proposals_of(label)
            predicted.append(row[:len(table)])
            reference.append(torch.as_tensor(table.match_iou, dtype=row.dtype))
        iou_loss = proposal_iou_loss(torch.cat(predicted), torch.cat(reference).to(confidences.device),
                                     high_threshold=self.high_iou_threshold, low_threshold=self.low_iou_threshold,
                                     ratio_medium=self.u_ratio_m, ratio_low=self.u_ratio_l)
        return {"loss": iou_loss}

    def proposals(self, confidences: torch.Tensor, labels: Sequence[Any]) -> list[np.ndarray]:
        """Per video, ``[N, 3]`` (start_s, end_s, score) after soft-NMS: a proposal scores its
        confidence times its start and end probabilities."""
        results = []
        for row, label in zip(confidences.detach().float().cpu().numpy(), labels):
            table = proposals_of(label)
            confidence = row[:len(table)].astype(np.float64)
            score = confidence * table.tmin_score * table.tmax_score
            candidates = np.stack([table.tmin, table.tmax, table.tmin_score, table.tmax_score, confidence, score],
                                  axis=1)
            results.append(post_process(candidates, label, soft_nms_alpha=self.soft_nms_alpha,
                                        soft_nms_low_threshold=self.soft_nms_low_threshold,
                                        soft_nms_high_threshold=self.soft_nms_high_threshold,
                                        post_process_top_k=self.post_process_top_k,
                                        feature_extraction_interval=self.feature_extraction_interval))
        return results
