"""The pose a :class:`~actioncore.data.sample.VideoSample` carries through a pose pipeline.

Pose steps keep their working arrays in ``sample.meta["pose"]`` (a :class:`PoseState`), loaded
from the open record the first time a step asks for it. The last step (``format_gcn_input`` or
``generate_pose_target`` + ``format_heatmap``) writes the model input to ``sample.frames``, which
the kernel's collate stacks like any clip.

``actioncore info`` and ``bench model`` run a pipeline on the kernel's blank stand-in video, which
holds no pose; a step then starts from an all-zero pose of its layout (COCO-17 unless the step
names one), so the shapes the model sees are those of real data.
"""
from __future__ import annotations

import attrs
import numpy as np

from actioncore.sdk.data import VideoSample
from actioncore.sdk import ConfigError

from .layouts import get_layout

KEY = "pose"


@attrs.define(eq=False)
class PoseState:
    """Working arrays of one sample, MMAction2's ``keypoint``/``keypoint_score``/``img_shape`` keys."""

    keypoint: np.ndarray
    """float32 ``[M, T, V, C]``; after ``gen_ske_feat`` C holds the concatenated feature streams."""
    keypoint_score: np.ndarray | None
    """float32 ``[M, T, V]`` until ``gen_ske_feat`` merges it into ``keypoint`` (None for 3D data)."""
    img_shape: tuple[int, int]
    """``(height, width)`` of the coordinate frame the keypoints are in."""
    original_shape: tuple[int, int]
    layout: str | None = None
    blank: bool = False
    """A stand-in for shape probing (see the module docstring), not data."""
    decoded: bool = False
    """``pose_decode`` has applied the sampled frame indices."""
    features: tuple[str, ...] = ()
    """Streams merged by ``gen_ske_feat`` (empty before it runs)."""

    @property
    def num_frames(self) -> int:
        return int(self.keypoint.shape[1])


def blank_pose(layout: str | None, *, num_frames: int, img_shape: tuple[int, int], persons: int = 1) -> PoseState:
    """An all-zero pose of ``layout`` (COCO-17 when None), with unit scores for 2D layouts."""
    spec = get_layout(layout or "coco")
    keypoint = np.zeros((persons, num_frames, spec.num_joints, spec.coords), dtype=np.float32)
    score = np.ones(keypoint.shape[:3], dtype=np.float32) if spec.coords == 2 else None
    return PoseState(keypoint, score, img_shape, img_shape, spec.name, blank=True)


def pose_of(sample: VideoSample, step: str, layout: str | None = None, *,
            standin: str | None = None) -> PoseState:
    """The sample's pose, loaded from its open record on first use.

    ``layout`` is the layout the step works in, if it has one: it is checked against the
    record's, and decides the stand-in pose's joints when there is no record. ``standin`` only
    decides the stand-in's layout (a step that assumes NTU RGB+D joints without checking).
    """
    state = sample.meta.get(KEY)
    if state is None:
        reader = sample.reader
        if reader is not None and hasattr(reader, "pose"):
            state = reader.pose()
        elif reader is not None:  # the kernel's blank stand-in video (info, bench model)
            state = blank_pose(layout or standin, num_frames=int(reader.num_frames), img_shape=(int(reader.height), int(reader.width)))
        else:
            raise ConfigError(f"{step}: the sample has no open pose record; pose steps run inside a "
                              "pose dataset (type = \"pose_records\")")
        sample.meta[KEY] = state
    if layout is not None or (standin is not None and state.blank):
        wanted = get_layout(layout or standin).name
        if state.blank and state.layout != wanted and not state.features:
            shape = state.keypoint.shape
            state = blank_pose(wanted, num_frames=shape[1], img_shape=state.img_shape, persons=shape[0])
            sample.meta[KEY] = state
        elif layout is not None and state.layout is not None and state.layout != wanted:
            raise ConfigError(f"{step}: configured for layout {wanted!r} but {sample.source} is in "
                              f"layout {state.layout!r}")
    return state


def require_decoded(state: PoseState, step: str, decoded: bool = True) -> None:
    """Pipeline order checks with a message that says where the step belongs."""
    if decoded and not state.decoded:
        raise ConfigError(f"{step} needs the sampled frames: put it after uniform_sample_frames and pose_decode")
    if not decoded and state.decoded:
        raise ConfigError(f"{step} works on the whole sequence: put it before pose_decode")
