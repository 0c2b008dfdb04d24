"""Per-clip features to a fixed number of steps: MMAction2's ActivityNet feature post-processing.

``pool_feature`` of ``tools/data/activitynet/activitynet_feature_postprocessing.py``, followed
exactly: the ``T`` feature rows are a piecewise-linear function of time (``scipy``'s ``interp1d``
over ``0..T-1``); the span ``[eps, T - 1 - eps]`` is cut into ``num_steps`` equal anchors, each
sampled at ``num_sample_bins`` points from its start and the samples averaged (``mean``) or
max-pooled. A single row is repeated. The CSV is the ``csv_mean_100`` layout the BMN/BSN
``activitynet`` dataset reads: a header ``f0,f1,...`` and one row per step, 4 decimals.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy.interpolate import interp1d

EPS = 1e-4
NUM_STEPS = 100
NUM_SAMPLE_BINS = 3


def pool_feature(data: np.ndarray, *, num_steps: int = NUM_STEPS, num_sample_bins: int = NUM_SAMPLE_BINS,
                 pool_type: str = "mean") -> np.ndarray:
    """``[T, C]`` -> ``[num_steps, C]`` (MMAction2's ``pool_feature``)."""
    if pool_type not in ("mean", "max"):
        raise ValueError(f"pool_type must be 'mean' or 'max', got {pool_type!r}")
    if len(data) == 1:
        return np.concatenate([data] * num_steps)
    f = interp1d(np.arange(len(data)), data, axis=0)
    start, end = EPS, len(data) - 1 - EPS
    anchor = (end - start) / num_steps
    steps = []
    ptr = start
    for _ in range(num_steps):
        samples = f([ptr + i / num_sample_bins * anchor for i in range(num_sample_bins)])
        steps.append(samples.mean(axis=0) if pool_type == "mean" else samples.max(axis=0))
        ptr += anchor
    return np.stack(steps)


def write_feature_csv(path: str | os.PathLike[str], features: np.ndarray) -> None:
    """``f0,...,f{C-1}`` then one ``%.4f`` row per step, as the post-processing script writes them."""
    header = ",".join(f"f{i}" for i in range(features.shape[1]))
    rows = "\n".join(",".join(f"{x:.4f}" for x in row) for row in features.tolist())
    Path(path).write_text(header + "\n" + rows, encoding="utf-8")
