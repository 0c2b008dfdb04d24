"""Frame-index samplers: MMAction2 1.2.0 and PyTorchVideo arithmetic pinned on hand-computed cases.

Our indices are 0-based (MMAction2's ``frame_inds`` minus ``start_index``). Random draws come
from a scripted stand-in for ``numpy.random.Generator`` so the expected arrays are exact.
"""
from __future__ import annotations

import numpy as np
import pytest

from actioncore.builtin import samplers as sampling
from actioncore.data.sample import VideoSample
from actioncore.builtin.samplers import (
    DenseSampleFrames,
    SampleFrames,
    TimeClipSampler,
    UntrimmedSampleFrames,
)
from actioncore.errors import ConfigError, DataError


class ScriptedRng:
    """Returns the given draws in order and records each request."""

    def __init__(self, *draws):
        self.draws = [np.asarray(d) for d in draws]
        self.calls: list[tuple] = []

    def integers(self, low, high=None, size=None):
        self.calls.append(("integers", low, high, size))
        return self.draws.pop(0)

    def random(self, size=None):
        self.calls.append(("random", size))
        return self.draws.pop(0)


def run(step, num_frames, *, rng=None, fps=None, start_index=0):
    sample = VideoSample(
        source="videos/clip.mp4",
        num_frames=num_frames,
        fps=fps,
        start_index=start_index,
        rng=rng if rng is not None else ScriptedRng(),
    )
    out = step(sample)
    assert out is sample
    assert out.frame_indices.dtype == np.int64
    assert out.frame_indices.shape == (out.num_clips, out.clip_len)
    return out


# --- SampleFrames, training ---------------------------------------------------------------


def test_train_tsn_draws_one_frame_per_segment():
    # 1x1x3 on 300 frames: span 1, segments of (300 - 1 + 1) // 3 = 100 frames at 0, 100, 200;
    # draws 5, 50, 99 -> 5, 150, 299.
    rng = ScriptedRng([5, 50, 99])
    out = run(SampleFrames(clip_len=1, num_clips=3), 300, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[5], [150], [299]])
    assert rng.calls == [("integers", 100, None, 3)]
    assert (out.num_clips, out.clip_len) == (3, 1)


def test_train_32x2x1_single_segment():
    # span 32 * 2 = 64, one segment of 300 - 64 + 1 = 237 starts; draw 17 -> 17, 19, ..., 79.
    rng = ScriptedRng([17])
    out = run(SampleFrames(clip_len=32, frame_interval=2), 300, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [list(range(17, 80, 2))])
    assert rng.calls == [("integers", 237, None, 1)]


def test_train_more_clips_than_room_draws_sorted_starts():
    # 4x1x8 on 10 frames: (10 - 4 + 1) // 8 = 0, but 10 > max(8, 4), so 8 starts are drawn in
    # [0, 7) and sorted: [6, 0, 3, 3, 1, 5, 2, 0] -> [0, 0, 1, 2, 3, 3, 5, 6].
    rng = ScriptedRng([6, 0, 3, 3, 1, 5, 2, 0])
    out = run(SampleFrames(clip_len=4, num_clips=8), 10, rng=rng)
    expected = [
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        [1, 2, 3, 4],
        [2, 3, 4, 5],
        [3, 4, 5, 6],
        [3, 4, 5, 6],
        [5, 6, 7, 8],
        [6, 7, 8, 9],
    ]
    np.testing.assert_array_equal(out.frame_indices, expected)
    assert rng.calls == [("integers", 7, None, 8)]


def test_train_as_many_frames_as_clips_spreads_rounded_starts():
    # 2x1x8 on 8 frames: (8 - 2 + 1) // 8 = 0 and 8 > max(8, 2) fails, so offsets are
    # around(i * 7 / 8) = around(0, .875, 1.75, 2.625, 3.5, 4.375, 5.25, 6.125) = 0, 1, 2, 3, 4, 4, 5, 6.
    rng = ScriptedRng()
    out = run(SampleFrames(clip_len=2, num_clips=8), 8, rng=rng)
    np.testing.assert_array_equal(out.frame_indices[:, 0], [0, 1, 2, 3, 4, 4, 5, 6])
    np.testing.assert_array_equal(out.frame_indices[:, 1], [1, 2, 3, 4, 5, 5, 6, 7])
    assert rng.calls == []


def test_train_fewer_frames_than_clips_rounds_half_to_even():
    # 1x1x8 on 6 frames: 6 // 8 = 0 and 6 <= 8, so offsets are around(i * 6 / 8) =
    # around([0, .75, 1.5, 2.25, 3, 3.75, 4.5, 5.25]) = [0, 1, 2, 2, 3, 4, 4, 5] (1.5 -> 2, 4.5 -> 4).
    rng = ScriptedRng()
    out = run(SampleFrames(clip_len=1, num_clips=8), 6, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[0], [1], [2], [2], [3], [4], [4], [5]])
    assert rng.calls == []


SHORT_LOOP = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 44,
              46, 48, 0, 2, 4, 6, 8, 10, 12]
SHORT_REPEAT = SHORT_LOOP[:25] + [48] * 7


@pytest.mark.parametrize("opt, expected", [("loop", SHORT_LOOP), ("repeat_last", SHORT_REPEAT)])
def test_train_short_video_starts_at_zero(opt, expected):
    # 32x2x1 on 50 frames: 50 - 64 + 1 < 0, so the clip starts at 0 and reads 0, 2, ..., 62;
    # loop wraps 50..62 to 0..12, repeat_last repeats the last valid index 48.
    out = run(SampleFrames(clip_len=32, frame_interval=2, out_of_bound_opt=opt), 50)
    np.testing.assert_array_equal(out.frame_indices, [expected])


def test_train_keep_tail_frames_uses_fractional_segments():
    # 4x1x3 on 100 frames: segments of (100 - 4 + 1) / 3 = 32.333 at 0, 32.333, 64.667;
    # draws .5, .25, .999 scale to 16.167, 8.083, 32.301 -> trunc(16.167, 40.417, 96.968) = 16, 40, 96.
    rng = ScriptedRng([0.5, 0.25, 0.999])
    out = run(SampleFrames(clip_len=4, num_clips=3, keep_tail_frames=True), 100, rng=rng)
    np.testing.assert_array_equal(
        out.frame_indices, [[16, 17, 18, 19], [40, 41, 42, 43], [96, 97, 98, 99]]
    )
    assert rng.calls == [("random", 3)]


def test_train_keep_tail_frames_short_video_starts_at_zero():
    # 4x1x1 on 3 frames: 3 > 4 - 1 fails, offset 0; 0, 1, 2, 3 loops to 0, 1, 2, 0.
    out = run(SampleFrames(clip_len=4, keep_tail_frames=True), 3)
    np.testing.assert_array_equal(out.frame_indices, [[0, 1, 2, 0]])


def test_train_temporal_jitter_adds_per_frame_draws():
    # 4x4x1 test mode on 300 frames: span 3 * 4 + 1 = 13, centred at (300 - 13) // 2 = 143
    # -> 143, 147, 151, 155; jitter draws in [0, 4): 0, 3, 1, 2 -> 143, 150, 152, 157.
    rng = ScriptedRng([0, 3, 1, 2])
    step = SampleFrames(clip_len=4, frame_interval=4, test_mode=True, temporal_jitter=True)
    out = run(step, 300, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[143, 150, 152, 157]])
    assert rng.calls == [("integers", 4, None, 4)]


def test_train_with_real_generator_stays_in_its_segment_and_is_reproducible():
    # 1x1x8 on 300 frames: segment i covers [37 i, 37 i + 36] (300 // 8 = 37).
    step = SampleFrames(clip_len=1, num_clips=8)
    lows = np.arange(8) * 37
    for seed in range(50):
        first = run(step, 300, rng=np.random.default_rng(seed)).frame_indices[:, 0]
        again = run(step, 300, rng=np.random.default_rng(seed)).frame_indices[:, 0]
        np.testing.assert_array_equal(first, again)
        assert np.all(first >= lows) and np.all(first <= lows + 36)


# --- SampleFrames, test mode --------------------------------------------------------------


def test_test_tsn_1x1x3_takes_segment_centres():
    # 300 / 3 = 100 per segment, centres 50, 150, 250.
    out = run(SampleFrames(clip_len=1, num_clips=3, test_mode=True), 300)
    np.testing.assert_array_equal(out.frame_indices, [[50], [150], [250]])


def test_test_tsn_1x1x8_truncates_fractional_centres():
    # 300 / 8 = 37.5: centres 18.75 + 37.5 i = 18.75, 56.25, 93.75, 131.25, 168.75, 206.25,
    # 243.75, 281.25, truncated.
    out = run(SampleFrames(clip_len=1, num_clips=8, test_mode=True), 300)
    np.testing.assert_array_equal(out.frame_indices[:, 0], [18, 56, 93, 131, 168, 206, 243, 281])


def test_test_tsn_short_video():
    # 25 / 8 = 3.125: centres 1.5625 + 3.125 i = 1.56, 4.69, 7.81, 10.94, 14.06, 17.19, 20.31, 23.44.
    out = run(SampleFrames(clip_len=1, num_clips=8, test_mode=True), 25)
    np.testing.assert_array_equal(out.frame_indices[:, 0], [1, 4, 7, 10, 14, 17, 20, 23])


def test_test_twice_sample_adds_segment_starts():
    # TSM accurate test, 1x1x8 on 300 frames: the centres above, then the segment starts
    # 37.5 i = 0, 37.5, 75, 112.5, 150, 187.5, 225, 262.5, truncated: 16 clips.
    out = run(SampleFrames(clip_len=1, num_clips=8, test_mode=True, twice_sample=True), 300)
    np.testing.assert_array_equal(
        out.frame_indices[:, 0],
        [18, 56, 93, 131, 168, 206, 243, 281, 0, 37, 75, 112, 150, 187, 225, 262],
    )
    assert out.num_clips == 16


def test_test_32x2x1_centres_the_clip():
    # span (32 - 1) * 2 + 1 = 63, max offset 300 - 63 = 237, start 237 // 2 = 118 -> 118 .. 180.
    out = run(SampleFrames(clip_len=32, frame_interval=2, test_mode=True), 300)
    np.testing.assert_array_equal(out.frame_indices, [list(range(118, 181, 2))])


def test_test_32x2x10_spreads_clips_from_first_to_last_start():
    # spacing 237 / 9 = 26.333: round(26.333 i) = 0, 26, 53, 79, 105, 132, 158, 184, 211, 237.
    out = run(SampleFrames(clip_len=32, frame_interval=2, num_clips=10, test_mode=True), 300)
    np.testing.assert_array_equal(
        out.frame_indices[:, 0], [0, 26, 53, 79, 105, 132, 158, 184, 211, 237]
    )
    np.testing.assert_array_equal(out.frame_indices[-1], list(range(237, 300, 2)))


@pytest.mark.parametrize(
    "opt, expected",
    [("loop", [0, 4, 8, 12, 16, 0, 4, 8]), ("repeat_last", [0, 4, 8, 12, 16, 16, 16, 16])],
)
def test_test_short_video_out_of_bound(opt, expected):
    # 8x4x1 on 20 frames: span 29 > 20, offset 0 -> 0, 4, ..., 28.
    step = SampleFrames(clip_len=8, frame_interval=4, test_mode=True, out_of_bound_opt=opt)
    np.testing.assert_array_equal(run(step, 20).frame_indices, [expected])


def test_test_twice_sample_3d_spreads_all_clips():
    # 8x8x3 twice: span 57, max offset 243, 6 clips spaced 243 / 5 = 48.6:
    # round(0, 48.6, 97.2, 145.8, 194.4, 243) = 0, 49, 97, 146, 194, 243 (MMAction2 0.x; 1.2.0's
    # spacing 243 / 2 runs past the end).
    step = SampleFrames(
        clip_len=8, frame_interval=8, num_clips=3, test_mode=True, twice_sample=True
    )
    out = run(step, 300)
    np.testing.assert_array_equal(out.frame_indices[:, 0], [0, 49, 97, 146, 194, 243])


def test_start_index_is_left_to_the_decoder():
    out = run(SampleFrames(clip_len=1, num_clips=3, test_mode=True), 300, start_index=1)
    np.testing.assert_array_equal(out.frame_indices, [[50], [150], [250]])
    assert out.start_index == 1


# --- SampleFrames with target_fps ---------------------------------------------------------


def test_target_fps_test_mode_rescales_the_span():
    # 8x4 at 60 fps toward 30 fps: span max(1, 32 * 60 / 30) = 64; steps linspace(0, 63, 8) =
    # 0, 9, ..., 63. One clip: (300 - 64) // 2 = 118. Three clips on 301 frames: the spacing
    # floor(237 / 2) = 118 is floored before use, so the last clip starts at 236, not 237.
    one = SampleFrames(clip_len=8, frame_interval=4, test_mode=True, target_fps=30)
    np.testing.assert_array_equal(
        run(one, 300, fps=60.0).frame_indices, [[118, 127, 136, 145, 154, 163, 172, 181]]
    )
    three = SampleFrames(clip_len=8, frame_interval=4, num_clips=3, test_mode=True, target_fps=30)
    out = run(three, 301, fps=60.0)
    np.testing.assert_array_equal(out.frame_indices[:, 0], [0, 118, 236])
    np.testing.assert_array_equal(out.frame_indices[2], [236, 245, 254, 263, 272, 281, 290, 299])


def test_target_fps_training_draws_in_the_rescaled_room():
    # span 64 as above, room 300 - 64 + 1 = 237; draw 10 -> 10 + (0, 9, ..., 63).
    rng = ScriptedRng([10])
    step = SampleFrames(clip_len=8, frame_interval=4, target_fps=30)
    out = run(step, 300, fps=60.0, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[10, 19, 28, 37, 46, 55, 64, 73]])
    assert rng.calls == [("integers", 237, None, 1)]


def test_target_fps_without_fps_keeps_the_rate_but_spaces_by_linspace():
    # ratio 1: span 32, start (300 - 32) // 2 = 134; linspace(0, 31, 8) = 0, 4.43, 8.86, 13.29,
    # 17.71, 22.14, 26.57, 31 -> 0, 4, 8, 13, 17, 22, 26, 31.
    step = SampleFrames(clip_len=8, frame_interval=4, test_mode=True, target_fps=30)
    np.testing.assert_array_equal(
        run(step, 300).frame_indices, [[134, 138, 142, 147, 151, 156, 160, 165]]
    )


# --- DenseSampleFrames --------------------------------------------------------------------


def test_dense_test_mode_ten_window_positions():
    # 8x8x1 on 300 frames: sample_position 1 + 300 - 64 = 237, window starts
    # linspace(0, 236, 10) as int = 0, 26, 52, 78, 104, 131, 157, 183, 209, 236 (236 / 9 = 26.22).
    out = run(DenseSampleFrames(clip_len=8, frame_interval=8, test_mode=True), 300)
    np.testing.assert_array_equal(
        out.frame_indices[:, 0], [0, 26, 52, 78, 104, 131, 157, 183, 209, 236]
    )
    np.testing.assert_array_equal(out.frame_indices[-1], [236, 244, 252, 260, 268, 276, 284, 292])
    assert out.num_clips == 10


def test_dense_training_packs_clips_in_one_window():
    # 8x8x2 on 300 frames: window start drawn in [0, 237 - 1), clips 64 // 2 = 32 apart; draw 100.
    rng = ScriptedRng(100)
    out = run(DenseSampleFrames(clip_len=8, frame_interval=8, num_clips=2), 300, rng=rng)
    np.testing.assert_array_equal(
        out.frame_indices,
        [[100, 108, 116, 124, 132, 140, 148, 156], [132, 140, 148, 156, 164, 172, 180, 188]],
    )
    assert rng.calls == [("integers", 0, 236, None)]


@pytest.mark.parametrize("opt", ["loop", "repeat_last"])
def test_dense_short_video_wraps_offsets_and_frames(opt):
    # 40 frames < 64: window at 0 without a draw. 1x1x4: offsets 0, 16, 32, 48 % 40 -> 8; the
    # offsets wrap before out-of-bound handling, so repeat_last gives 8 as well.
    rng = ScriptedRng()
    out = run(DenseSampleFrames(clip_len=1, num_clips=4, out_of_bound_opt=opt), 40, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[0], [16], [32], [8]])
    assert rng.calls == []
    # 8x8x1: 0, 8, ..., 56 loops past 40 to 0, 8, 16.
    out = run(DenseSampleFrames(clip_len=8, frame_interval=8), 40)
    np.testing.assert_array_equal(out.frame_indices, [[0, 8, 16, 24, 32, 0, 8, 16]])


# --- UntrimmedSampleFrames ----------------------------------------------------------------


def test_untrimmed_centres_every_clip_interval():
    # centres range(16 // 2, 50, 16) = 8, 24, 40.
    out = run(UntrimmedSampleFrames(), 50)
    np.testing.assert_array_equal(out.frame_indices, [[8], [24], [40]])
    assert (out.num_clips, out.clip_len) == (3, 1)


def test_untrimmed_clips_around_centre_are_clamped():
    # clip_len 4, frame_interval 2: steps range(-4, 4, 2) = -4, -2, 0, 2; centres 2, 6 in 10 frames.
    step = UntrimmedSampleFrames(clip_len=4, clip_interval=4, frame_interval=2)
    np.testing.assert_array_equal(run(step, 10).frame_indices, [[0, 0, 2, 4], [2, 4, 6, 8]])
    # clip_len 5, frame_interval 3: steps -6 .. 6 around centre 15 of 20 frames, 21 -> 19.
    step = UntrimmedSampleFrames(clip_len=5, clip_interval=30, frame_interval=3)
    np.testing.assert_array_equal(run(step, 20).frame_indices, [[9, 12, 15, 18, 19]])


def test_untrimmed_video_shorter_than_first_centre():
    with pytest.raises(DataError, match="videos/clip.mp4") as err:
        run(UntrimmedSampleFrames(clip_interval=16), 8)
    assert err.value.path == "videos/clip.mp4"


# --- TimeClipSampler ----------------------------------------------------------------------


def test_time_test_mode_places_clips_at_fractions_of_the_free_time():
    # 300 frames at 30 fps = 10 s; 2 s clips start at i * 8 / 3 s = 0, 8/3, 16/3 -> frames 0, 80,
    # 160; each window holds 60 frames, subsampled at trunc(linspace(0, 59, 8)) =
    # trunc(0, 8.43, 16.86, 25.29, 33.71, 42.14, 50.57, 59).
    step = TimeClipSampler(clip_duration=2.0, num_frames_per_clip=8, num_clips=3, test_mode=True)
    out = run(step, 300, fps=30.0)
    np.testing.assert_array_equal(
        out.frame_indices,
        [
            [0, 8, 16, 25, 33, 42, 50, 59],
            [80, 88, 96, 105, 113, 122, 130, 139],
            [160, 168, 176, 185, 193, 202, 210, 219],
        ],
    )
    assert (out.num_clips, out.clip_len) == (3, 8)


def test_time_training_draws_the_start_uniformly():
    # draw 0.25 of the 8 s of free time: start 2 s = frame 60, window 60 .. 119.
    rng = ScriptedRng([0.25])
    out = run(TimeClipSampler(clip_duration=2.0, num_frames_per_clip=8), 300, fps=30.0, rng=rng)
    np.testing.assert_array_equal(out.frame_indices, [[60, 68, 76, 85, 93, 102, 110, 119]])
    assert rng.calls == [("random", 1)]


def test_time_window_end_is_exclusive():
    # 2.56 s at 25 fps is exactly 64 frames: frame 64 (shown at 2.56 s) is outside; 16 samples at
    # trunc(63 i / 15) = 0, 4, 8, 12, 16, 21, 25, 29, 33, 37, 42, 46, 50, 54, 58, 63.
    step = TimeClipSampler(clip_duration=2.56, num_frames_per_clip=16, test_mode=True)
    np.testing.assert_array_equal(
        run(step, 100, fps=25.0).frame_indices,
        [[0, 4, 8, 12, 16, 21, 25, 29, 33, 37, 42, 46, 50, 54, 58, 63]],
    )


def test_time_video_shorter_than_clip():
    # 30 frames at 30 fps = 1 s < 2 s: window 0 .. 29, trunc(linspace(0, 29, 8)) =
    # trunc(0, 4.14, 8.29, 12.43, 16.57, 20.71, 24.86, 29).
    step = TimeClipSampler(clip_duration=2.0, num_frames_per_clip=8)
    out = run(step, 30, fps=30.0, rng=ScriptedRng([0.7]))
    np.testing.assert_array_equal(out.frame_indices, [[0, 4, 8, 12, 16, 20, 24, 29]])


def test_uniform_temporal_subsample_repeats_when_too_few_frames():
    # trunc(linspace(0, 4, 8)) = trunc(0, .57, 1.14, 1.71, 2.29, 2.86, 3.43, 4).
    np.testing.assert_array_equal(sampling.uniform_temporal_subsample(5, 8), [0, 0, 1, 1, 2, 2, 3, 4])
    # PyTorchVideo's float32 linspace puts sample 7 of linspace(0, 2, 15) at 0.99999994: frame 0.
    assert sampling.uniform_temporal_subsample(3, 15)[7] == 0


def test_time_sampler_needs_fps():
    with pytest.raises(DataError, match="videos/clip.mp4") as err:
        run(TimeClipSampler(clip_duration=2.0, num_frames_per_clip=8), 300, fps=None)
    assert err.value.path == "videos/clip.mp4"


# --- errors and configuration -------------------------------------------------------------

ALL_STEPS = [
    SampleFrames(clip_len=1, num_clips=3),
    SampleFrames(clip_len=8, test_mode=True),
    DenseSampleFrames(clip_len=8),
    UntrimmedSampleFrames(),
    TimeClipSampler(clip_duration=2.0, num_frames_per_clip=8),
]


@pytest.mark.parametrize("num_frames", [0, None])
@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: type(s).__name__)
def test_no_frames_is_a_data_error_naming_the_file(step, num_frames):
    with pytest.raises(DataError, match="videos/clip.mp4") as err:
        run(step, num_frames, fps=30.0)
    assert err.value.path == "videos/clip.mp4"


@pytest.mark.parametrize(
    "make",
    [
        lambda: SampleFrames(clip_len=0),
        lambda: SampleFrames(clip_len=8, frame_interval=0),
        lambda: SampleFrames(clip_len=8, out_of_bound_opt="clamp"),
        lambda: SampleFrames(clip_len=8, target_fps=0),
        lambda: DenseSampleFrames(clip_len=8, num_clips=0),
        lambda: UntrimmedSampleFrames(clip_interval=0),
        lambda: TimeClipSampler(clip_duration=0.0, num_frames_per_clip=8),
    ],
)
def test_bad_parameters_are_config_errors(make):
    with pytest.raises(ConfigError):
        make()
