"""Frame-mAP on hand-computed cases (MMAction2's numbers for these were checked by
benchmarks/parity/ava_map.py, which compares random sets to 1e-6)."""
import math

import numpy as np
import pytest

from actioncore_detection.annotations import ActionBoxes, LabelMap
from actioncore_detection.frame_map import AvaFrameMAP, average_precision, frame_ap

A, B, C, D = (0.1, 0.1, 0.4, 0.6), (0.5, 0.2, 0.9, 0.9), (0.2, 0.3, 0.5, 0.8), (0.0, 0.0, 0.3, 0.3)
NEAR_C = (0.25, 0.3, 0.55, 0.8)  # IoU with C: 0.125 / (0.15 + 0.15 - 0.125) = 5/7 -> a hit
FAR_C = (0.35, 0.3, 0.65, 0.8)  # IoU 0.075 / 0.225 = 1/3


def rows(*items):
    return ActionBoxes.from_rows([(v, t, *box, a, s) for v, t, box, a, s in items])


LABELS = LabelMap((1, 2, 3), ("run", "sit", "eat"))
GT = rows(("v", 1, A, 1, 1.0), ("v", 1, B, 2, 1.0), ("v", 2, C, 1, 1.0), ("v", 3, D, 1, 1.0))
DET = rows(
    ("v", 1, A, 1, 0.9),       # hit A
    ("v", 1, A, 1, 0.8),       # A again: already taken -> false positive
    ("v", 2, FAR_C, 1, 0.95),  # IoU 1/3 -> false positive
    ("v", 2, NEAR_C, 1, 0.5),  # IoU 5/7 -> hit C
    ("v", 3, D, 1, 0.99),      # excluded keyframe: never evaluated
    ("w", 7, A, 1, 0.97),      # keyframe without ground truth: ignored
    ("v", 1, B, 3, 0.7),       # class without ground truth -> NaN, left out
)


def test_hand_computed_ap_of_one_class():
    # ranked: .95 FP, .9 TP, .8 FP, .5 TP over 2 ground-truth boxes:
    # precision 0, 1/2, 1/3, 1/2 -> made non-increasing 1/2, 1/2, 1/2, 1/2; recall steps 1/2 and 1
    ap = frame_ap(DET, GT, class_ids=[1, 2, 3], excluded={"v,0003"})
    assert ap[1] == pytest.approx(0.5)
    assert math.isnan(ap[3]) and 2 not in ap  # "sit" has ground truth but no detection


def test_metric_reports_overall_and_per_class_and_skips_excluded():
    metric = AvaFrameMAP()
    out = metric(DET, GT, label_map=LABELS, excluded={"v,0003"})
    assert out == {"mAP@0.5IOU": pytest.approx(0.5), "AP@0.5IOU/run": pytest.approx(0.5)}
    # not excluded, keyframe 3 adds a ground-truth box and the top-scored hit:
    # ranked TP(.99) FP(.95) TP(.9) FP(.8) TP(.5) over 3 -> 1/3*1 + 1/3*2/3 + 1/3*3/5
    included = metric(DET, GT, label_map=LABELS)
    assert included["mAP@0.5IOU"] == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_stricter_iou_threshold_turns_the_borderline_hit_into_a_miss():
    out = AvaFrameMAP(iou_threshold=0.75)(DET, GT, label_map=LABELS, excluded={"v,0003"})
    assert out["mAP@0.75IOU"] == pytest.approx(0.5 * 1 / 2)  # only A: precision 1/2 at recall 1/2


def test_average_precision_edge_cases():
    assert math.isnan(average_precision(np.array([0.5], np.float32), np.array([True]), 0))
    assert average_precision(np.zeros(0, np.float32), np.zeros(0, bool), 3) == 0.0
    assert average_precision(np.array([0.9, 0.1], np.float32), np.array([False, True]), 1) == pytest.approx(0.5)


def test_groups_only_for_ava_sized_label_maps():
    ava = LabelMap((1, 20, 70), ("stand", "carry", "talk"))
    gt = rows(("v", 1, A, 1, 1.0), ("v", 1, B, 20, 1.0), ("v", 1, C, 70, 1.0))
    det = rows(("v", 1, A, 1, 0.9), ("v", 1, B, 20, 0.9), ("v", 1, D, 70, 0.9))
    out = AvaFrameMAP()(det, gt, label_map=ava)
    assert out["mAP@0.5IOU/person_movement"] == 1.0 and out["mAP@0.5IOU/object_manipulation"] == 1.0
    assert out["mAP@0.5IOU/person_interaction"] == 0.0 and out["mAP@0.5IOU"] == pytest.approx(2 / 3)
