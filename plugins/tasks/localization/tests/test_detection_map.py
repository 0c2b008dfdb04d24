"""Detection mAP at tIoU thresholds: closed-form cases, proposals + video classes, the task's metric."""
import json

import numpy as np
import pytest

from actioncore.sdk import DataError
from actioncore_localization.detection_map import (THUMOS14_TIOU, Detection, DetectionMAP, average_precision,
                                                   detections_from_proposals, mean_average_precision)


def test_average_precision_by_hand():
    # two segments of one class; detections by score: a hit (tIoU 0.8), a miss, a hit at tIoU 0.6
    gt = {"v": np.array([[0.0, 10.0], [20.0, 30.0]])}
    dets = [Detection("v", 0.0, 8.0, "a", 0.9), Detection("v", 50.0, 60.0, "a", 0.8),
            Detection("v", 20.0, 36.5, "a", 0.7)]
    assert 10.0 / 16.5 == pytest.approx(0.606, abs=1e-3)
    ap = average_precision(gt, dets, [0.5, 0.7, 0.9])
    # 0.5: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> 1/2 * 1 + 1/2 * 2/3; 0.7: only the first hit
    np.testing.assert_allclose(ap, [0.5 + 1 / 3, 0.5, 0.0])


def test_a_second_detection_of_the_same_segment_is_a_false_positive_and_videos_do_not_mix():
    gt = {"v": np.array([[0.0, 10.0]]), "w": np.array([[0.0, 10.0]])}
    dets = [Detection("v", 0.0, 10.0, "a", 0.9), Detection("v", 0.0, 10.0, "a", 0.8),
            Detection("x", 0.0, 10.0, "a", 0.7), Detection("w", 0.0, 10.0, "a", 0.6)]
    # precision 1, 1/2, 1/3, 1/2 at recall 1/2, 1/2, 1/2, 1
    np.testing.assert_allclose(average_precision(gt, dets, [0.5]), [0.5 + 0.5 * 0.5])


def test_map_averages_the_classes_with_ground_truth_only():
    gt = {"v": (np.array([[0.0, 10.0], [20.0, 30.0]]), ["a", "b"])}
    dets = [Detection("v", 0.0, 10.0, "a", 0.9), Detection("v", 0.0, 10.0, "c", 0.95)]
    np.testing.assert_allclose(mean_average_precision(gt, dets, [0.5]), [0.5])  # a: 1, b: 0; c ignored
    metric = DetectionMAP(temporal_iou_thresholds=list(THUMOS14_TIOU))
    result = metric(gt, dets)
    assert result["mAP@0.3"] == result["average_mAP"] == pytest.approx(0.5)
    with pytest.raises(DataError, match="2 segments but 1 labels"):
        mean_average_precision({"v": (np.zeros((2, 2)), ["a"])}, [], [0.5])


def test_proposals_become_detections_per_top_class(tmp_path):
    proposals = {"v": np.array([[0.0, 10.0, 0.5], [20.0, 30.0, 1.0]])}
    dets = detections_from_proposals(proposals, {"v": {"a": 0.6, "b": 0.3, "c": 0.1}}, top_k=2)
    assert [(d.start, d.label, round(d.score, 6)) for d in dets] == [
        (0.0, "a", 0.3), (0.0, "b", 0.15), (20.0, "a", 0.6), (20.0, "b", 0.3)]
    with pytest.raises(DataError, match="no class scores for video 'v'"):
        detections_from_proposals(proposals, {}, top_k=1)
    # the metric reads a recognizer's predictions file (actioncore test --out) for the classes
    scores = tmp_path / "video_scores.json"
    scores.write_text(json.dumps({"split": "test", "samples": [
        {"index": 0, "source": "videos/v_v.mp4", "label": 0,
         "predictions": [{"label": 0, "name": "a", "score": 0.6}, {"label": 1, "name": "b", "score": 0.3}]}]}))
    metric = DetectionMAP(temporal_iou_thresholds=[0.5], video_scores=str(scores), top_k=1)
    gt = {"v": (np.array([[0.0, 10.0], [20.0, 30.0]]), ["a", "a"])}
    assert metric(gt, metric.detections(proposals)) == {"mAP@0.5": 1.0, "average_mAP": 1.0}
    # the whole score row where the file has it: "b" is the video's best class there
    scores.write_text(json.dumps({"split": "test", "classes": ["a", "b"], "samples": [
        {"index": 0, "source": "videos/v_v.mp4", "label": 0, "scores": [0.2, 0.8],
         "predictions": [{"label": 1, "name": "b", "score": 0.8}]}]}))
    assert metric(gt, metric.detections(proposals)) == {"mAP@0.5": 0.0, "average_mAP": 0.0}
    with pytest.raises(DataError, match="class-agnostic proposals; set the metric's video_scores"):
        DetectionMAP().detections(proposals)


def test_the_localization_task_scores_proposals_with_both_metrics(tmp_path):
    from actioncore_localization import ARatAN, VideoAnnotation
    from actioncore_localization.task import LocalizationAdapter, LocalizationTask

    scores = tmp_path / "video_scores.json"
    scores.write_text(json.dumps({"samples": [
        {"source": "v_one.mp4", "predictions": [{"label": 1, "name": "jump", "score": 0.9}]},
        {"source": "v_two.mp4", "predictions": [{"label": 0, "name": "run", "score": 0.8}]}]}))
    task = LocalizationTask(metrics=[ARatAN(), DetectionMAP(temporal_iou_thresholds=[0.5, 0.9],
                                                            video_scores=str(scores), top_k=1)])
    annotations = [VideoAnnotation(video_name="v_one", duration_second=100.0, duration_frame=3000, feature_frame=3000,
                                   fps=30.0, segments=[[10.0, 20.0]], labels=("jump",)),
                   VideoAnnotation(video_name="v_two", duration_second=100.0, duration_frame=3000, feature_frame=3000,
                                   fps=30.0, segments=[[50.0, 60.0]], labels=("jump",))]
    proposals = [np.array([[10.0, 18.8, 0.9]]), np.array([[50.0, 60.0, 0.9]])]  # tIoU 0.88 and 1
    metrics, _ = LocalizationAdapter(task, None).compute_metrics({"annotation": annotations, "proposals": proposals},
                                                                 "test")
    # video two is classified "run": its perfect proposal is a detection of the wrong class
    assert metrics["mAP@0.5"] == 0.5 and metrics["mAP@0.9"] == 0.0 and metrics["average_mAP"] == 0.25
    assert metrics["AR@1"] == pytest.approx((0.8 + 1.0) / 2)  # one recalled at 0.5..0.85 of 0.5..0.95, two at all
