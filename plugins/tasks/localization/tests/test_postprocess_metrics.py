"""Soft-NMS, proposal post-processing and AR@AN on hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from actioncore.testing import assert_component_contract
from actioncore_localization import ARatAN, VideoAnnotation, average_recall_at_avg_proposals, post_process, soft_nms

pytestmark = pytest.mark.actioncore_plugins("actioncore_localization.hooks")

PROPOSALS = np.array([[0.0, 0.5, 0.9], [0.1, 0.5, 0.8], [0.6, 1.0, 0.7]])


def test_soft_nms_decays_overlapping_proposals():
    # kept first: [0, .5] (width .5, so the IoU threshold is .5 + .4 * .5 = .7); [.1, .5] has IoU .8
    # with it and decays by exp(-.8^2 / .4); [.6, 1] does not overlap and keeps its score
    kept = soft_nms(PROPOSALS, alpha=0.4, low_threshold=0.5, high_threshold=0.9, top_k=100)
    np.testing.assert_allclose(kept, [[0.0, 0.5, 0.9], [0.6, 1.0, 0.7], [0.1, 0.5, 0.8 * math.exp(-1.6)]])


def test_soft_nms_threshold_grows_with_the_width():
    # the same overlap under a wider kept proposal (threshold .5 + .4 * 1 = .9) is left alone
    wide = np.array([[0.0, 1.0, 0.9], [0.0, 0.85, 0.8]])
    kept = soft_nms(wide, alpha=0.4, low_threshold=0.5, high_threshold=0.9, top_k=100)
    np.testing.assert_allclose(kept[:, 2], [0.9, 0.8])


def test_post_process_keeps_top_k_in_seconds():
    video = VideoAnnotation(video_name="v_x", duration_second=10.0, duration_frame=330, feature_frame=320,
                            fps=33.0, segments=[[1.0, 2.0]], labels=("a",))
    rows = post_process(PROPOSALS, video, soft_nms_alpha=0.4, soft_nms_low_threshold=0.5,
                        soft_nms_high_threshold=0.9, post_process_top_k=2)
    covered = 320 / 330 * 10.0  # whole 16-frame feature windows only
    np.testing.assert_allclose(rows, [[0.0, 0.5 * covered, 0.9], [0.6 * covered, covered, 0.7]])
    assert post_process(np.zeros((0, 3)), video, soft_nms_alpha=0.4, soft_nms_low_threshold=0.5,
                        soft_nms_high_threshold=0.9, post_process_top_k=2).shape == (0, 3)


# video a: its only proposal is exact; video b: one proposal with IoU .875 with its first
# segment, then one with IoU .625 with its second
GROUND_TRUTH = {"a": np.array([[0.0, 10.0]]), "b": np.array([[0.0, 10.0], [20.0, 30.0]])}
PROPOSAL_ROWS = {"a": np.array([[0.0, 10.0, 0.9]]), "b": np.array([[20.0, 26.25, 0.7], [0.0, 8.75, 0.8]])}


def test_average_recall_hand_case():
    # budget 100 per video keeps all 3 proposals; at the first of the 100 steps (2/3 of a proposal
    # per video) a looks at none, b at its best one: 8 of 10 thresholds (<= .85) recall 1 of 3
    # segments. From the second step on all are seen: thresholds .5-.6 recall 3, .65-.85 recall 2,
    # .9-.95 recall 1 of 3 -> average .7. Proposals per video run 1..100, so the AUC is
    # (.8/3 + .7) / 2 + 98 * .7 per 100 steps, in percent.
    result = average_recall_at_avg_proposals(GROUND_TRUTH, PROPOSAL_ROWS, 3, max_avg_proposals=100)
    np.testing.assert_allclose(result.proposals_per_video, np.arange(1, 101))
    assert result.average_recall[0] == pytest.approx(0.8 / 3)
    np.testing.assert_allclose(result.average_recall[1:], 0.7)
    assert result.auc == pytest.approx((0.8 / 3 + 0.7) / 2 + 98 * 0.7)
    metrics = ARatAN()(GROUND_TRUTH, PROPOSAL_ROWS)
    assert metrics == pytest.approx({"auc": result.auc, "AR@1": 0.8 / 3, "AR@5": 0.7, "AR@10": 0.7, "AR@100": 0.7})


def test_a_video_without_proposals_recalls_nothing():
    rows = dict(PROPOSAL_ROWS, a=np.zeros((0, 3)))
    result = average_recall_at_avg_proposals(GROUND_TRUTH, rows, 2, max_avg_proposals=100)
    # only b's segments can be recalled: at most 2 of 3
    assert result.average_recall.max() <= 2 / 3 + 1e-12
    missing = {"b": PROPOSAL_ROWS["b"]}
    assert average_recall_at_avg_proposals(GROUND_TRUTH, missing, 2, 100).auc == pytest.approx(result.auc)


def test_a_small_budget_keeps_the_best_proposals_only():
    # budget 1 per video of 1.5 there are: ratio 2/3 keeps int(1 * 2/3) = 0 of a's and 1 of b's
    result = average_recall_at_avg_proposals(GROUND_TRUTH, PROPOSAL_ROWS, 3, max_avg_proposals=1)
    assert result.recall[:, -1].tolist() == pytest.approx([1 / 3] * 8 + [0, 0])


def test_metric_component_contract(actioncore_host):
    metric = assert_component_contract(actioncore_host, "metric", "AR@AN", {"max_avg_proposals": 50})
    assert metric.max_avg_proposals == 50
    with pytest.raises(ValueError, match="max_avg_proposals"):
        ARatAN(max_avg_proposals=0)
