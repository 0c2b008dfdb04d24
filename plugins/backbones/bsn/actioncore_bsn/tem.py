"""BSN's temporal evaluation module (TEM): per-location action, start and end probabilities."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from actioncore_localization import tem_targets_batch
from actioncore_localization import binary_logistic_regression_loss


class TEM(nn.Module):
    """Three temporal convolutions over a ``[B, tem_feat_dim, temporal_dim]`` feature sequence.

    ``conv1`` and ``conv2`` (kernel 3, ReLU) then ``conv3`` (kernel 1, sigmoid) give ``[B, 3, T]``:
    the probability that location t lies inside an action, starts one, ends one (Lin et al.,
    *BSN: Boundary Sensitive Network for Temporal Action Proposal Generation*, ECCV 2018, 3.3).
    The ``conv*_ratio`` factors scale each pre-activation as MMAction2 does (its default 0.01 on
    ``conv3`` starts every probability near 0.5). Parameter names are MMAction2's, so its
    checkpoints load unchanged (``actioncore convert mmaction2`` only drops a ``module.`` prefix).

    Training targets are made from each video's ground truth (``tem_targets_batch``: the match
    of each anchor ``[t/T, (t+1)/T)`` with the segments, their starts and their ends, boundaries
    padded by ``boundary_ratio`` x length). The loss is ``loss_weight`` x action + start + end,
    each the class-balanced logistic loss with positives above ``tem_match_threshold``.

    Evaluation writes files, not metrics: ``video_outputs`` gives MMAction2's TEM result columns
    (``action, start, end, tmin, tmax``), which the localization task saves as one CSV a video
    for the PGM step (``bsn_pgm``).
    """

    input_layout = "[batch, tem_feat_dim, temporal_dim]: per-video features rescaled to temporal_dim steps"
    export_outputs = {"probabilities": "[batch, 3, temporal_dim] action, start and end probabilities"}
    """What ``actioncore export`` names the output of ``forward`` and its input."""

    def __init__(self, *, temporal_dim: int = 100, boundary_ratio: float = 0.1, tem_feat_dim: int = 400,
                 tem_hidden_dim: int = 512, tem_match_threshold: float = 0.5, loss_weight: float = 2.0,
                 output_dim: int = 3, conv1_ratio: float = 1.0, conv2_ratio: float = 1.0,
                 conv3_ratio: float = 0.01):
        super().__init__()
        if output_dim != 3:
            raise ValueError(f"output_dim: TEM predicts action, start and end (3 channels), got {output_dim}")
        self.temporal_dim = temporal_dim
        self.boundary_ratio = boundary_ratio
        self.feat_dim = tem_feat_dim
        self.match_threshold = tem_match_threshold
        self.loss_weight = loss_weight
        self.conv_ratios = (conv1_ratio, conv2_ratio, conv3_ratio)
        self.conv1 = nn.Conv1d(tem_feat_dim, tem_hidden_dim, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(tem_hidden_dim, tem_hidden_dim, kernel_size=3, padding=1)
        self.conv3 = nn.Conv1d(tem_hidden_dim, output_dim, kernel_size=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``[B, tem_feat_dim, temporal_dim]`` features -> ``[B, 3, temporal_dim]`` action/start/end
        probabilities."""
        if features.dim() != 3 or features.shape[1] != self.feat_dim or features.shape[2] != self.temporal_dim:
            raise ValueError(f"TEM expects [B, {self.feat_dim}, {self.temporal_dim}] features "
                             f"(tem_feat_dim, temporal_dim), got {list(features.shape)}")
        ratio1, ratio2, ratio3 = self.conv_ratios
        x = F.relu(ratio1 * self.conv1(features))
        x = F.relu(ratio2 * self.conv2(x))
        return torch.sigmoid(ratio3 * self.conv3(x))

    def loss(self, probabilities: torch.Tensor, labels: Sequence[Any]) -> dict[str, torch.Tensor]:
        """The three TEM losses and their sum (``loss``) for ``[B, 3, T]`` outputs and the batch's
        ``VideoAnnotation`` labels."""
        targets = torch.stack(tem_targets_batch(labels, probabilities.shape[-1], self.boundary_ratio,
                                                device=probabilities.device), dim=1)
        parts = {}
        for channel, name in enumerate(("loss_action", "loss_start", "loss_end")):
            parts[name] = binary_logistic_regression_loss(probabilities[:, channel], targets[:, channel],
                                                          threshold=self.match_threshold)
        parts["loss_action"] = parts["loss_action"] * self.loss_weight
        parts["loss"] = parts["loss_action"] + parts["loss_start"] + parts["loss_end"]
        return parts

    def video_outputs(self, probabilities: torch.Tensor, labels: Sequence[Any]) -> list[dict[str, np.ndarray]]:
        """Per video, the columns of MMAction2's TEM result file: probabilities and anchor bounds."""
        steps = probabilities.shape[-1]
        tmin = np.arange(steps, dtype=np.float64) / steps
        tmax = (np.arange(steps, dtype=np.float64) + 1) / steps
        rows = probabilities.detach().float().cpu().numpy()
        return [{"action": video[0], "start": video[1], "end": video[2], "tmin": tmin, "tmax": tmax}
                for video in rows]
