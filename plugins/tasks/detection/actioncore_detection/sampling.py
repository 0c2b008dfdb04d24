"""Pipeline steps of AVA: the clip around a keyframe, and MMAction2's random short-side rescale."""
from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np

from actioncore.sdk.data import VideoSample
from actioncore.sdk import ConfigError, DataError

KEYFRAME = "ava_keyframe"
"""``sample.meta`` key of the :class:`~actioncore_detection.targets.Keyframe` being prepared."""


def ava_frame_indices(timestamp: int, *, fps: int, timestamp_start: int, start_index: int, clip_len: int,
                      frame_interval: int, shot_end: int, offsets: np.ndarray | None = None) -> np.ndarray:
    """0-based frame indices of the clip around ``timestamp``, MMAction2 1.2.0's arithmetic.

    MMAction2 centres the clip on ``fps * (timestamp - timestamp_start) + start_index``, takes
    ``clip_len`` frames ``frame_interval`` apart (``clip_len // 2`` of them before the centre),
    adds the random ``offsets`` in training, clips to ``[0, shot_end - 1]`` and adds
    ``start_index`` once more to name the frame file. A frame folder whose first file has number
    ``start_index`` (``img_00001.jpg``) therefore gives the 0-based index returned here.
    """
    center = fps * (timestamp - timestamp_start) + start_index
    start = center - (clip_len // 2) * frame_interval
    indices = start + frame_interval * np.arange(clip_len, dtype=np.int64)
    if offsets is not None:
        indices = indices + offsets
    return np.clip(indices, 0, shot_end - 1)


@attrs.frozen(kw_only=True)
class SampleAVAFrames:
    """``clip_len`` frames ``frame_interval`` apart around the sample's keyframe (``sample_ava_frames``).

    In training (``test_mode = false``) each index moves by a random offset in
    ``[-frame_interval // 2, (frame_interval + 1) // 2)``, as MMAction2. Needs the ``ava``
    dataset (which knows the keyframe's timestamp, the frame rate and ``timestamp_start``).
    A keyframe whose centre frame is not in the video raises :class:`DataError`; indices near
    the ends are clipped to the frames that exist. Outside an ``ava`` dataset (``actioncore
    info`` probing the pipeline on a blank video) the clip is centred on the middle frame.
    """

    needs_pixels: ClassVar[bool] = False
    clip_len: int
    frame_interval: int = 2
    test_mode: bool = False

    def __attrs_post_init__(self) -> None:
        if self.clip_len < 1 or self.frame_interval < 1:
            raise ValueError(f"sample_ava_frames: clip_len ({self.clip_len}) and frame_interval "
                             f"({self.frame_interval}) must be positive")

    def __call__(self, sample: VideoSample) -> VideoSample:
        keyframe = sample.meta.get(KEYFRAME)
        if keyframe is None:
            return self._middle(sample)
        clock = keyframe.clock
        center = clock.fps * (keyframe.timestamp - clock.timestamp_start) + clock.start_index
        available = sample.num_frames if sample.num_frames else 0
        shot_end = min(clock.shot_frames, available) if clock.shot_frames else available
        if not 0 <= center < shot_end:
            raise DataError(f"{sample.source}: timestamp {keyframe.timestamp} of {keyframe.video_id} has no frames: "
                            f"its keyframe is frame {center} (0-based; fps {clock.fps}, timestamp_start "
                            f"{clock.timestamp_start}) but the video has {available}", path=sample.source)
        offsets = None
        if not self.test_mode:
            offsets = sample.rng.integers(-self.frame_interval // 2, (self.frame_interval + 1) // 2,
                                          size=self.clip_len)
        indices = ava_frame_indices(keyframe.timestamp, fps=clock.fps, timestamp_start=clock.timestamp_start,
                                    start_index=clock.start_index, clip_len=self.clip_len,
                                    frame_interval=self.frame_interval, shot_end=shot_end, offsets=offsets)
        return self._store(sample, indices)

    def _store(self, sample: VideoSample, indices: np.ndarray) -> VideoSample:
        sample.frame_indices = indices[None, :]
        sample.num_clips, sample.clip_len = 1, self.clip_len
        return sample

    def _middle(self, sample: VideoSample) -> VideoSample:
        if not sample.num_frames:
            raise ConfigError("sample_ava_frames: no keyframe and no frame count to centre a clip on")
        indices = ava_frame_indices(sample.num_frames // 2, fps=1, timestamp_start=0, start_index=0,
                                    clip_len=self.clip_len, frame_interval=self.frame_interval,
                                    shot_end=sample.num_frames)
        return self._store(sample, indices)
