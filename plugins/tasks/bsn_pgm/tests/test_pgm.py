"""PGM on hand-made TEM curves: boundary candidates, proposals, overlaps, BSP feature numbers."""
import numpy as np
import pytest

from actioncore.testing import assert_component_contract
from actioncore_bsn_pgm import (BSPSampling, best_overlaps, boundary_locations, bsp_features, candidate_proposals,
                                video_proposals)
from actioncore_localization import VideoAnnotation

START = np.array([0.1, 0.5, 0.2, 0.3, 0.9, 0.4, 0.1, 0.05])
END = np.array([0.05, 0.1, 0.2, 0.8, 0.3, 0.2, 0.6, 0.1])

pytestmark = pytest.mark.actioncore_plugins("actioncore_bsn_pgm.hooks")


def test_task_honours_the_contract(actioncore_host):
    task = assert_component_contract(actioncore_host, "task", "bsn_pgm", {"tem_results_dir": "t", "ann_files": ["a.json"]})
    assert task.top_k > 0

def test_boundaries_are_the_ends_the_peaks_and_the_high_scores():
    # peaks: 1 (.5) and 4 (.9); above 0.5 x max = .45: 1 and 4; 3 (.3) is neither; ends 0 and 7
    assert boundary_locations(START, 0.5).tolist() == [0, 1, 4, 7]
    assert boundary_locations(END, 0.5).tolist() == [0, 3, 6, 7]
    # a plateau is no peak, but a low threshold takes every location above it
    assert boundary_locations(np.array([0.2, 0.5, 0.5, 0.2, 0.1]), 0.5).tolist() == [0, 1, 2, 4]
    assert boundary_locations(np.array([0.2, 0.5, 0.5, 0.2, 0.1]), 1.0).tolist() == [0, 4]


def test_candidate_proposals_pair_every_start_before_every_end_best_first():
    proposals = candidate_proposals(START, END, peak_threshold=0.5)
    # starts {0, 1, 4, 7} x ends {0, 3, 6, 7} with start < end, scored start x end
    expected = [((4, 6), 0.54), ((1, 3), 0.40), ((1, 6), 0.30), ((4, 7), 0.09), ((0, 3), 0.08),
                ((0, 6), 0.06), ((1, 7), 0.05), ((0, 7), 0.01)]
    assert len(proposals) == len(expected)
    for i, ((s, e), score) in enumerate(expected):
        assert proposals.tmin[i] == pytest.approx((s + 0.5) / 8)
        assert proposals.tmax[i] == pytest.approx((e + 0.5) / 8)
        assert proposals.score[i] == pytest.approx(score)
    assert proposals.tmin_score[0] == pytest.approx(0.9) and proposals.tmax_score[0] == pytest.approx(0.6)


def test_best_overlaps_take_the_best_ground_truth_segment():
    iou, ioa = best_overlaps(np.array([0.1, 0.8]), np.array([0.5, 0.9]), np.array([[0.3, 0.7], [0.0, 0.2]]))
    # [.1, .5] vs [.3, .7]: overlap .2, union .6, over the proposal .5; vs [0, .2]: .1 / .5, .1 / .4
    assert iou.tolist() == pytest.approx([1 / 3, 0.0])
    assert ioa.tolist() == pytest.approx([0.5, 0.0])
    iou, ioa = best_overlaps(np.array([0.1]), np.array([0.5]), np.zeros((0, 2)))
    assert iou.tolist() == [0.0] and ioa.tolist() == [0.0]


def test_bsp_features_sample_a_linear_curve_exactly():
    # actionness t at each location's centre: inside the video the interpolation is the identity,
    # and each sample (the mean of 4 sub-points spanning one step around it) is its centre time
    steps = 10
    action = (np.arange(steps) + 0.5) / steps
    features = bsp_features(action, np.array([0.3]), np.array([0.6]))
    assert features.shape == (1, 32) and features.dtype == np.float32
    np.testing.assert_allclose(features[0, :16], np.linspace(0.3, 0.6, 16), atol=1e-6)   # inside
    np.testing.assert_allclose(features[0, 16:24], np.linspace(0.24, 0.36, 8), atol=1e-6)  # start +- 0.2 x 0.3
    np.testing.assert_allclose(features[0, 24:], np.linspace(0.54, 0.66, 8), atol=1e-6)    # end +- 0.06


def test_bsp_features_read_background_past_the_video():
    # constant actionness 1 over 10 locations; the zero padding starts one step before the first
    # centre (0.05), so the curve is clip((t + 0.05) / 0.1, 0, 1) there
    sampling = BSPSampling(num_sample_start=4, num_sample_end=4, num_sample_action=4, num_sample_interp=2,
                           bsp_boundary_ratio=0.25)
    features = bsp_features(np.ones(10), np.array([0.0]), np.array([0.4]), sampling)

    def curve(t):
        return np.clip((t + 0.05) / 0.1, 0.0, 1.0)

    # start region [-0.1, 0.1]: step 0.2 / 3, each sample averages 3 sub-points half a step apart
    step = 0.2 / 3
    expected_start = [np.mean([curve(-0.1 - step / 2 + (2 * i + k) * step / 2) for k in range(3)]) for i in range(4)]
    np.testing.assert_allclose(features[0, 4:8], expected_start, atol=1e-6)
    assert features[0, 4] == 0.0 and features[0, 7] == pytest.approx(1.0)
    np.testing.assert_allclose(features[0, 8:], 1.0, atol=1e-6)  # end region [0.3, 0.5] is all action


def test_video_proposals_use_the_unclipped_ground_truth():
    # features cover 80 of the 100 s: the segment [60, 90] s is [0.75, 1.125] of the feature span
    video = VideoAnnotation(video_name="v", duration_second=100.0, duration_frame=1000, feature_frame=800, fps=10.0,
                            segments=np.asarray([[60.0, 90.0]]), labels=("a",))
    start = np.zeros(8)
    end = np.zeros(8)
    start[6], end[7] = 1.0, 1.0  # one strong proposal [6.5 / 8, 7.5 / 8]
    table, features = video_proposals(np.zeros(8), start, end, video, peak_threshold=0.5, top_k=3,
                                      sampling=BSPSampling())
    assert (table.tmin[0], table.tmax[0]) == pytest.approx((6.5 / 8, 7.5 / 8))
    # overlap [0.8125, 0.9375] = 0.125; union 0.375 (unclipped) rather than 0.25 (clipped to 1)
    assert table.match_iou[0] == pytest.approx(0.125 / 0.375)
    assert table.match_ioa[0] == pytest.approx(1.0)
    # starts {0, 6, 7} x ends {0, 7}: two proposals, both get features (fewer than top_k)
    assert len(table) == 2 and features.shape == (2, 32)


def test_pgm_task_writes_mmaction2s_files_and_names_a_missing_tem_result(tmp_path):
    import json

    from actioncore.sdk import DataError, Experiment
    from actioncore_bsn_pgm import ProposalGenerationTask, read_bsp_features, read_proposals

    info = {"duration_second": 10.0, "duration_frame": 160, "feature_frame": 160, "fps": 16.0,
            "annotations": [{"segment": [2.0, 8.0], "label": "a"}]}
    ann_file = tmp_path / "ann.json"
    ann_file.write_text(json.dumps({"v_a": info, "v_b": info}))
    tem_dir = tmp_path / "tem"
    tem_dir.mkdir()
    anchors = np.arange(8) / 8
    np.savetxt(tem_dir / "v_a.csv", np.stack([START, START, END, anchors, anchors + 1 / 8], axis=1),
               delimiter=",", header="action,start,end,tmin,tmax", comments="")
    task = ProposalGenerationTask(tem_results_dir=str(tem_dir), ann_files=[str(ann_file)],
                                  output_dir=str(tmp_path / "pgm"), top_k=5)
    with pytest.raises(DataError, match=r"tem/v_b.csv: TEM result file not found"):
        task.run(Experiment())
    np.savetxt(tem_dir / "v_b.csv", np.loadtxt(tem_dir / "v_a.csv", delimiter=",", skiprows=1),
               delimiter=",", header="action,start,end,tmin,tmax", comments="")
    metrics = task.run(Experiment())
    assert metrics["all/videos"] == 2 and metrics["ann/candidates_per_video"] == 8
    # [2, 8] s of 10 s is [0.2, 0.8]; candidate (1, 6) = [1.5 / 8, 6.5 / 8] has IoU 0.6 / 0.625
    assert metrics["all/candidate_recall@0.9"] == 1.0
    table = read_proposals(tmp_path / "pgm" / "pgm_proposals" / "v_b.csv")
    assert len(table) == 8 and table.score[0] == pytest.approx(0.54)
    assert table.score[2] == pytest.approx(0.30) and table.match_iou[2] == pytest.approx(0.96)
    assert read_bsp_features(tmp_path / "pgm" / "pgm_features" / "v_b.npy").shape == (5, 32)
    # the same in a worker process
    (tmp_path / "pgm" / "pgm_proposals" / "v_b.csv").unlink()
    task.workers = 1
    assert task.run(Experiment()) == metrics
    assert len(read_proposals(tmp_path / "pgm" / "pgm_proposals" / "v_b.csv")) == 8
