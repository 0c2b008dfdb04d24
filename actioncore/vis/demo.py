"""``actioncore demo``: run a trained model on a video, a stream or a record and draw what it says.

What a demo reads and draws is the task's word, through its adapter's ``demo(model, request)``
(as ``export`` asks for ``export_example``): recognition draws the top-k labels on the frames
(one prediction for the clip, or per sliding window with ``--long``), skeleton draws the pose
with its label, detection draws boxes. The kernel builds the model, loads the checkpoint and hands
over a :class:`DemoRequest`; the tasks share the drawing (:mod:`actioncore.vis.draw`), the video
input and output (:mod:`actioncore.vis.video`) and the sliding window (:mod:`actioncore.vis.windows`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ..api import _adapter_with_weights
from ..config.experiment import Experiment
from ..errors import ConfigError


@attrs.frozen(kw_only=True)
class DemoRequest:
    """What the user asked ``actioncore demo`` for; the task's adapter reads what applies to it."""

    source: str
    """A video file, a stream FFmpeg opens (URL, device, ``file:`` URL), or a task's record."""
    out: Path = attrs.field(converter=Path)
    """``.mp4`` or ``.gif``; with ``long``, the timeline goes to the same name with ``.json``."""
    topk: int = 5
    long: bool = False
    """Score in sliding windows (implied for a live source, which has no whole to score)."""
    window: float = 2.0
    """Seconds per window."""
    stride: float = 1.0
    """Seconds between window starts."""
    max_seconds: float | None = None
    """Read no more than this much of the input."""
    input_format: str | None = None
    """FFmpeg's input format (``v4l2``, ``mpegts``, ...), as ``ffmpeg -f``."""
    class_names: list[str] | None = None
    """Names of the model's outputs when the experiment has none (a zoo entry's class list)."""

    def __attrs_post_init__(self) -> None:
        if self.topk < 1:
            raise ConfigError(f"--topk must be at least 1, got {self.topk}")

    @property
    def timeline_path(self) -> Path:
        """``OUT.mp4`` -> ``OUT.json``."""
        return self.out.with_suffix(".json")


def demo_experiment(experiment: Experiment, checkpoint: str | Path, request: DemoRequest) -> dict[str, Any]:
    """Build the experiment's model with the checkpoint's weights and run its task's demo; returns
    the task's report (``out``, ``frames``, ``fps``, predictions or ``timeline``...)."""
    adapter, model = _adapter_with_weights(
        experiment, checkpoint, step="demo", no_model="the experiment has no [model] to run a demo with",
        missing="has no demo: its adapter has no demo(model, request)")
    return adapter.demo(model, request)
