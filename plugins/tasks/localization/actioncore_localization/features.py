"""Per-video feature files: the ``localization_features`` decoder and ``load_localization_feature``.

A feature file holds a ``T x C`` matrix, one row per feature step: a CSV with one header line
(MMAction2's ``csv_mean_100``) or an ``.npy`` array. The kernel's dataset opens each sample's file
through the experiment's decoder, so feature files get the same bad-input handling
(``data.on_error``) as videos; the pipeline step then checks the width and rescales the length.
"""
from __future__ import annotations

import os
from types import TracebackType

import numpy as np
import torch

from actioncore.sdk import DataError


def read_feature_file(path: str | os.PathLike[str]) -> np.ndarray:
    """float32 ``[T, C]`` from a ``.csv`` (header line first) or ``.npy`` file."""
    path = str(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: feature file not found", path=path)
    try:
        if path.endswith(".npy"):
            features = np.load(path, allow_pickle=False)
        else:
            features = np.loadtxt(path, dtype=np.float32, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the feature file: {exc}", path=path) from None
    if features.ndim != 2 or features.shape[0] == 0 or features.shape[1] == 0:
        raise DataError(f"{path}: feature file must hold a T x C matrix, got shape {list(features.shape)}",
                        path=path)
    if features.dtype.kind not in "fiu":
        raise DataError(f"{path}: feature file holds {features.dtype} values, not numbers", path=path)
    features = features.astype(np.float32, copy=False)
    if not np.isfinite(features).all():
        raise DataError(f"{path}: feature file holds NaN or infinite values", path=path)
    return features


def rescale_features(features: np.ndarray, temporal_dim: int) -> np.ndarray:
    """``[T, C]`` to ``[temporal_dim, C]`` by linear interpolation over the same time span.

    Step i of the output sits at the centre of its 1/temporal_dim slice of the video, sampled
    from the input steps' centres (ActivityNet's ``process_feature`` resampling, done on the fly).
    """
    steps = features.shape[0]
    if steps == temporal_dim:
        return features
    centres_out = (np.arange(temporal_dim) + 0.5) * steps / temporal_dim - 0.5
    positions = np.clip(centres_out, 0.0, steps - 1.0)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, steps - 1)
    weight = (positions - low)[:, None].astype(np.float32)
    return (features[low] * (1.0 - weight) + features[high] * weight).astype(np.float32)


class FeatureReader:
    """An opened feature file; ``num_frames`` is its number of feature steps."""

    def __init__(self, path: str):
        self.path = path
        self.features = read_feature_file(path)
        self.num_frames = self.features.shape[0]
        self.fps = float("nan")

    def read(self, indices) -> torch.Tensor:
        """float32 ``[N, C]`` rows ``indices`` (what ``actioncore data check`` probes)."""
        wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.num_frames)]
        if bad.size:
            raise DataError(f"{self.path}: feature step {int(bad[0])} is out of range; the file has "
                            f"{self.num_frames} steps", path=self.path)
        return torch.from_numpy(self.features[wanted])

    def close(self) -> None:
        self.features = None

    def __enter__(self) -> FeatureReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class LocalizationFeatureDecoder:
    """The decoder of feature-file datasets (``data.decoder = "localization_features"``)."""

    def open(self, path: str | os.PathLike[str]) -> FeatureReader:
        return FeatureReader(str(path))

    def __repr__(self) -> str:
        return "LocalizationFeatureDecoder()"


class LoadLocalizationFeature:
    """Pipeline step: the sample's features as float32 ``[feat_dim, temporal_dim]`` in ``frames``.

    A file of another width raises :class:`DataError` naming it. Without a feature file (the
    blank stand-in that ``actioncore info`` probes with) the step gives zeros of that shape.
    """

    needs_pixels = False

    def __init__(self, *, temporal_dim: int = 100, feat_dim: int = 400):
        if temporal_dim < 1 or feat_dim < 1:
            raise ValueError(f"temporal_dim and feat_dim must be positive, got {temporal_dim}, {feat_dim}")
        self.temporal_dim = temporal_dim
        self.feat_dim = feat_dim

    def __call__(self, sample):
        reader = sample.reader
        if not isinstance(reader, FeatureReader):
            sample.frames = torch.zeros(self.feat_dim, self.temporal_dim)
            return sample
        features = reader.features
        if features.shape[1] != self.feat_dim:
            raise DataError(f"{reader.path}: feature file has {features.shape[1]} columns per step, "
                            f"expected feat_dim = {self.feat_dim} (shape {list(features.shape)})",
                            path=reader.path)
        sample.frames = torch.from_numpy(np.ascontiguousarray(rescale_features(features, self.temporal_dim).T))
        return sample

    def __repr__(self) -> str:
        return f"LoadLocalizationFeature(temporal_dim={self.temporal_dim}, feat_dim={self.feat_dim})"
