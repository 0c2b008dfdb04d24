"""Test-time views: how many clips the inference pipeline samples from each video."""
from __future__ import annotations

import attrs

from ..errors import ConfigError
from .experiment import Experiment


def inference_split_name(experiment: Experiment) -> str:
    """The split whose pipeline ``infer`` uses: ``test``, else ``val`` (as the task plugins do)."""
    return "test" if experiment.data.test is not None else "val"


def with_num_clips(experiment: Experiment, num_clips: int, *, split: str) -> Experiment:
    """A copy of ``experiment`` whose ``data.<split>`` pipeline samples ``num_clips`` clips per video.

    Every pipeline step with a ``num_clips`` parameter (``sample_frames`` and the other samplers)
    takes the new value; the model scores each clip and averages them (``average_clips``), as
    MMAction2's test configs do with ``num_clips = 10``. For a 2D model sampling segments (TSN's
    ``1x1x8``) ``num_clips`` is the number of segments, so a model that needs a fixed number of
    segments (TSM) only accepts its own.
    """
    if isinstance(num_clips, bool) or not isinstance(num_clips, int) or num_clips < 1:
        raise ConfigError(f"--clips must be an integer >= 1, got {num_clips!r}")
    spec = getattr(experiment.data, split, None)
    if spec is None or "pipeline" not in spec.params:
        raise ConfigError(f"--clips: data.{split} has no pipeline to sample clips with")
    steps = list(spec.params["pipeline"])
    samplers = [i for i, step in enumerate(steps) if "num_clips" in getattr(step, "params", {})]
    if not samplers:
        raise ConfigError(f"--clips: no step of data.{split}.pipeline takes num_clips "
                          f"({', '.join(getattr(s, 'type', '?') for s in steps)})")
    for i in samplers:
        steps[i] = attrs.evolve(steps[i], params={**steps[i].params, "num_clips": num_clips})
    split_spec = attrs.evolve(spec, params={**spec.params, "pipeline": steps})
    return attrs.evolve(experiment, data=attrs.evolve(experiment.data, **{split: split_spec}))


__all__ = ["inference_split_name", "with_num_clips"]
