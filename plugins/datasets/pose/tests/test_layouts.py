"""Skeleton layouts: sizes, MMAction2's tables, flip orders."""
from __future__ import annotations

import pytest

from actioncore_pose.layouts import COCO, LAYOUTS, NTU_RGBD, OPENPOSE, _mirror_limbs, get_layout


def test_joint_counts_and_coordinates():
    assert (COCO.num_joints, NTU_RGBD.num_joints, OPENPOSE.num_joints) == (17, 25, 18)
    assert (COCO.coords, NTU_RGBD.coords, OPENPOSE.coords) == (2, 3, 2)
    assert (COCO.center, NTU_RGBD.center, OPENPOSE.center) == (0, 20, 1)
    assert len(COCO.inward) == 16 and len(NTU_RGBD.inward) == 24 and len(OPENPOSE.inward) == 17


def test_ntu_graph_is_mmaction2s_one_based_table_shifted():
    assert NTU_RGBD.inward[0] == (0, 1) and NTU_RGBD.inward[1] == (1, 20) and NTU_RGBD.inward[-1] == (24, 11)
    assert NTU_RGBD.bone_pairs[20] == (21, 22) and NTU_RGBD.bone_pairs[21] == (20, 20)


def test_left_and_right_joints_are_named_so():
    for layout in LAYOUTS.values():
        for left, right in zip(layout.left, layout.right):
            assert "left" in layout.joint_names[left] and "right" in layout.joint_names[right]
            assert layout.joint_names[left].replace("left", "right") == layout.joint_names[right]


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
def test_flip_orders_are_involutions_that_swap_mirrored_limbs(layout):
    order = layout.flip_order()
    assert [order[i] for i in order] == list(range(layout.num_joints))
    limb_order = layout.limb_flip_order()
    for i, (a, b) in enumerate(layout.limbs):
        mirrored = {order[a], order[b]}
        assert set(layout.limbs[limb_order[i]]) == mirrored


def test_coco_limb_pairs_are_mmaction2s_defaults():
    assert _mirror_limbs(COCO.limbs, COCO.left, COCO.right) == (COCO.left_limbs, COCO.right_limbs)
    assert COCO.left_limbs == (0, 2, 4, 5, 6, 10, 11, 12) and COCO.right_limbs == (1, 3, 7, 8, 9, 13, 14, 15)


def test_names_and_aliases():
    assert get_layout("COCO17") is COCO and get_layout("ntu") is NTU_RGBD and get_layout("openpose") is OPENPOSE
    with pytest.raises(ValueError, match="unknown skeleton layout 'kinect'.*coco"):
        get_layout("kinect")
