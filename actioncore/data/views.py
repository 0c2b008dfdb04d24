"""A second, strongly augmented view of each clip, made from its finished weak view.

FixMatch-style training needs two views of one clip that share the sampled frames, the crop and
the flip, the strong one adding photometric, geometric or temporal noise. A split's
``strong_pipeline`` is therefore applied to a deep copy of the weak view taken just before the
weak pipeline's first ``format_shape``; the weak pipeline's remaining steps (``format_shape``
and whatever follows) then finish both views, so the strong steps see ``[N, H, W, 3]`` frames
as every pixel step does, and both views reach the model in the same layout. This is what
MMAction2's ``UnlabeledRawframeDataset`` does with its weak, strong and format pipelines.

The strong view's randomness is a pure function of the weak sample's generator (seeded per
``(seed, epoch, index)`` by :class:`~actioncore.data.dataset.ClipDataset`), so both views are
reproducible and a resumed run sees the same strong views.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from ..builtin.transforms import FormatShape
from .pipeline import Pipeline, Step
from .sample import VideoSample

STRONG_VIEW = "strong_view"
"""The ``VideoSample.meta`` key holding the strong view (a :class:`VideoSample`)."""


def split_at_format(steps: Sequence[Step]) -> tuple[list[Step], list[Step]]:
    """The steps before the first ``format_shape``, and that step with everything after it."""
    steps = list(steps)
    at = next((i for i, step in enumerate(steps) if isinstance(step, FormatShape)), len(steps))
    return steps[:at], steps[at:]


class ViewsPipeline(Pipeline):
    """The weak pipeline, plus ``strong`` steps on a copy of its result (``meta["strong_view"]``)."""

    def __init__(self, weak: Sequence[Step], strong: Sequence[Step]):
        super().__init__(weak)
        head, tail = split_at_format(weak)
        self.head = Pipeline(head)
        self.tail = Pipeline(tail)
        self.strong = Pipeline([*strong, *tail])

    def __call__(self, sample: VideoSample) -> VideoSample:
        sample = self.head(sample)
        reader, sample.reader = sample.reader, None  # an open file is not copied
        strong = copy.deepcopy(sample)
        sample.reader = reader
        strong.rng = np.random.default_rng(int(sample.rng.integers(2**63)))
        strong = self.strong(strong)
        sample = self.tail(sample)
        sample.meta[STRONG_VIEW] = strong
        return sample

    def __repr__(self) -> str:
        return f"ViewsPipeline(weak={list(self.steps)!r}, strong={list(self.strong.steps)!r})"
