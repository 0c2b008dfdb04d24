"""Running a pipeline without data: the shapes a model gets, for ``info`` and ``bench model``."""
from __future__ import annotations

import numpy as np

from ..config.build import instantiate
from ..config.experiment import Experiment
from ..errors import ConfigError
from ..plugin.registry import ComponentRegistry
from .reader import VideoReader
from .pipeline import Pipeline
from .sample import VideoSample


PROBE = "probe"
"""``sample.meta[PROBE]`` is True for the blank sample :func:`probe` runs through a pipeline: steps
that read side files (person boxes, scores) give empty values instead, so ``info`` needs no data."""


class BlankReader(VideoReader):
    """A stand-in video of mid-grey frames (Kinetics-like 340x256, 300 frames by default)."""

    def __init__(self, *, num_frames: int = 300, height: int = 256, width: int = 340, fps: float = 30.0,
                 channels: int = 3):
        self.path, self.num_frames, self.height, self.width, self.fps = "<blank>", num_frames, height, width, fps
        self.channels = channels
        """3 (RGB), or 2 (x, y) to stand in for an optical-flow folder."""

    def _read_unique(self, indices: np.ndarray) -> np.ndarray:
        return np.full((len(indices), self.height, self.width, self.channels), 128, dtype=np.uint8)

    def close(self) -> None:
        pass


def split_pipeline(experiment: Experiment, split: str, registry: ComponentRegistry) -> Pipeline:
    """The pipeline of ``data.<split>`` built on its own, without reading the annotation file."""
    spec = getattr(experiment.data, split, None)
    if spec is None or "pipeline" not in spec.params:
        raise ConfigError(f"data.{split}: no pipeline to take the input shape from")
    return Pipeline(instantiate(spec.params["pipeline"], registry, f"data.{split}.pipeline"))


def probe(pipeline: Pipeline, *, seed: int = 0, **reader: int) -> VideoSample:
    """The sample ``pipeline`` makes from a blank video (``channels=2``: a blank flow folder)."""
    blank = BlankReader(**reader)
    sample = VideoSample(source=blank.path, label=0, index=0, num_frames=blank.num_frames, fps=blank.fps,
                         reader=blank, rng=np.random.default_rng(seed), meta={PROBE: True},
                         modality="Flow" if blank.channels == 2 else "RGB")
    sample = pipeline(sample)
    sample.reader = None
    return sample
