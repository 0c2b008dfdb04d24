"""BMN's boundary-matching layer: every (start, duration) proposal's features sampled at once.

For the proposal starting at step ``s`` and ending at step ``s + d`` (``d + 1`` steps long), the
layer samples ``num_samples`` points evenly over the proposal widened by ``boundary_ratio`` of its
length on each side. Each point is the mean of ``num_samples_per_bin`` linearly interpolated
sub-samples. All of this is one fixed ``[T, num_samples * D * S]`` weight matrix (the sample
mask), so the layer is a single matmul of the ``[B, C, T]`` features with it, giving
``[B, C, num_samples, D, S]``. Proposals that run past the video end get zero weights.

Sub-sample positions are split as MMAction2 splits them (``math.modf``: truncation towards zero),
so points a little before the first step still read it with weight one; the mask equals
MMAction2's ``_get_interp1d_mask`` up to float rounding.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def proposal_sample_weights(sample_tmin: np.ndarray, sample_tmax: np.ndarray, temporal_dim: int,
                            num_samples: int, num_samples_per_bin: int) -> np.ndarray:
    """float64 ``[P, num_samples, T]``: interpolation weights of each sample of ``P`` windows."""
    per_window = num_samples * num_samples_per_bin
    step = (sample_tmax - sample_tmin) / (per_window - 1.0)
    positions = sample_tmin[:, None] + step[:, None] * np.arange(per_window)[None, :]
    fraction, down = np.modf(positions)
    up = np.ceil(positions)
    bins = np.broadcast_to(np.arange(per_window) // num_samples_per_bin, positions.shape)
    windows = np.broadcast_to(np.arange(len(sample_tmin))[:, None], positions.shape)
    weights = np.zeros((len(sample_tmin), num_samples, temporal_dim))
    for index, weight in ((down, 1.0 - fraction), (up, fraction)):
        index = index.astype(np.int64)
        inside = (index >= 0) & (index <= temporal_dim - 1)
        np.add.at(weights, (windows[inside], bins[inside], index[inside]), weight[inside])
    return weights / num_samples_per_bin


def sample_mask(temporal_dim: int, num_samples: int, num_samples_per_bin: int,
                boundary_ratio: float) -> np.ndarray:
    """float32 ``[T, num_samples, D, S]``: weight of step t in sample n of proposal (d, s)."""
    mask = np.zeros((temporal_dim, num_samples, temporal_dim, temporal_dim), dtype=np.float32)
    for duration in range(temporal_dim):
        starts = np.arange(temporal_dim - duration, dtype=np.float64)
        length = float(duration) + 1
        tmin = starts - length * boundary_ratio
        tmax = starts + duration + length * boundary_ratio
        weights = proposal_sample_weights(tmin, tmax, temporal_dim, num_samples, num_samples_per_bin)
        mask[:, :, duration, :len(starts)] = weights.transpose(2, 1, 0)
    return mask


def valid_proposals(temporal_dim: int) -> torch.Tensor:
    """float ``[D, S]``: 1 where the proposal (duration d + 1 from start s) ends inside the video."""
    duration = torch.arange(temporal_dim)[:, None]
    start = torch.arange(temporal_dim)[None, :]
    return (start + duration < temporal_dim).float()


class BoundaryMatchingLayer(nn.Module):
    """``[B, C, T]`` features to ``[B, C, num_samples, D, S]`` proposal features."""

    def __init__(self, *, temporal_dim: int, num_samples: int, num_samples_per_bin: int, boundary_ratio: float):
        super().__init__()
        self.temporal_dim = temporal_dim
        self.num_samples = num_samples
        mask = sample_mask(temporal_dim, num_samples, num_samples_per_bin, boundary_ratio)
        # a frozen Parameter, not a buffer: MMAction2 stores it so, its checkpoints hold it under
        # this name and its published parameter count includes it
        self.sample_mask = nn.Parameter(torch.from_numpy(mask).view(temporal_dim, -1), requires_grad=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch, channels = features.shape[:2]
        out = torch.matmul(features, self.sample_mask)
        return out.reshape(batch, channels, self.num_samples, self.temporal_dim, self.temporal_dim)
