"""PoseC3D steps: compact crop, resize, crops, flip, heatmaps and their layout."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from actioncore.sdk import ConfigError
from actioncore_pose.geometry import PoseCenterCrop, PoseCompact, PoseFlip, PoseRandomResizedCrop, PoseResize
from actioncore_pose.heatmaps import FormatHeatmap, GeneratePoseTarget, draw_heatmaps
from actioncore_pose.sampling import PoseDecode


def test_pose_compact_crops_a_padded_box_around_all_joints(pose_sample):
    kp = np.zeros((2, 2, 17, 2), np.float32)
    kp[0, 0, :2] = [[100, 50], [140, 90]]
    kp[1, 1, :1] = [[120, 70]]
    state = PoseCompact(padding=0.25)(pose_sample(kp, img_shape=(480, 640))).meta["pose"]
    # box x 100..140, y 50..90, grown by 25 %: x 95..145, y 45..95
    assert state.img_shape == (50, 50)
    np.testing.assert_allclose(state.keypoint[0, 0, :2], [[5, 5], [45, 45]])
    np.testing.assert_allclose(state.keypoint[1, 1, 0], [25, 25])
    assert np.all(state.keypoint[0, 0, 2:] == 0)  # missing joints stay missing


def test_pose_compact_hw_ratio_and_small_boxes(pose_sample):
    kp = np.zeros((1, 1, 17, 2), np.float32)
    kp[0, 0, :2] = [[100, 50], [180, 70]]  # 80 wide, 20 high
    state = PoseCompact(padding=0.0, hw_ratio=1.0)(pose_sample(kp, img_shape=(480, 640))).meta["pose"]
    assert state.img_shape == (80, 80)
    tiny = np.zeros((1, 1, 17, 2), np.float32)
    tiny[0, 0, :2] = [[100, 50], [105, 90]]
    assert PoseCompact()(pose_sample(tiny, img_shape=(480, 640))).meta["pose"].img_shape == (480, 640)


def test_resize_and_center_crop_move_keypoints(pose_sample):
    kp = np.array([[[[100, 40], [0, 0]]]], np.float32)
    sample = PoseResize(scale=(-1, 64))(pose_sample(kp, img_shape=(80, 200)))
    state = sample.meta["pose"]
    assert state.img_shape == (64, 160)
    np.testing.assert_allclose(state.keypoint[0, 0], [[80, 32], [0, 0]])
    state = PoseCenterCrop(crop_size=64)(sample).meta["pose"]
    assert state.img_shape == (64, 64)
    np.testing.assert_allclose(state.keypoint[0, 0], [[32, 32], [-48, 0]])  # missing joints move too (MMAction2)


def test_random_resized_crop_keeps_keypoints_on_the_same_content(pose_sample):
    kp = np.array([[[[60, 30]]]], np.float32)
    sample = pose_sample(kp, img_shape=(100, 100))
    state = PoseRandomResizedCrop(area_range=(0.5, 0.5), aspect_ratio_range=(1.0, 1.0))(sample).meta["pose"]
    h, w = state.img_shape
    assert (h, w) == (71, 71)
    x0, y0 = 60 - state.keypoint[0, 0, 0, 0], 30 - state.keypoint[0, 0, 0, 1]
    assert 0 <= x0 <= 29 and 0 <= y0 <= 29 and x0 == int(x0)


def test_flip_mirrors_x_and_swaps_left_and_right(pose_sample):
    kp = np.zeros((1, 1, 17, 2), np.float32)
    kp[0, 0, 5] = [10, 20]   # left shoulder
    kp[0, 0, 6] = [30, 20]   # right shoulder
    score = np.zeros((1, 1, 17), np.float32)
    score[0, 0, 5], score[0, 0, 6] = 0.9, 0.4
    sample = PoseFlip(flip_ratio=1.0, flip_label_map={4: 5})(pose_sample(kp, score, img_shape=(50, 100), label=4))
    state = sample.meta["pose"]
    np.testing.assert_allclose(state.keypoint[0, 0, 5], [70, 20])  # the old right shoulder, mirrored
    np.testing.assert_allclose(state.keypoint[0, 0, 6], [90, 20])
    assert state.keypoint_score[0, 0, 5] == pytest.approx(0.4) and np.all(state.keypoint[0, 0, 0] == 0)
    assert sample.label == 5 and sample.meta["flip"]
    assert not PoseFlip(flip_ratio=0.0)(pose_sample(kp, score)).meta["flip"]


def test_keypoint_heatmap_peaks_at_the_joint_with_the_score():
    kp = np.zeros((2, 1, 3, 2), np.float32)
    kp[0, 0] = [[5, 7], [10.5, 3], [0, 0]]
    kp[1, 0] = [[12, 12], [0, 0], [0, 0]]
    score = np.array([[[0.8, 1.0, 0.0]], [[0.5, 0.0, 0.0]]], np.float32)
    ((_, maps),) = draw_heatmaps(kp, score, height=16, width=16, sigma=0.6)
    assert maps.shape == (1, 3, 16, 16)
    assert maps[0, 0, 7, 5] == pytest.approx(0.8) and maps[0, 0, 12, 12] == pytest.approx(0.5)  # persons merged
    assert np.unravel_index(maps[0, 0].argmax(), (16, 16)) == (7, 5)
    assert maps[0, 1, 3, 10] == pytest.approx(np.exp(-0.25 / 0.72))  # half a pixel off the centre
    assert maps[0, 0, 7, 7] == 0 and maps[0, 0, 7, 6] > 0  # nothing from int(mu + 3 sigma) + 1 on
    assert np.all(maps[0, 2] == 0)  # score 0: nothing drawn


def test_limb_heatmap_follows_the_segment():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    kp[0, 0, 5], kp[0, 0, 7] = [2, 8], [12, 8]  # left shoulder -> left elbow: COCO limb 5
    score = np.zeros((1, 1, 17), np.float32)
    score[0, 0, [5, 7]] = [1.0, 0.6]
    ((_, maps),) = draw_heatmaps(kp, score, height=16, width=16, sigma=0.6, with_kp=False, limbs=[(5, 7)])
    assert np.allclose(maps[0, 0, 8, 2:13], 0.6)  # min of the two scores along the whole segment
    assert maps[0, 0, 9, 7] == pytest.approx(0.6 * np.exp(-1 / 0.72), rel=1e-6) and maps[0, 0, 8, 14] == 0


def heatmap_sample(pose_sample, **options):
    kp = np.zeros((1, 4, 17, 2), np.float32)
    kp[0, :, 1] = [3, 4]    # left eye
    kp[0, :, 2] = [9, 4]    # right eye
    score = np.zeros((1, 4, 17), np.float32)
    score[0, :, 1:3] = 1.0
    sample = PoseDecode()(pose_sample(kp, score, img_shape=(8, 12)))
    sample.num_clips, sample.clip_len = 2, 2
    return GeneratePoseTarget(**options)(sample)


def test_double_adds_the_mirrored_view_with_channels_swapped(pose_sample):
    sample = heatmap_sample(pose_sample, double=True, dtype="float32")
    maps = sample.frames
    assert tuple(maps.shape) == (8, 17, 8, 12) and sample.num_crops == 2
    direct, mirrored = maps[:4], maps[4:]
    assert torch.equal(mirrored[:, 1], direct[:, 2].flip(-1))  # new left eye = old right eye, mirrored
    assert torch.equal(mirrored[:, 2], direct[:, 1].flip(-1))
    assert direct[0, 1, 4, 3] == 1.0 and mirrored[0, 1, 4, 12 - 1 - 9] == 1.0


def test_uint8_heatmaps_record_their_scale_and_format_as_volumes(pose_sample):
    sample = heatmap_sample(pose_sample)
    assert sample.frames.dtype == torch.uint8 and sample.frames.max() == 255
    assert sample.meta["normalize"] == {"mean": (0.0,), "std": (255.0,), "to_bgr": False}
    precise = heatmap_sample(pose_sample, dtype="float32").frames
    assert (sample.frames.float() / 255 - precise).abs().max() <= 1 / 510
    flat = sample.frames.clone()
    volume = FormatHeatmap()(sample).frames
    assert tuple(volume.shape) == (2, 17, 2, 8, 12)  # [clips, K, T, H, W]
    assert torch.equal(volume[1, :, 0], flat[2]) and torch.equal(volume[0, :, 1], flat[1])


def test_heatmap_steps_check_their_order_and_options(pose_sample):
    with pytest.raises(ValueError, match="with_kp and with_limb"):
        GeneratePoseTarget(with_kp=False, with_limb=False)
    with pytest.raises(ConfigError, match="needs generate_pose_target"):
        FormatHeatmap()(pose_sample(np.zeros((1, 2, 17, 2))))
    with pytest.raises(ConfigError, match="after uniform_sample_frames and pose_decode"):
        GeneratePoseTarget()(pose_sample(np.zeros((1, 2, 17, 2))))


def test_both_keypoints_and_limbs_get_their_own_channels(pose_sample):
    sample = heatmap_sample(pose_sample, with_limb=True, double=True)
    assert sample.frames.shape[1] == 17 + 17
    # limb 1 (nose - right eye) starts at the nose (0, 0, score 0): nothing drawn; eyes only as keypoints
    assert sample.frames[0, :17].sum() > 0
