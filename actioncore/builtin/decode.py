"""The ``decode`` pipeline step: read the sampled frames from the sample's open video."""
from __future__ import annotations

import numpy as np

from ..data.deferred import DeferredFrames, Overlap
from ..data.sample import VideoSample
from ..errors import ConfigError


class Decode:
    """Read ``sample.frame_indices`` (row-major) into uint8 ``sample.frames`` ``[N, H, W, C]``.

    The decoder is the one chosen in ``data.decoder``; the dataset opens the video with it
    before the pipeline runs. In a pipeline the read waits until pixels are needed, so that the
    resizes, crops and flips in between are applied as the frames are decoded; ``overlap``
    says whether that may decode on a helper thread while resampling on this one: ``"auto"``
    where other processes leave a core to spare (``actioncore.data.spare_cores``), ``"on"``
    always, ``"off"`` never. The frames are the same either way.
    """

    needs_pixels = False

    def __init__(self, *, overlap: Overlap = "auto") -> None:
        if overlap not in ("auto", "on", "off"):
            raise ConfigError(f"decode: overlap must be 'auto', 'on' or 'off', not {overlap!r}")
        self.overlap = overlap

    def __call__(self, sample: VideoSample) -> VideoSample:
        sample.frames = sample.reader.read(self._indices(sample))
        return sample

    def defer(self, sample: VideoSample) -> VideoSample:
        """As a call, but leaves the read to the pipeline (see ``actioncore.data.deferred``)."""
        sample.frames = DeferredFrames(sample.reader, self._indices(sample), self.overlap)
        return sample

    @staticmethod
    def _indices(sample: VideoSample) -> np.ndarray:
        if sample.frame_indices is None:
            raise ConfigError("pipeline: 'decode' needs a sampling step before it "
                              "(sample_frames, dense_sample_frames, ...)")
        if sample.reader is None:
            raise ConfigError("pipeline: 'decode' runs outside a dataset (no open video)")
        return sample.frame_indices.reshape(-1) + sample.meta.get("frame_offset", 0)

    def __repr__(self) -> str:
        return "Decode()" if self.overlap == "auto" else f"Decode(overlap={self.overlap!r})"
