"""HVU: the annotation format, HVULoss against hand-computed values, per-category mAP, a tiny run."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from actioncore.sdk import DataError
from actioncore_hvu import HVUDataset, HVULoss, HVUMeanAveragePrecision


def bce(x: float, y: float) -> float:
    return -(y * math.log(1 / (1 + math.exp(-x))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-x))))


SCORES = torch.tensor([[2.0, -1.0, 0.5, 0.0, 1.0], [-0.5, 1.5, -2.0, 3.0, 0.0]])
TARGETS = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0, 0.0]])  # categories a: 2 tags, b: 3
"""Clip 0 has only category a; clip 1 has both."""


def bce_table() -> list[list[float]]:
    return [[bce(float(s), float(t)) for s, t in zip(row, trow)] for row, trow in zip(SCORES, TARGETS)]


def test_hvu_loss_all_and_individual_match_hand_computation():
    b = bce_table()
    common = dict(categories=["a", "b"], category_nums=[2, 3])
    assert float(HVULoss(**common)(SCORES, TARGETS)["loss"]) == pytest.approx(sum(map(sum, b)) / 10)
    # masked: clip 0 counts only its 2 tags of a, clip 1 all 5
    masked = float(HVULoss(**common, with_mask=True)(SCORES, TARGETS)["loss"])
    assert masked == pytest.approx(((b[0][0] + b[0][1]) / 2 + sum(b[1]) / 5) / 2)
    out = HVULoss(**common, loss_type="individual", category_loss_weights=[1.0, 3.0], with_mask=True)(SCORES, TARGETS)
    a = (sum(b[0][:2]) / 2 + sum(b[1][:2]) / 2) / 2
    b_only = sum(b[1][2:]) / 3  # only clip 1 is annotated in b
    assert float(out["a_loss"]) == pytest.approx(a) and float(out["b_loss"]) == pytest.approx(b_only)
    assert float(out["loss"]) == pytest.approx(0.25 * a + 0.75 * b_only)
    # a category no clip of the batch has drops out of the weighting
    alone = HVULoss(**common, loss_type="individual", with_mask=True)(SCORES[:1], TARGETS[:1])
    assert float(alone["b_loss"]) == 0 and float(alone["loss"]) == pytest.approx(sum(b[0][:2]) / 2)
    with pytest.raises(ValueError, match="one of each per category"):
        HVULoss(categories=["a"], category_nums=[2, 3])


def test_per_category_map_counts_only_clips_annotated_in_the_category():
    metric = HVUMeanAveragePrecision(tag_categories=["a", "b"], tag_category_nums=[2, 3])
    scores = np.array([[0.9, 0.1, 0.9, 0.9, 0.9], [0.2, 0.8, 0.1, 0.7, 0.2], [0.6, 0.4, 0.1, 0.2, 0.8]])
    labels = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 1, 0], [1, 0, 0, 0, 1]])
    result = metric(scores, labels)
    # a: both tags ranked perfectly -> 1; b: clip 0 (no b tags, high b scores) is left out, so
    # tag 3 (positive: clip 1 at 0.7 over clip 2 at 0.2) and tag 4 (clip 2 at 0.8 over 0.2) rank perfectly
    assert result == {"a_mAP": 1.0, "b_mAP": 1.0}
    # counted, clip 0 (score 0.9 on tags 3 and 4, which it lacks) would halve both APs
    from actioncore_recognition import MeanAveragePrecision
    assert MeanAveragePrecision()(scores[:, 2:], labels[:, 2:])["mean_average_precision"] == pytest.approx(0.5)
    labels[1] = [0, 1, 0, 0, 1]  # tag 4: positive clip 1 (0.2) below negative clip 2 (0.8): AP 1/2
    labels[2] = [1, 0, 1, 0, 0]  # tag 2: positive clip 2 tied with negative clip 1 (0.1): one run, AP 1/2
    assert metric(scores, labels) == {"a_mAP": 1.0, "b_mAP": 0.5}


def write_hvu(path, entries):
    path.write_text(json.dumps(entries))
    return str(path)


def test_dataset_offsets_tags_by_category_and_names_bad_entries(tmp_path):
    ann = write_hvu(tmp_path / "hvu.json", [
        {"filename": "v1.mp4", "label": {"action": [1], "scene": [0, 2], "object": [5]}},
        {"frame_dir": "v2", "total_frames": 30, "label": {"scene": [1]}},
    ])
    data = HVUDataset(ann_file=ann, pipeline=[], root="videos", tag_categories=["action", "scene"],
                      tag_category_nums=[4, 3])
    assert [(r.source, r.label, r.num_frames) for r in data.records] == [
        ("videos/v1.mp4", (1, 4, 6), None), ("videos/v2", (5,), 30)]
    bad = write_hvu(tmp_path / "bad.json", [{"filename": "v1.mp4", "label": {"scene": [3]}}])
    with pytest.raises(DataError, match=r"bad.json: entry 1: tag 3 of 'scene' is outside \[0, 3\)"):
        HVUDataset(ann_file=bad, pipeline=[], tag_categories=["action", "scene"], tag_category_nums=[4, 3])
    with pytest.raises(DataError, match="missing.json: annotation file not found"):
        HVUDataset(ann_file=str(tmp_path / "missing.json"), pipeline=[])


PIPELINE = """[
  {{type = "sample_frames", clip_len = 4, frame_interval = 2, num_clips = 1, test_mode = {test}}},
  {{type = "decode"}},
  {{type = "resize", scale = [16, 16], keep_ratio = false}},
  {{type = "normalize", mean = [127.5, 127.5, 127.5], std = [64.0, 64.0, 64.0]}},
  {{type = "format_shape", input_format = "NCTHW"}},
]"""


def test_a_tiny_hvu_run_reports_each_categorys_map_and_loss(tmp_path, capsys):
    """The embedded set as HVU: category ``action`` = the 12 shapes, ``scene`` (3 tags) on even classes only."""
    from actioncore.sdk.data import synthesize
    from actioncore.cli import main
    from actioncore.testing import tiny_recognizer_toml, tiny_run_toml

    root = tmp_path / "synth"
    synthesize("recognition", root, seed=0, size="tiny")
    tables = []
    for split, test in (("train", "false"), ("val", "true")):
        entries = []
        for line in (root / f"{split}.txt").read_text().splitlines():
            name, label = line.split()
            k = int(label)
            entries.append({"filename": name, "label": {"action": [k], **({"scene": [k % 3]} if k % 2 == 0 else {})}})
        ann = write_hvu(tmp_path / f"hvu_{split}.json", entries)
        tables.append(f'[data.{split}]\ntype = "hvu"\nann_file = "{ann}"\nroot = "{root / "videos"}"\n'
                      f'tag_categories = ["action", "scene"]\ntag_category_nums = [12, 3]\n'
                      f'pipeline = {PIPELINE.format(test=test)}\n')
    exp = tmp_path / "exp.toml"
    exp.write_text('[task]\ntype = "hvu_recognition"\ntag_categories = ["action", "scene"]\ntag_category_nums = [12, 3]\n'
                   'loss_type = "individual"\nwith_mask = true\n'
                   + tiny_recognizer_toml().replace("num_classes = 12", "num_classes = 15")
                   + tiny_run_toml(tmp_path / "wd") + "".join(tables))
    assert main(["run", str(exp), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"action_mAP", "scene_mAP"} and all(0 < v <= 1 for v in metrics.values())
    events = [json.loads(line) for line in (tmp_path / "wd/log.jsonl").read_text().splitlines()]
    train = [e for e in events if e["event"] == "train"]
    assert len(train) == 6 and all({"action_loss", "scene_loss"} <= set(e) for e in train)
    # bench model times the step on a real batch: multi-hot targets, which blank clips do not carry
    assert main(["bench", "model", str(exp), "--iterations", "1", "--json"]) == 0
    bench = json.loads(capsys.readouterr().out)
    assert bench["train_batch_from"] == "the first batch of data.train" and bench["train_clips_per_s"] > 0
    missing = tmp_path / "nowhere.json"
    assert main(["bench", "model", str(exp), "--set", f'data.train.ann_file="{missing}"']) == 2
    err = capsys.readouterr().err
    assert "the hvu_recognition task's training step does not run on blank clips" in err and str(missing) in err
    wrong = exp.read_text().replace("num_classes = 15", "num_classes = 12")
    exp.write_text(wrong)
    assert main(["run", str(exp)]) != 0
    assert "model.head.num_classes = 12, but the tag categories ['action', 'scene'] have 15 tags" in capsys.readouterr().err
