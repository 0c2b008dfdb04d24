"""The task's evaluation paths with stand-in models: proposals -> AR@AN and JSON; per-video CSVs."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from actioncore.sdk import ConfigError
from actioncore_localization import Detection, DetectionMAP, LocalizationTask, VideoAnnotation
from actioncore_localization.task import LocalizationAdapter

VIDEOS = [VideoAnnotation(video_name=f"v_{n}", duration_second=10.0, duration_frame=300, feature_frame=300,
                          fps=30.0, segments=[[2.0, 6.0]], labels=("a",)) for n in ("x", "y")]


class ExactProposer(nn.Module):
    """Proposes each video's ground truth with score 1, then a wrong segment."""

    def forward(self, inputs):
        return inputs.mean()

    def proposals(self, outputs, labels):
        return [np.array([[*v.segments[0], 1.0], [7.0, 9.0, 0.5]]) for v in labels]


class ScoreWriter(nn.Module):
    """A stage without proposals: per-step scores for the next stage (as BSN's TEM)."""

    def forward(self, inputs):
        return inputs.mean(dim=1)

    def video_outputs(self, outputs, labels):
        return [{"action": row.numpy(), "tmin": np.arange(len(row)) / len(row)} for row in outputs]


class ExactDetector(nn.Module):
    """A detector (as SSN): each video's ground truth as class "a", and a wrong class "b" detection."""

    def forward(self, inputs):
        return inputs.mean()

    def detections(self, outputs, labels):
        return [[Detection(v.video_id, *v.segments[0], "a", 0.9), Detection(v.video_id, *v.segments[0], "b", 0.8)]
                for v in labels]


def adapter(task, tmp_path):
    experiment = SimpleNamespace(runtime=SimpleNamespace(work_dir=str(tmp_path)))
    return LocalizationAdapter(task, experiment)


def batch():
    return {"inputs": torch.ones(2, 3, 4), "labels": list(VIDEOS), "indices": torch.tensor([0, 1])}


def test_proposals_are_scored_and_written_as_activitynet_json(tmp_path):
    task = LocalizationTask()
    run = adapter(task, tmp_path)
    outputs = run.eval_step(ExactProposer(), batch(), torch.device("cpu"))
    metrics, _ = run.compute_metrics(outputs, "val")
    # the best proposal of each video is exact, and the first AN step already looks at it: recall 1
    # everywhere, so the AUC is the area from 1 to 100 proposals per video, 99 of 100
    assert metrics == pytest.approx({"auc": 99.0, "AR@1": 1.0, "AR@5": 1.0, "AR@10": 1.0, "AR@100": 1.0})
    out = tmp_path / "results.json"
    task.write_predictions(None, "val", outputs, out)
    written = json.loads(out.read_text())
    assert written["results"]["x"] == [{"segment": [2.0, 6.0], "score": 1.0}, {"segment": [7.0, 9.0], "score": 0.5}]
    assert set(written["results"]) == {"x", "y"} and written["version"] == "VERSION 1.3"


def test_stages_without_proposals_write_one_csv_per_video(tmp_path):
    task = LocalizationTask(output_dir=str(tmp_path / "tem"))
    run = adapter(task, tmp_path)
    outputs = run.eval_step(ScoreWriter(), batch(), torch.device("cpu"))
    assert run.compute_metrics(outputs, "test") == ({}, {})
    lines = (tmp_path / "tem" / "v_y.csv").read_text().splitlines()
    assert lines[0] == "action,tmin" and len(lines) == 5
    assert [float(v) for v in lines[2].split(",")] == [1.0, 0.25]
    with pytest.raises(ConfigError, match="per-video outputs"):
        task.write_predictions(None, "test", outputs, tmp_path / "x.json")


def test_models_without_the_interface_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="neither proposals"):
        adapter(LocalizationTask(), tmp_path).eval_step(nn.Identity(), batch(), torch.device("cpu"))


def test_a_detector_is_scored_on_its_own_labelled_detections(tmp_path):
    task = LocalizationTask(metrics=[DetectionMAP(temporal_iou_thresholds=[0.5, 0.9])])
    run = adapter(task, tmp_path)
    outputs = run.eval_step(ExactDetector(), batch(), torch.device("cpu"))
    metrics, _ = run.compute_metrics(outputs, "test")
    # class "a" (the only one with ground truth) is found exactly in both videos; "b" counts for nothing
    assert metrics == {"mAP@0.5": 1.0, "mAP@0.9": 1.0, "average_mAP": 1.0}
    out = tmp_path / "detections.json"
    task.write_predictions(None, "test", outputs, out)
    written = json.loads(out.read_text())["results"]
    assert written["y"] == [{"segment": [2.0, 6.0], "score": 0.9, "label": "a"},
                            {"segment": [2.0, 6.0], "score": 0.8, "label": "b"}]
