"""Run clip transforms in order, resampling pending geometry only where pixels are needed."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np

from actioncore.data.deferred import DeferredFrames, Layout
from actioncore.data.sample import VideoSample
from actioncore.errors import ConfigError


@runtime_checkable
class Step(Protocol):
    """One pipeline step. ``needs_pixels = False`` promises it only reads or edits
    ``sample.geometry`` and metadata (and ``sample.frames.shape``), so pending geometry, and a
    pending read, may stay pending across it.

    A step may also offer ``defer(sample)``, which the pipeline calls instead: it may leave
    ``sample.frames`` a :class:`~actioncore.data.deferred.DeferredFrames`, read by the pipeline
    together with the geometry pending when pixels are needed (``decode`` does). A step that
    needs pixels may offer ``layout(sample)``: the memory order of the frame axes it would make
    (``format_shape`` does), for such a read to write the frames in."""

    needs_pixels: bool

    def __call__(self, sample: VideoSample) -> VideoSample: ...


def materialize(sample: VideoSample, layout: Layout | None = None) -> VideoSample:
    """Apply ``sample.geometry`` to ``sample.frames`` in one resample and clear it; frames whose
    read was deferred are read now, and resampled as they are decoded.

    Person boxes and the person mask, when the sample has them, go through the same geometry
    (the same rounded region and flips), so they stay aligned with the pixels. ``layout`` is the
    memory order the next step wants (see :meth:`DeferredFrames.render`): a hint, which only
    renders that decode as they resample follow.
    """
    geometry = sample.geometry
    if isinstance(sample.frames, DeferredFrames):
        sample.frames = sample.frames.render(geometry, flow=sample.modality == "Flow", layout=layout)
    elif geometry is not None:
        sample.frames = geometry.apply(sample.frames, flow=sample.modality == "Flow")
    if geometry is not None:
        if sample.boxes is not None:
            sample.boxes = [geometry.transform_boxes(b).astype(np.float32) for b in sample.boxes]
        if sample.person_mask is not None:
            sample.person_mask = geometry.apply(sample.person_mask[..., None])[..., 0]
        sample.geometry = None
    return sample


class Pipeline:
    """Steps applied in order; geometry is materialised before each step that needs pixels and
    at the end, so a chain of resizes, crops and flips costs one resample.

    Steps without a ``needs_pixels`` attribute (from older plugins) are treated as needing pixels,
    which is always correct, only slower.
    """

    def __init__(self, steps: Iterable[Step]):
        self.steps = tuple(steps)
        for position, step in enumerate(self.steps):
            if getattr(step, "batch_step", False):
                raise ConfigError(f"pipeline step {position} ({step!r}) is a batch step: it mixes whole batches, "
                                  "so it goes in the task's batch_steps, not in a sample pipeline")

    def __call__(self, sample: VideoSample) -> VideoSample:
        for step in self.steps:
            if getattr(step, "needs_pixels", True):
                wants = getattr(step, "layout", None)
                layout = wants(sample) if wants is not None and sample.geometry is not None else None
                materialize(sample, layout)
            defer = getattr(step, "defer", None)
            sample = step(sample) if defer is None else defer(sample)
        return materialize(sample)

    def __repr__(self) -> str:
        return f"Pipeline({list(self.steps)!r})"
