"""The detection task: RoI assignment and sampling, evaluated classes (training to frame-mAP with a real
detector: tests/test_detection_integration.py)."""
import numpy as np
import pytest

from actioncore_detection.boxes import AssignerConfig, SamplerConfig, assign, box_iou, sample_rois

pytestmark = pytest.mark.actioncore_plugins("actioncore_detection.hooks")

GT = np.array([[10, 10, 30, 50], [40, 10, 60, 50]], np.float32)
LABELS = np.array([[0, 1, 0, 1], [0, 0, 1, 0]], np.float32)


def test_iou_and_mmaction2_assignment():
    assert box_iou(GT[:1], np.array([[10, 10, 30, 30]]))[0, 0] == pytest.approx(0.5)
    proposals = np.array([[10, 10, 30, 49], [11, 10, 31, 50], [40, 10, 60, 40], [0, 0, 5, 5]], np.float32)
    targets = assign(proposals, GT, LABELS, AssignerConfig())
    # IoU 0.95 -> person 0; 19/21 = 0.905 -> person 0; 0.75 -> negative; no overlap -> negative
    np.testing.assert_array_equal(targets, [LABELS[0], LABELS[0], [0, 0, 0, 0], [0, 0, 0, 0]])
    # a ground-truth box whose best proposal is under pos_iou_thr but over min_pos_iou still claims it
    low = assign(proposals, GT, LABELS, AssignerConfig(pos_iou_thr=0.99, min_pos_iou=0.7))
    np.testing.assert_array_equal(low[2], LABELS[1])


def test_sampler_adds_ground_truth_and_fills_with_negatives():
    proposals = np.array([[10, 10, 30, 49], [0, 0, 5, 5], [70, 0, 80, 9], [50, 50, 60, 60]], np.float32)
    rng = np.random.default_rng(0)
    rois, targets = sample_rois(proposals, GT, LABELS, assigner=AssignerConfig(),
                                sampler=SamplerConfig(num=4), rng=rng)
    assert len(rois) == 4 and targets[:3].sum(axis=1).min() > 0 and targets[3].sum() == 0  # 3 positives first
    rois, targets = sample_rois(proposals, GT, LABELS, assigner=AssignerConfig(),
                                sampler=SamplerConfig(num=2), rng=rng)
    assert len(rois) == 2 and (targets.sum(axis=1) > 0).all()  # pos_fraction 1: positives only
    rois, _ = sample_rois(proposals, GT, LABELS, assigner=AssignerConfig(),
                          sampler=SamplerConfig(num=32, add_gt_as_proposals=False), rng=rng)
    assert len(rois) == 4


def test_evaluated_classes_follow_the_label_map(tmp_path):
    from actioncore_detection.task import Classes, detection_rows

    labels = tmp_path / "labels.pbtxt"
    labels.write_text('item {\n  name: "a"\n  id: 1\n}\nitem {\n  name: "c"\n  id: 3\n}\n')
    classes = Classes({"label_file": str(labels), "num_classes": 5})
    assert classes.class_ids == [1, 3] and classes.action_id(4) == 4  # trained on 4 ids, evaluated on 2
    custom = Classes({"label_file": str(labels), "custom_classes": [3]})
    assert custom.num_classes == 2 and custom.class_ids == [3] and custom.action_id(1) == 3
    outputs = {"video_id": np.array(["v"], object), "timestamp": np.array([902]),
               "detections": [np.array([[0.1, 0.2, 0.3, 0.4, 0.9, 0.123456], [0.5, 0.5, 0.6, 0.6, 0.9, 0.001]],
                                       np.float32)]}
    rows = detection_rows(outputs, custom, action_thr=0.002, decimals=4)
    assert rows.action_id.tolist() == [3] and rows.score.tolist() == [0.1235]  # column 0 unused, 0.001 <= thr
