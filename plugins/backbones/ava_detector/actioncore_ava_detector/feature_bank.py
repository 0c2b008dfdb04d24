"""The long-term feature bank of LFB (Wu et al., "Long-Term Feature Banks for Detailed Video
Understanding", CVPR 2019): every actor's pooled RoI feature, per video and per second.

A bank is made by an inference pass of a detector without LFB (the detection task's
``feature_bank`` option calls ``model.roi_features`` per batch) and saved with
:func:`torch.save` as plain lists and tensors, so that it loads with ``weights_only=True``::

    {"format": "actioncore-lfb-1",
     "video_id": [str] * K, "timestamp": LongTensor [K],
     "features": [FloatTensor [n_k, C]] * K}      # one entry per keyframe

MMAction2's ``lfb_<split>.pkl`` files (``{video_id: {timestamp: tensor or list of tensors}}``,
written by ``torch.save`` too) load the same way.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from actioncore.sdk import DataError

FORMAT = "actioncore-lfb-1"


class FeatureBank:
    """Per video, per integer second, the ``[n, C]`` RoI features stored for that keyframe."""

    def __init__(self, videos: Mapping[str, Mapping[int, torch.Tensor]] | None = None, *,
                 channels: int | None = None):
        self.videos: dict[str, dict[int, torch.Tensor]] = {}
        self.channels = channels
        for video_id, seconds in (videos or {}).items():
            for second, features in seconds.items():
                self._put(str(video_id), int(second), features)

    def _put(self, video_id: str, second: int, features: torch.Tensor) -> None:
        if features.dim() != 2:
            raise ValueError(f"feature bank: {video_id} at {second}: expected [n, C] features, "
                             f"got shape {tuple(features.shape)}")
        if self.channels is None:
            self.channels = features.shape[1]
        elif features.shape[1] != self.channels:
            raise ValueError(f"feature bank: {video_id} at {second} has {features.shape[1]} "
                             f"channels, the bank {self.channels}")
        self.videos.setdefault(video_id, {})[second] = features

    def add(self, features: torch.Tensor, meta: Iterable[Mapping[str, Any]]) -> None:
        """Append ``[R, C]`` features of R RoIs, each with its ``{"video_id", "timestamp"}``."""
        meta = list(meta)
        if len(meta) != features.shape[0]:
            raise ValueError(f"feature bank: {features.shape[0]} features but {len(meta)} meta entries")
        features = features.detach().reshape(features.shape[0], -1).cpu()
        for feature, item in zip(features, meta):
            video_id, second = str(item["video_id"]), int(item["timestamp"])
            stored = self.videos.get(video_id, {}).get(second)
            row = feature[None]
            self._put(video_id, second, row if stored is None else torch.cat([stored, row]))

    def update(self, other: FeatureBank) -> None:
        """Take every (video, second) of ``other`` (the parts written by several processes)."""
        for video_id, seconds in other.videos.items():
            for second, features in seconds.items():
                self._put(video_id, second, features)

    def __len__(self) -> int:
        return sum(len(s) for s in self.videos.values())

    def window(self, video_id: str, timestamp: int, *, window_size: int, max_per_second: int,
               random: bool = False) -> torch.Tensor:
        """``[window_size * max_per_second, C]`` features of the seconds
        ``timestamp - window_size // 2`` to ``timestamp - window_size // 2 + window_size - 1``,
        up to ``max_per_second`` from each (a random subset with ``random``, else the first ones),
        zeros where a second has fewer or none, in float32 (MMAction2's
        ``LFB.sample_long_term_features``)."""
        if self.channels is None:
            raise DataError("the feature bank is empty")
        seconds = self.videos.get(str(video_id))
        if seconds is None:
            raise DataError(f"the feature bank has no video {video_id!r} "
                            f"(it holds {len(self.videos)} videos)")
        out = torch.zeros(window_size, max_per_second, self.channels)
        start = int(timestamp) - window_size // 2
        for slot, second in enumerate(range(start, start + window_size)):
            features = seconds.get(second)
            if features is None:
                continue
            if random:
                features = features[torch.randperm(features.shape[0])]
            features = features[:max_per_second]
            out[slot, :features.shape[0]] = features
        return out.reshape(-1, self.channels)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically in the detection task's format (dtype kept as given)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted((v, t) for v, seconds in self.videos.items() for t in seconds)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"format": FORMAT, "video_id": [v for v, _ in keys],
                    "timestamp": torch.tensor([t for _, t in keys], dtype=torch.long),
                    "features": [self.videos[v][t] for v, t in keys]}, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureBank:
        """Read one of ours or an MMAction2 ``lfb_<split>.pkl``; never runs pickled code."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: feature bank not found (make it with an inference pass of "
                            f"a detector without LFB)", path=str(path))
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DataError(f"{path}: not a weights-only feature bank: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}", path=str(path)) from None
        bank = cls()
        try:
            if isinstance(data, dict) and "format" in data:
                if data["format"] != FORMAT:
                    raise ValueError(f"format {data['format']!r}, this plugin reads {FORMAT!r}")
                if not len(data["video_id"]) == len(data["timestamp"]) == len(data["features"]):
                    raise ValueError("video_id, timestamp and features differ in length")
                for video_id, second, features in zip(data["video_id"], data["timestamp"].tolist(),
                                                       data["features"]):
                    bank._put(str(video_id), int(second), features)
            elif isinstance(data, dict):  # MMAction2: {video_id: {timestamp: features}}
                for video_id, seconds in data.items():
                    for second, features in dict(seconds).items():
                        if isinstance(features, (list, tuple)):
                            features = torch.stack(list(features))
                        bank._put(str(video_id), int(second), features)
            else:
                raise ValueError(f"expected a dict, got {type(data).__name__}")
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            raise DataError(f"{path}: not a feature bank: {type(exc).__name__}: {exc}",
                            path=str(path)) from None
        return bank
