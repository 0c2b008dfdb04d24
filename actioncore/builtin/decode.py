"""The ``decode`` pipeline step: read the sampled frames from the sample's open video."""
from __future__ import annotations

from ..errors import ConfigError
from ..data.sample import VideoSample


class Decode:
    """Read ``sample.frame_indices`` (row-major) into uint8 ``sample.frames`` ``[N, H, W, C]``.

    The decoder is the one chosen in ``data.decoder``; the dataset opens the video with it
    before the pipeline runs, so this step has no parameters of its own.
    """

    needs_pixels = False

    def __call__(self, sample: VideoSample) -> VideoSample:
        if sample.frame_indices is None:
            raise ConfigError("pipeline: 'decode' needs a sampling step before it "
                              "(sample_frames, dense_sample_frames, ...)")
        if sample.reader is None:
            raise ConfigError("pipeline: 'decode' runs outside a dataset (no open video)")
        indices = sample.frame_indices.reshape(-1) + sample.meta.get("frame_offset", 0)
        sample.frames = sample.reader.read(indices)
        return sample

    def __repr__(self) -> str:
        return "Decode()"
