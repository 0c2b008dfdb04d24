"""Normalisation, feature streams and the GCN input on hand-made skeletons."""
from __future__ import annotations

import numpy as np
import pytest

from actioncore.sdk import ConfigError
from actioncore_pose.features import FormatGCNInput, GenSkeFeat, joint_to_bone, to_motion
from actioncore_pose.layouts import COCO, NTU_RGBD
from actioncore_pose.normalize import PreNormalize2D, PreNormalize3D, rotation_matrix
from actioncore_pose.sampling import PoseDecode


def test_pre_normalize_2d_maps_the_image_to_minus_one_one(pose_sample):
    kp = np.array([[[[0, 0], [100, 50], [200, 100], [50, 75]]]], dtype=np.float32)  # image 100 x 200 (h x w)
    state = PreNormalize2D()(pose_sample(kp, img_shape=(100, 200))).meta["pose"]
    np.testing.assert_allclose(state.keypoint[0, 0], [[-1, -1], [0, 0], [1, 1], [-0.5, 0.5]])


def _skeleton_3d(rng, frames=4):
    kp = rng.normal(0, 0.3, size=(1, frames, 25, 3)) + [0.5, 1.0, 3.0]
    return kp.astype(np.float32)


def test_pre_normalize_3d_centres_and_aligns_the_first_frame(pose_sample):
    kp = _skeleton_3d(np.random.default_rng(0))
    spine_only = PreNormalize3D(align_shoulder=False)(pose_sample(kp, layout="nturgb+d")).meta["pose"].keypoint
    spine = spine_only[0, 0, 1] - spine_only[0, 0, 0]
    np.testing.assert_allclose(spine / np.linalg.norm(spine), [0, 0, 1], atol=1e-6)  # hip -> spine along +Z
    state = PreNormalize3D()(pose_sample(kp, layout="nturgb+d")).meta["pose"]
    out = state.keypoint[0, 0]
    np.testing.assert_allclose(out[1], 0, atol=1e-6)  # spine centre at the origin
    shoulders = out[8] - out[4]
    assert abs(shoulders[1]) < 1e-6 and abs(shoulders[2]) < 1e-6 and shoulders[0] > 0  # left -> right along +X
    # a rigid motion: the distances between joints are kept in every frame
    for t in range(4):
        before = np.linalg.norm(kp[0, t, :, None] - kp[0, t, None], axis=-1)
        after = np.linalg.norm(state.keypoint[0, t, :, None] - state.keypoint[0, t, None], axis=-1)
        np.testing.assert_allclose(after, before, atol=1e-5)


def test_pre_normalize_3d_puts_the_longer_present_person_first_and_drops_its_empty_frames(pose_sample):
    rng = np.random.default_rng(1)
    kp = np.concatenate([_skeleton_3d(rng, 6), _skeleton_3d(rng, 6)])
    kp[0, :3] = 0  # person 0 in 3 frames, person 1 in all 6
    kp[1, 5] = 0   # ... now in 5: still the main one
    state = PreNormalize3D(align_spine=False, align_shoulder=False)(pose_sample(kp, layout="nturgb+d")).meta["pose"]
    assert state.keypoint.shape == (2, 5, 25, 3)
    np.testing.assert_allclose(state.keypoint[0, 0], kp[1, 0] - kp[1, 0, 1], atol=1e-6)
    assert np.all(state.keypoint[1, :3] == 0)  # the other person's missing frames stay zero


def test_rotation_matrix_is_a_rotation():
    m = rotation_matrix(np.array([0.0, 0.0, 1.0]), np.pi / 2)
    np.testing.assert_allclose(m @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(rotation_matrix(np.zeros(3), 1.0), np.eye(3))


def test_bones_on_a_hand_example():
    kp = np.zeros((1, 1, 17, 3), np.float32)
    kp[0, 0, :, 0] = np.arange(17) * 10  # x = 10 v
    kp[0, 0, :, 1] = 1
    kp[0, 0, :, 2] = np.linspace(0, 0.8, 17)  # scores
    bone = joint_to_bone(kp, COCO)
    # COCO bone 7 (left elbow) = joint 7 - joint 5; bone 0 (nose) is the root: zero
    np.testing.assert_allclose(bone[0, 0, 7], [20, 0, (kp[0, 0, 7, 2] + kp[0, 0, 5, 2]) / 2])
    np.testing.assert_allclose(bone[0, 0, 0], [0, 0, kp[0, 0, 0, 2]])
    np.testing.assert_allclose(bone[0, 0, 13, :2], [20, 0])  # left knee - left hip


def test_3d_bones_use_every_coordinate():
    kp = np.random.default_rng(0).normal(size=(1, 2, 25, 3)).astype(np.float32)
    bone = joint_to_bone(kp, NTU_RGBD)
    np.testing.assert_allclose(bone[0, :, 21], kp[0, :, 21] - kp[0, :, 22])  # MMAction2's (21, 22) pair
    np.testing.assert_allclose(bone[0, :, 20], 0)


def test_motion_is_the_next_frame_minus_this_one():
    data = np.array([[[[1, 2, 0.5]], [[4, 0, 0.7]], [[5, 5, 0.9]]]], np.float32)  # [1, 3, 1, 3]
    motion = to_motion(data, COCO)
    np.testing.assert_allclose(motion[0, :, 0], [[3, -2, 0.6], [1, 5, 0.8], [0, 0, 0]])
    np.testing.assert_allclose(to_motion(data, NTU_RGBD)[0, 0, 0], [3, -2, 0.2], atol=1e-6)


def test_gen_ske_feat_concatenates_streams_in_order(pose_sample):
    rng = np.random.default_rng(0)
    kp, score = rng.normal(size=(2, 5, 17, 2)), rng.uniform(size=(2, 5, 17))
    state = GenSkeFeat(feats=("j", "bone", "jm"))(pose_sample(kp, score)).meta["pose"]
    assert state.keypoint.shape == (2, 5, 17, 9) and state.keypoint_score is None
    joints = np.concatenate([kp, score[..., None]], -1).astype(np.float32)
    np.testing.assert_allclose(state.keypoint[..., :3], joints)
    np.testing.assert_allclose(state.keypoint[..., 3:6], joint_to_bone(joints, COCO))
    np.testing.assert_allclose(state.keypoint[..., 6:], to_motion(joints, COCO))
    with pytest.raises(ValueError, match="feats"):
        GenSkeFeat(feats=("angle",))


def test_gen_ske_feat_checks_the_layout(pose_sample):
    with pytest.raises(ConfigError, match="layout 'nturgb\\+d' but .* is in layout 'coco'"):
        GenSkeFeat(layout="nturgb+d")(pose_sample(np.zeros((1, 2, 17, 2)), np.ones((1, 2, 17))))
    with pytest.raises(ConfigError, match="only 2D keypoints carry scores"):
        GenSkeFeat()(pose_sample(np.zeros((1, 2, 25, 3)), np.ones((1, 2, 25)), layout="nturgb+d"))


@pytest.mark.parametrize("persons, mode, filled", [(1, "zero", [True, False, False]), (1, "loop", [True, True, True]),
                                                    (4, "zero", [True, True, True])])
def test_format_gcn_input_pads_or_truncates_persons(pose_sample, persons, mode, filled):
    kp = np.arange(persons * 6 * 17 * 2, dtype=np.float32).reshape(persons, 6, 17, 2) + 1
    sample = PoseDecode()(pose_sample(kp, np.ones((persons, 6, 17))))
    sample.num_clips, sample.clip_len = 2, 3
    sample = FormatGCNInput(num_person=3, mode=mode)(sample)
    x = sample.frames
    assert tuple(x.shape) == (2, 3, 3, 17, 3) and x.dtype.is_floating_point
    assert [bool(x[:, m].abs().sum() > 0) for m in range(3)] == filled
    assert x[1, 0, 0, 0, 0].item() == kp[0, 3, 0, 0]  # clip 1 starts at frame 3
    assert sample.meta["input_format"] == "NMTVC"


def test_format_gcn_input_needs_decoded_frames(pose_sample):
    with pytest.raises(ConfigError, match="after uniform_sample_frames and pose_decode"):
        FormatGCNInput()(pose_sample(np.zeros((1, 4, 17, 2))))
