"""Audio-feature data: MMAction2's ``AudioDataset`` list, ``LoadAudioFeature``, ``AudioFeatureSelector``
and ``FormatAudioShape``, as a dataset, a decoder and two pipeline steps.

A list line is ``path.npy TOTAL_FRAMES LABEL``: the spectrogram that ``actioncore data
audio-features`` wrote for a video, and the video's frame count (the raw-frame list's lines, the
suffix ``.npy`` added). A clip is chosen in video frames (``sample_frames``, 64x1x1 in the
configs) and mapped onto spectrogram rows by position in time: rows ``round((first + 1) / TOTAL *
rows)`` to ``round((last + 1) / TOTAL * rows)``, then cut or zero-padded to ``fixed_length`` (128,
MMAction2's default, which the configs keep) rows. The model input is float32
``[clips, 1, fixed_length, 80]`` (``format_audio_shape``, MMAction2's ``NCTF``).

Videos without sound have no ``.npy``: MMAction2 feeds 640 x 80 zeros (``pad_method='zero'``) in
their place. Here a missing file is a :class:`DataError` naming it unless the decoder is told
``missing = "zero"`` (or ``"random"``), which the example configs do to train as MMAction2 does.
"""
from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
import torch

from actioncore.sdk import ConfigError, DataError, Transform
from actioncore.sdk.data import VideoSample
from actioncore_lists import RawframeList

MISSING_SHAPE = (640, 80)
"""What MMAction2's ``LoadAudioFeature`` substitutes for a missing feature file (10 s of 80 mels)."""

class AudioFeatureList(RawframeList):
    """MMAction2's ``AudioDataset`` list: ``path.npy TOTAL_FRAMES LABEL`` per line, paths joined to ``root``."""

    default_decoder = "audio_feature"


class AudioFeatureReader:
    """An open spectrogram: ``features`` float32 ``[rows, mels]``; the kernel's reader protocol.

    ``num_frames`` is the row count (about 62.5 per second against a video's 25-30 frames), so the
    list's TOTAL_FRAMES stays the sampling range; only a sound track shorter than about half the
    video gives fewer rows than frames, which ``actioncore data check`` reports and the dataset
    samples within (MMAction2 would map the clip onto the rows anyway).
    """

    fps = float("nan")
    channels = 1

    def __init__(self, path: str, features: np.ndarray, *, missing: bool = False):
        self.path = path
        self.features = features
        self.missing = missing
        self.num_frames, self.width = features.shape
        self.height = 1

    def read(self, indices: Any) -> torch.Tensor:
        """Rows ``indices`` of the spectrogram as float32 ``[N, mels]`` (for data checks)."""
        wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = wanted[(wanted < 0) | (wanted >= self.features.shape[0])]
        if bad.size:
            raise DataError(f"{self.path}: row {int(bad[0])} is out of range; the spectrogram has "
                            f"{self.features.shape[0]} rows", path=self.path)
        return torch.from_numpy(np.ascontiguousarray(self.features[wanted]))

    def close(self) -> None:
        pass

    def __enter__(self) -> AudioFeatureReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AudioFeatureDecoder:
    """Opens ``.npy`` spectrograms (``data.decoder = "audio_feature"``); MMAction2's ``LoadAudioFeature``.

    :param missing: what a missing file gives: ``"error"`` (a DataError naming it, the default),
        ``"zero"`` or ``"random"`` (MMAction2's ``pad_method``: 640 x 80 zeros or uniform [0, 1)).
    """

    def __init__(self, *, missing: Literal["error", "zero", "random"] = "error"):
        if missing not in ("error", "zero", "random"):
            raise ConfigError(f"audio_feature decoder: missing must be 'error', 'zero' or 'random', got {missing!r}")
        self.missing = missing

    def open(self, source: str | os.PathLike[str]) -> AudioFeatureReader:
        path = os.fspath(source)
        if not os.path.isfile(path):
            if self.missing == "error":
                raise DataError(f"{path}: no audio feature file (write it with 'actioncore data audio-features'; "
                                "decoder missing = \"zero\" feeds silence instead, as MMAction2 does)", path=path)
            filler = np.zeros(MISSING_SHAPE, np.float32) if self.missing == "zero" else \
                np.random.rand(*MISSING_SHAPE).astype(np.float32)
            return AudioFeatureReader(path, filler, missing=True)
        try:
            features = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: not a readable .npy file: {exc}", path=path) from None
        if features.ndim != 2 or features.shape[0] == 0:
            raise DataError(f"{path}: audio features must be [frames, mels], got shape {features.shape}", path=path)
        return AudioFeatureReader(path, features.astype(np.float32, copy=False))

    def __repr__(self) -> str:
        return f"AudioFeatureDecoder(missing={self.missing!r})"


@attrs.define
class AudioFeatureSelector:
    """MMAction2's ``AudioFeatureSelector``: each sampled clip's spectrogram rows, ``fixed_length`` of them.

    Sets ``sample.frames`` to float32 ``[num_clips, fixed_length, mels]``.
    """

    needs_pixels: ClassVar[bool] = False
    fixed_length: int = 128

    def __attrs_post_init__(self) -> None:
        if self.fixed_length < 1:
            raise ValueError(f"audio_feature_selector fixed_length must be positive, got {self.fixed_length}")

    def __call__(self, sample: VideoSample) -> VideoSample:
        if sample.frame_indices is None:
            raise ConfigError("pipeline: 'audio_feature_selector' needs a sampling step before it (sample_frames)")
        features = getattr(sample.reader, "features", None)
        if features is None:
            raise ConfigError("pipeline: 'audio_feature_selector' needs the audio_feature decoder "
                              "(data.decoder = \"audio_feature\")")
        rows, total = features.shape[0], sample.num_frames
        clips = np.zeros((sample.frame_indices.shape[0], self.fixed_length, features.shape[1]), np.float32)
        for k, inds in enumerate(sample.frame_indices):
            start = max(0, int(round((int(inds[0]) + 1) / total * rows)))
            end = min(rows, int(round((int(inds[-1]) + 1) / total * rows)))
            crop = features[start:end][:self.fixed_length]
            clips[k, :len(crop)] = crop
        sample.frames = torch.from_numpy(clips)
        return sample


@attrs.define
class FormatAudioShape:
    """MMAction2's ``FormatAudioShape`` (``NCTF``): ``[clips, T, F]`` -> float32 ``[clips, 1, T, F]``."""

    needs_pixels: ClassVar[bool] = False
    input_format: Literal["NCTF"] = "NCTF"

    def __attrs_post_init__(self) -> None:
        if self.input_format != "NCTF":
            raise ValueError(f"format_audio_shape input_format must be 'NCTF', got {self.input_format!r}")

    def __call__(self, sample: VideoSample) -> VideoSample:
        if not isinstance(sample.frames, torch.Tensor) or sample.frames.dim() != 3:
            raise ConfigError("pipeline: 'format_audio_shape' needs 'audio_feature_selector' before it")
        sample.frames = sample.frames.unsqueeze(1)
        sample.meta["input_format"] = self.input_format
        sample.meta["input_shape"] = tuple(sample.frames.shape)
        return sample


TRANSFORMS: dict[str, type[Transform]] = {
    "audio_feature_selector": AudioFeatureSelector,
    "format_audio_shape": FormatAudioShape,
}
