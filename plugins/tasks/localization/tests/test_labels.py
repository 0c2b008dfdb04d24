"""BSN TEM and BMN training targets on hand-worked examples (T = 4, one action over [0.25, 0.75])."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from actioncore_localization import VideoAnnotation, bmn_targets, bmn_targets_batch, tem_targets, tem_targets_batch

GT = np.array([[0.25, 0.75]])


def test_tem_targets():
    # steps [0, .25) [.25, .5) [.5, .75) [.75, 1); boundary regions 1/T = .25 wide around .25 and .75
    action, start, end = tem_targets(GT, 4, boundary_ratio=0.1)
    np.testing.assert_allclose(action, [0, 1, 1, 0])
    np.testing.assert_allclose(start, [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(end, [0, 0, 0.5, 0.5])


def test_tem_boundary_region_grows_with_the_segment():
    # a segment of .5 with boundary_ratio .8: the start region is .4 wide, [.05, .45]
    _, start, _ = tem_targets(np.array([[0.25, 0.75]]), 4, boundary_ratio=0.8)
    np.testing.assert_allclose(start, [0.8, 0.8, 0, 0])


def test_bmn_iou_map_rows_are_durations_and_columns_starts():
    iou_map, start, end = bmn_targets(GT, 4)
    expected = np.array([
        [0, 0.5, 0.5, 0],            # one step long, starting at 0, .25, .5, .75
        [1 / 3, 1, 1 / 3, 0],        # two steps: [.25, .75] is the action itself
        [2 / 3, 2 / 3, 0.25, 0],     # three steps (the last two run past the end: masked in the loss)
        [0.5, 0.5, 0.2, 0],          # four: [.5, 1.5] meets the action over .25 of a 1.25 union
    ])
    np.testing.assert_allclose(iou_map, expected, rtol=1e-6)
    assert iou_map.dtype == np.float32
    # anchors [(i - .5)/T, (i + 1.5)/T]; regions 3/T wide: [-.125, .625] and [.375, 1.125]
    np.testing.assert_allclose(start, [1, 1, 0.5, 0])
    np.testing.assert_allclose(end, [0, 0.5, 1, 1])


def test_several_segments_take_the_best_match_and_none_gives_zeros():
    iou_map, start, _ = bmn_targets(np.array([[0.0, 0.25], [0.5, 1.0]]), 4)
    assert iou_map[0, 0] == 1 and iou_map[1, 2] == 1
    np.testing.assert_allclose(start[2], 1.0)
    iou_map, start, end = bmn_targets(np.zeros((0, 2)), 4)
    assert not iou_map.any() and not start.any() and not end.any()
    assert not any(t.any() for t in tem_targets(np.zeros((0, 2)), 4))


def test_batched_targets_read_each_label():
    video = VideoAnnotation(video_name="v", duration_second=8.0, duration_frame=240, feature_frame=240, fps=30.0,
                            segments=[[2.0, 6.0]], labels=("a",))
    iou_map, start, end = bmn_targets_batch([video, video], 4)
    assert iou_map.shape == (2, 4, 4) and start.shape == end.shape == (2, 4)
    assert iou_map.dtype == torch.float32 and float(iou_map[1, 1, 1]) == 1.0
    action, _, _ = tem_targets_batch([video], 4, 0.1)
    assert action.tolist() == [[0, 1, 1, 0]]


def test_bad_gt_shape():
    with pytest.raises(ValueError, match=r"\[K, 2\]"):
        bmn_targets(np.zeros((2, 3)), 4)
