"""GCN inputs: feature streams (``gen_ske_feat``) and the final ``format_gcn_input``.

Streams, MMAction2 1.2.0's ``GenSkeFeat`` names and arithmetic:

``j``  joints: coordinates, plus the score as a last channel for 2D layouts;
``b``  bones: ``joint[v] - joint[w]`` for each ``(v, w)`` of the layout's ``bone_pairs``;
``jm`` joint motion: ``j[t + 1] - j[t]``, zero at the last frame;
``bm`` bone motion: the same for ``b``.

For 2D layouts with a score channel, a bone's or a motion's score is the mean of the two
scores it comes from instead of their difference. Streams are concatenated on the channel axis
in the order listed (2s-AGCN trains one model per stream and fuses their scores).
"""
from __future__ import annotations

from typing import ClassVar, Literal

import attrs
import numpy as np
import torch

from actioncore.sdk.data import VideoSample
from actioncore.sdk import ConfigError

from .layouts import Layout, get_layout
from .state import PoseState, pose_of, require_decoded

FEATURES = ("j", "b", "jm", "bm")
_LONG_NAMES = {"joint": "j", "bone": "b", "joint_motion": "jm", "bone_motion": "bm"}


def _has_score_channel(layout: Layout, channels: int) -> bool:
    return channels == 3 and layout.coords == 2


def joint_to_bone(keypoint: np.ndarray, layout: Layout) -> np.ndarray:
    """float32 bones ``[M, T, V, C]`` of joints ``[M, T, V, C]`` (C 2 or 3)."""
    bone = np.zeros(keypoint.shape, dtype=np.float32)
    child = np.array([v for v, _ in layout.bone_pairs])
    parent = np.array([w for _, w in layout.bone_pairs])
    bone[..., child, :] = keypoint[..., child, :] - keypoint[..., parent, :]
    if _has_score_channel(layout, keypoint.shape[-1]):
        bone[..., child, 2] = (keypoint[..., child, 2] + keypoint[..., parent, 2]) / 2
    return bone


def to_motion(data: np.ndarray, layout: Layout) -> np.ndarray:
    """Frame differences ``data[:, t + 1] - data[:, t]``; the last frame's motion is zero."""
    motion = np.zeros_like(data)
    motion[:, :-1] = np.diff(data, axis=1)
    if _has_score_channel(layout, data.shape[-1]):
        motion[:, :-1, :, 2] = (data[:, :-1, :, 2] + data[:, 1:, :, 2]) / 2
    return motion


def _resolve_layout(state: PoseState, layout: str | None, step: str, source: str) -> Layout:
    name = layout or state.layout
    if name is None:
        raise ConfigError(f"{step}: {source} names no skeleton layout; set the step's layout")
    return get_layout(name)


@attrs.frozen(kw_only=True)
class GenSkeFeat:
    """Build the feature streams ``feats`` (``j``, ``b``, ``jm``, ``bm``) and concatenate them.

    ``layout`` defaults to the record's. A 2D record's scores join the joints as channel 2
    first (so ``j`` of COCO keypoints has 3 channels); 3D layouts must not carry scores.
    """

    needs_pixels: ClassVar[bool] = False
    feats: tuple[str, ...] = ("j",)
    layout: str | None = None

    def __attrs_post_init__(self) -> None:
        names = tuple(_LONG_NAMES.get(f, f) for f in self.feats)
        unknown = [f for f in names if f not in FEATURES]
        if unknown or not names:
            raise ValueError(f"gen_ske_feat feats {list(self.feats)}: each must be one of "
                             f"{', '.join(FEATURES)} (or {', '.join(_LONG_NAMES)})")
        object.__setattr__(self, "feats", names)
        if self.layout is not None:
            get_layout(self.layout)

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "gen_ske_feat", self.layout)
        if state.features:
            raise ConfigError("gen_ske_feat appears twice in the pipeline")
        layout = _resolve_layout(state, self.layout, "gen_ske_feat", sample.source)
        joints = state.keypoint
        if state.keypoint_score is not None:
            if layout.coords != 2 or joints.shape[-1] != 2:
                raise ConfigError(f"gen_ske_feat: {sample.source} has keypoint scores with "
                                  f"{joints.shape[-1]}-D coordinates in layout {layout.name!r}; only "
                                  "2D keypoints carry scores")
            joints = np.concatenate([joints, state.keypoint_score[..., None]], axis=-1)
        streams = {"j": joints}
        if "b" in self.feats or "bm" in self.feats:
            streams["b"] = joint_to_bone(joints, layout)
        if "jm" in self.feats:
            streams["jm"] = to_motion(streams["j"], layout)
        if "bm" in self.feats:
            streams["bm"] = to_motion(streams["b"], layout)
        state.keypoint = np.concatenate([streams[f] for f in self.feats], axis=-1)
        state.keypoint_score = None
        state.features = self.feats
        return sample


@attrs.frozen(kw_only=True)
class FormatGCNInput:
    """The model input: float32 ``[num_clips, num_person, clip_len, V, C]`` in ``sample.frames``.

    Scores not merged by ``gen_ske_feat`` join as the last channel. Samples with fewer persons
    are padded with zeros (``mode = "loop"`` repeats a single person instead), extra persons are
    dropped (records list the most confident first).
    """

    needs_pixels: ClassVar[bool] = False
    num_person: int = 2
    mode: Literal["zero", "loop"] = "zero"

    def __attrs_post_init__(self) -> None:
        if self.num_person < 1:
            raise ValueError(f"format_gcn_input num_person must be positive, got {self.num_person}")
        if self.mode not in ("zero", "loop"):
            raise ValueError(f"format_gcn_input mode must be 'zero' or 'loop', got {self.mode!r}")

    def __call__(self, sample: VideoSample) -> VideoSample:
        state = pose_of(sample, "format_gcn_input")
        require_decoded(state, "format_gcn_input")
        keypoint = state.keypoint
        if state.keypoint_score is not None:
            keypoint = np.concatenate([keypoint, state.keypoint_score[..., None]], axis=-1)
        persons = keypoint.shape[0]
        if persons < self.num_person:
            pad = np.zeros((self.num_person - persons, *keypoint.shape[1:]), dtype=keypoint.dtype)
            keypoint = np.concatenate([keypoint, pad], axis=0)
            if self.mode == "loop" and persons == 1:
                keypoint[1:] = keypoint[0]
        keypoint = keypoint[:self.num_person]
        m, t, v, c = keypoint.shape
        clips = sample.num_clips
        if t % clips:
            raise ConfigError(f"format_gcn_input: {t} frames do not split into {clips} clips")
        out = keypoint.reshape(m, clips, t // clips, v, c).transpose(1, 0, 2, 3, 4)
        sample.frames = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
        sample.clip_len = t // clips
        sample.meta["input_format"] = "NMTVC"
        sample.meta["input_shape"] = tuple(sample.frames.shape)
        sample.meta.pop("pose", None)
        return sample
